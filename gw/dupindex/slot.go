package dupindex

import (
	"sync/atomic"
	"unsafe"
)

// Slot states, the top two bits of a slot's state word (part of the format).
const (
	stEmpty   = 0 // never used since the file was created
	stWriting = 1 // claimed by an inserter that is writing the key
	stLive    = 2 // holds a key and its insertion time
	stFree    = 3 // held a key that was removed
)

// State word fields (part of the format):
//
//	bits 63-62  state
//	bits 61-32  aux:  stLive: the key's 30-bit tag; stWriting: the claimer's stripe lock
//	bits 31-0   low:  stLive: insertion time, unix seconds; stWriting: a claim nonce
const (
	auxMask = 1<<30 - 1
)

func mkWord(state, aux, low uint32) uint64 {
	return uint64(state)<<62 | uint64(aux&auxMask)<<32 | uint64(low)
}

func wordState(w uint64) uint32 { return uint32(w >> 62) }
func wordAux(w uint64) uint32   { return uint32(w>>32) & auxMask }
func wordLow(w uint64) uint32   { return uint32(w) }

// word returns the 8-byte word at off in the mapping. Every offset used is a
// multiple of 8 and the mapping is page aligned, so the word is aligned for
// atomic access. All shared words are read and written atomically: other
// processes change them at any time.
func (x *Index) word(off int64) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&x.m[off]))
}

func (x *Index) stateWord(slot uint64) *atomic.Uint64 {
	return x.word(x.statesOff + int64(slot)*stateSize)
}

func (x *Index) keyWord(slot uint64, i int) *atomic.Uint64 {
	return x.word(x.keysOff + int64(slot)*keySize + int64(i)*8)
}

func (x *Index) keyEquals(slot uint64, k *key) bool {
	for i := range k {
		if x.keyWord(slot, i).Load() != k[i] {
			return false
		}
	}
	return true
}

func (x *Index) storeKey(slot uint64, k *key) {
	for i := range k {
		x.keyWord(slot, i).Store(k[i])
	}
}

func (x *Index) counter(i int) *atomic.Uint64 {
	return x.word(counterOffset + int64(i)*counterStride)
}

func (x *Index) bump(i int) { x.counter(i).Add(1) }
