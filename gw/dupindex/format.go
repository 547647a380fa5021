package dupindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"time"
)

// File format constants. Every constant in this block is part of the format:
// changing one makes existing files unreadable, so it needs a new
// formatVersion.
const (
	// fileMagic opens every index file.
	fileMagic = "M1DUPIDX"
	// formatVersion is the version of the layout drawn in the package doc.
	formatVersion = 1
	// headerSize is the size of the header; the lock array starts here.
	headerSize = 4096
	// slotSize is the file space of one slot: an 8-byte state word in the
	// state array and 32 key bytes in the key array.
	slotSize = 40
	// stateSize is the size of a state word.
	stateSize = 8
	// keySize is the stored key: CLIENT_ID (10) + MSG_KEY (20) + 2 zero bytes.
	keySize = 32
	// clientIDLen and msgKeyLen are the protocol's field lengths (AN 10, AN 20).
	clientIDLen = 10
	msgKeyLen   = 20
	// lockSize is the size of one lock word.
	lockSize = 8
	// crcOffset holds the CRC-32C of header bytes [0, crcOffset).
	crcOffset = 64
	// counterOffset is where the counters start, one per 64-byte line so
	// processes bumping different counters do not share a cache line.
	counterOffset = 128
	counterStride = 64
	// pageSize is the alignment of the lock and slot arrays.
	pageSize = 4096
)

// Header field offsets (part of the format).
const (
	offMagic     = 0  // [8]byte fileMagic
	offVersion   = 8  // uint32 formatVersion
	offHdrSize   = 12 // uint32 headerSize
	offSlotSize  = 16 // uint32 slotSize
	offProbe     = 20 // uint32 probe window in slots
	offSlotCount = 24 // uint64 number of slots
	offLockCount = 32 // uint32 number of lock words (power of two)
	offReserved  = 36 // uint32 zero
	offWindow    = 40 // int64 duplicate window in seconds
	offCreated   = 48 // int64 creation time, unix seconds
	offSeed      = 56 // uint64 hash seed, random per file
)

// Counter indexes (part of the format): counter i lives at
// counterOffset + i*counterStride.
const (
	ctrInserted         = iota // CheckAndInsert calls that recorded a new key
	ctrDuplicates              // CheckAndInsert calls that found the key
	ctrFull                    // CheckAndInsert calls that returned ErrIndexFull
	ctrRemoved                 // Remove calls that removed an entry
	ctrReusedExpired           // inserts that overwrote an expired entry
	ctrReclaimedWriting        // inserts that took a slot left half-written by a dead process
	ctrLocksStolen             // stripe locks taken over from a dead process
	numCounters
)

// Limits on the geometry (part of the format: files outside them are refused).
const (
	maxSlots  = 1 << 36
	maxProbe  = 4096
	maxLocks  = 1 << 30 // the lock index must fit the state word's 30-bit aux field
	maxWindow = 1 << 31 // seconds; insertion times are uint32 unix seconds
)

// Geometry is what a file is created with and must be opened with.
type Geometry struct {
	// Slots is the number of entries the table holds.
	Slots uint64
	// Probe is how many consecutive slots a key may occupy from its home slot.
	Probe uint32
	// Locks is the number of stripe lock words (a power of two).
	Locks uint32
	// Window is the duplicate window, whole seconds.
	Window time.Duration
}

func (g Geometry) String() string {
	return fmt.Sprintf("slots=%d probe=%d locks=%d window=%s", g.Slots, g.Probe, g.Locks, g.Window)
}

// validate reports the first field of g outside the format's limits.
func (g Geometry) validate() error {
	switch {
	case g.Slots == 0 || g.Slots > maxSlots:
		return fmt.Errorf("slots %d outside 1..%d", g.Slots, uint64(maxSlots))
	case g.Probe == 0 || g.Probe > maxProbe || uint64(g.Probe) > g.Slots:
		return fmt.Errorf("probe %d outside 1..min(%d, slots)", g.Probe, maxProbe)
	case g.Locks == 0 || g.Locks > maxLocks || bits.OnesCount32(g.Locks) != 1:
		return fmt.Errorf("locks %d not a power of two in 1..%d", g.Locks, maxLocks)
	case g.Window < time.Second || g.Window > maxWindow*time.Second || g.Window%time.Second != 0:
		return fmt.Errorf("window %s not whole seconds in 1s..%ds", g.Window, int64(maxWindow))
	}
	return nil
}

