package dupindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// ErrBadKey is returned (wrapped) when CLIENT_ID is longer than 10 bytes or
// MSG_KEY longer than 20: the protocol's AN 10 and AN 20.
var ErrBadKey = errors.New("dupindex: bad key")

// key is the stored form of (CLIENT_ID, MSG_KEY): both padded with spaces to
// their protocol lengths (trailing spaces are not part of an AN value, so "A"
// and "A " are one key), then two zero bytes, read as four little-endian
// words.
type key [keySize / 8]uint64

func makeKey(clientID, msgKey string) (key, error) {
	var k key
	if len(clientID) > clientIDLen {
		return k, fmt.Errorf("%w: CLIENT_ID %q is %d bytes, at most %d", ErrBadKey, clientID, len(clientID), clientIDLen)
	}
	if len(msgKey) > msgKeyLen {
		return k, fmt.Errorf("%w: MSG_KEY %q is %d bytes, at most %d", ErrBadKey, msgKey, len(msgKey), msgKeyLen)
	}
	var b [keySize]byte
	for i := range clientIDLen + msgKeyLen {
		b[i] = ' '
	}
	copy(b[:clientIDLen], clientID)
	copy(b[clientIDLen:clientIDLen+msgKeyLen], msgKey)
	for i := range k {
		k[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
	return k, nil
}

// String returns the key as "CLIENT_ID/MSG_KEY" for messages.
func (k key) String() string {
	var b [keySize]byte
	for i, w := range k {
		binary.LittleEndian.PutUint64(b[i*8:], w)
	}
	return fmt.Sprintf("%q/%q", b[:clientIDLen], b[clientIDLen:clientIDLen+msgKeyLen])
}

// hashed is where a key lives: its two home slots, its stripe lock and the tag
// kept in the state word to skip most key comparisons.
type hashed struct {
	home [2]uint64
	lock uint32
	tag  uint32
}

// place hashes k with the file's seed. The hash is part of the format: a
// file written by one program must be read the same way by another. It is a
// seeded multiply-xorshift, not a cryptographic hash; the random per-file
// seed keeps a client from choosing MSG_KEYs that pile into one probe window
// without knowing the seed.
func place(seed uint64, k *key, slots uint64, locks uint32) hashed {
	h := seed ^ 0x9e3779b97f4a7c15
	for _, w := range k {
		h = (h ^ w) * 0xff51afd7ed558ccd
		h ^= h >> 32
	}
	h = fmix64(h)
	h1, _ := bits.Mul64(h, slots)
	h2, _ := bits.Mul64(fmix64(h^0x5851f42d4c957f2d), slots)
	return hashed{
		home: [2]uint64{h1, h2},
		lock: uint32(h) & (locks - 1),
		tag:  uint32(fmix64(h^seed)) & auxMask,
	}
}

// fmix64 is MurmurHash3's finalizer.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
