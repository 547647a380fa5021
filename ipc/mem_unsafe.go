package ipc

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Words of shared memory used with sync/atomic. Segment memory is ordinary
// memory mapped into several processes, and Go's atomics compile to the
// same locked instructions as C's, so they order reads and writes across
// processes as they do across goroutines. Offsets must be aligned to the
// word's size; shmat returns page-aligned memory, so an aligned offset is
// an aligned address.

// Uint64At returns the 64-bit word at off in mem.
func Uint64At(mem []byte, off int) *atomic.Uint64 {
	if off < 0 || off+8 > len(mem) || off%8 != 0 {
		panic(fmt.Sprintf("ipc: uint64 at %d outside or misaligned in %d bytes", off, len(mem)))
	}
	return (*atomic.Uint64)(unsafe.Pointer(&mem[off]))
}

// Uint32At returns the 32-bit word at off in mem.
func Uint32At(mem []byte, off int) *atomic.Uint32 {
	if off < 0 || off+4 > len(mem) || off%4 != 0 {
		panic(fmt.Sprintf("ipc: uint32 at %d outside or misaligned in %d bytes", off, len(mem)))
	}
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// Int64At returns the signed 64-bit word at off in mem.
func Int64At(mem []byte, off int) *atomic.Int64 {
	if off < 0 || off+8 > len(mem) || off%8 != 0 {
		panic(fmt.Sprintf("ipc: int64 at %d outside or misaligned in %d bytes", off, len(mem)))
	}
	return (*atomic.Int64)(unsafe.Pointer(&mem[off]))
}