// locksOffset, statesOffset, keysOffset and fileSize place the arrays of a
// file of geometry g. State words are kept apart from keys so that a scan of
// a probe window reads 8 bytes per slot, not 40.
func (g Geometry) locksOffset() int64 { return headerSize }

func (g Geometry) statesOffset() int64 {
	return headerSize + roundUp(int64(g.Locks)*lockSize, pageSize)
}

func (g Geometry) keysOffset() int64 {
	return g.statesOffset() + roundUp(int64(g.Slots)*stateSize, pageSize)
}

func (g Geometry) fileSize() int64 {
	return g.keysOffset() + int64(g.Slots)*keySize
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// Header is the decoded file header.
type Header struct {
	Geometry
	Version uint32
	Created time.Time
	Seed    uint64
}

// ErrBadHeader is returned (wrapped, with the reason) when a file is not an
// index file of this format: wrong magic, version, sizes or checksum.
var ErrBadHeader = errors.New("dupindex: bad file header")

// encodeHeader writes h into buf[:headerSize].
func encodeHeader(buf []byte, h Header) {
	clear(buf[:headerSize])
	le := binary.LittleEndian
	copy(buf[offMagic:], fileMagic)
	le.PutUint32(buf[offVersion:], formatVersion)
	le.PutUint32(buf[offHdrSize:], headerSize)
	le.PutUint32(buf[offSlotSize:], slotSize)
	le.PutUint32(buf[offProbe:], h.Probe)
	le.PutUint64(buf[offSlotCount:], h.Slots)
	le.PutUint32(buf[offLockCount:], h.Locks)
	le.PutUint64(buf[offWindow:], uint64(h.Window/time.Second))
	le.PutUint64(buf[offCreated:], uint64(h.Created.Unix()))
	le.PutUint64(buf[offSeed:], h.Seed)
	le.PutUint32(buf[crcOffset:], crc32.Checksum(buf[:crcOffset], castagnoli))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeHeader decodes and checks the header of a file of fileSize bytes
// whose first bytes are buf. It never panics, whatever buf holds.
func decodeHeader(buf []byte, fileSize int64) (Header, error) {
	var h Header
	if len(buf) < headerSize || fileSize < headerSize {
		return h, fmt.Errorf("%w: file is %d bytes, shorter than the %d-byte header", ErrBadHeader, fileSize, headerSize)
	}
	le := binary.LittleEndian
	if string(buf[offMagic:offMagic+len(fileMagic)]) != fileMagic {
		return h, fmt.Errorf("%w: magic %q, want %q", ErrBadHeader, buf[offMagic:offMagic+len(fileMagic)], fileMagic)
	}
	if v := le.Uint32(buf[offVersion:]); v != formatVersion {
		return h, fmt.Errorf("%w: format version %d, this program reads %d", ErrBadHeader, v, formatVersion)
	}
	if got, want := le.Uint32(buf[crcOffset:]), crc32.Checksum(buf[:crcOffset], castagnoli); got != want {
		return h, fmt.Errorf("%w: header checksum %08x, computed %08x", ErrBadHeader, got, want)
	}
	if v := le.Uint32(buf[offHdrSize:]); v != headerSize {
		return h, fmt.Errorf("%w: header size %d, want %d", ErrBadHeader, v, headerSize)
	}
	if v := le.Uint32(buf[offSlotSize:]); v != slotSize {
		return h, fmt.Errorf("%w: slot size %d, want %d", ErrBadHeader, v, slotSize)
	}
	if v := le.Uint32(buf[offReserved:]); v != 0 {
		return h, fmt.Errorf("%w: reserved field is %d, want 0", ErrBadHeader, v)
	}
	h.Version = formatVersion
	h.Probe = le.Uint32(buf[offProbe:])
	h.Slots = le.Uint64(buf[offSlotCount:])
	h.Locks = le.Uint32(buf[offLockCount:])
	w := le.Uint64(buf[offWindow:])
	if w == 0 || w > maxWindow {
		return h, fmt.Errorf("%w: window %d s outside 1..%d", ErrBadHeader, w, int64(maxWindow))
	}
	h.Window = time.Duration(w) * time.Second
	h.Created = time.Unix(int64(le.Uint64(buf[offCreated:])), 0)
	h.Seed = le.Uint64(buf[offSeed:])
	if err := h.Geometry.validate(); err != nil {
		return h, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if want := h.fileSize(); fileSize != want {
		return h, fmt.Errorf("%w: file is %d bytes, geometry %s needs %d", ErrBadHeader, fileSize, h.Geometry, want)
	}
	return h, nil
}
