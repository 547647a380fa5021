package fileq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The layouts below are drawn in the package doc.
const (
	// segMagic opens every segment file. Part of the format.
	segMagic = "m1fileq\x00"
	// segVersion is the segment format version. Part of the format.
	segVersion = 1
	// segHeaderSize is the size of the segment header. Part of the format.
	segHeaderSize = 32

	// frameHeaderSize is the size of a record frame's header. Part of the format.
	frameHeaderSize = 28
	// sealLen in a frame's length field marks the seal frame that ends a
	// segment; its pos field is the first position of the next segment.
	// Part of the format.
	sealLen = 0xFFFFFFFF
	// maxRecordLen bounds the length field of a data frame. Part of the format.
	maxRecordLen = 1 << 30

	// posMagic opens the consumer-position file. Part of the format.
	posMagic = "m1fqpos\x00"
	// posFileSize is the size of the consumer-position file. Part of the format.
	posFileSize = 40

	// consMagic opens the consumer file. Part of the format.
	consMagic = "m1fqcon\x00"
	// consFileSize is the size of the consumer file's record. Part of the format.
	consFileSize = 24
)

// castagnoli is CRC-32C, computed in hardware on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var le = binary.LittleEndian

// errTorn reports a frame cut short by the end of the file: a write that
// did not finish (a killed producer, a full disk).
var errTorn = errors.New("fileq: torn frame")

// errCorrupt reports a frame whose bytes are all there but whose checksum
// does not match.
var errCorrupt = errors.New("fileq: corrupt frame")

// frame is a decoded record frame header.
type frame struct {
	len  uint32 // data length, or sealLen
	dcrc uint32
	pos  uint64
	time int64 // put time, Unix nanoseconds
}

func (f frame) seal() bool { return f.len == sealLen }

// size is the number of bytes the frame occupies in its segment.
func (f frame) size() int64 {
	if f.seal() {
		return frameHeaderSize
	}
	return frameHeaderSize + int64(f.len)
}

// appendFrame appends the frame for data at pos to dst.
func appendFrame(dst []byte, pos uint64, putTime int64, data []byte) []byte {
	var h [frameHeaderSize]byte
	le.PutUint32(h[0:], uint32(len(data)))
	le.PutUint32(h[4:], crc32.Checksum(data, castagnoli))
	le.PutUint64(h[8:], pos)
	le.PutUint64(h[16:], uint64(putTime))
	le.PutUint32(h[24:], crc32.Checksum(h[:24], castagnoli))
	dst = append(dst, h[:]...)
	return append(dst, data...)
}

// appendSeal appends a seal frame naming next, the first position of the
// next segment.
func appendSeal(dst []byte, next uint64, putTime int64) []byte {
	var h [frameHeaderSize]byte
	le.PutUint32(h[0:], sealLen)
	le.PutUint64(h[8:], next)
	le.PutUint64(h[16:], uint64(putTime))
	le.PutUint32(h[24:], crc32.Checksum(h[:24], castagnoli))
	return append(dst, h[:]...)
}

// decodeFrameHeader decodes the header at the start of b. errTorn when b is
// shorter than a header, errCorrupt when the header checksum fails or the
// length is impossible.
func decodeFrameHeader(b []byte, maxLen int) (frame, error) {
	if len(b) < frameHeaderSize {
		return frame{}, errTorn
	}
	if crc32.Checksum(b[:24], castagnoli) != le.Uint32(b[24:]) {
		return frame{}, errCorrupt
	}
	f := frame{len: le.Uint32(b[0:]), dcrc: le.Uint32(b[4:]), pos: le.Uint64(b[8:]), time: int64(le.Uint64(b[16:]))}
	if f.seal() {
		if f.dcrc != 0 {
			return frame{}, errCorrupt
		}
		return f, nil
	}
	if f.len > maxRecordLen || (maxLen > 0 && int(f.len) > maxLen) {
		return frame{}, errCorrupt
	}
	return f, nil
}

// decodeFrame decodes the whole frame at the start of b and returns it with
// its data (aliasing b). errTorn when b ends inside the frame, errCorrupt
// when a checksum fails.
func decodeFrame(b []byte, maxLen int) (frame, []byte, error) {
	f, err := decodeFrameHeader(b, maxLen)
	if err != nil {
		return f, nil, err
	}
	if f.seal() {
		return f, nil, nil
	}
	end := frameHeaderSize + int(f.len)
	if len(b) < end {
		return f, nil, errTorn
	}
	data := b[frameHeaderSize:end]
	if crc32.Checksum(data, castagnoli) != f.dcrc {
		return f, nil, errCorrupt
	}
	return f, data, nil
}

// segHeader is a segment file's header.
type segHeader struct {
	maxRecord uint32
	firstPos  uint64
}

func (h segHeader) encode() []byte {
	b := make([]byte, segHeaderSize)
	copy(b, segMagic)
	le.PutUint32(b[8:], segVersion)
	le.PutUint32(b[12:], h.maxRecord)
	le.PutUint64(b[16:], h.firstPos)
	le.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

func decodeSegHeader(b []byte) (segHeader, error) {
	if len(b) < segHeaderSize {
		return segHeader{}, fmt.Errorf("segment header: %d bytes: %w", len(b), errCorrupt)
	}
	if string(b[:8]) != segMagic || crc32.Checksum(b[:28], castagnoli) != le.Uint32(b[28:]) {
		return segHeader{}, fmt.Errorf("segment header: bad magic or checksum: %w", errCorrupt)
	}
	if v := le.Uint32(b[8:]); v != segVersion {
		return segHeader{}, fmt.Errorf("segment header: version %d: %w", v, errCorrupt)
	}
	return segHeader{maxRecord: le.Uint32(b[12:]), firstPos: le.Uint64(b[16:])}, nil
}

// posFile is the consumer-position file's content.
type posFile struct {
	commit  uint64 // every position below is committed
	created int64  // queue creation time, Unix nanoseconds
}

func (p posFile) encode() []byte {
	b := make([]byte, posFileSize)
	copy(b, posMagic)
	le.PutUint32(b[8:], segVersion)
	le.PutUint64(b[16:], p.commit)
	le.PutUint64(b[24:], uint64(p.created))
	le.PutUint32(b[12:], crc32.Checksum(b[16:], castagnoli))
	return b
}

func decodePosFile(b []byte) (posFile, error) {
	if len(b) != posFileSize || string(b[:8]) != posMagic || le.Uint32(b[8:]) != segVersion ||
		crc32.Checksum(b[16:], castagnoli) != le.Uint32(b[12:]) {
		return posFile{}, fmt.Errorf("position file: %w", errCorrupt)
	}
	return posFile{commit: le.Uint64(b[16:]), created: int64(le.Uint64(b[24:]))}, nil
}

// consFile is the consumer file's record: who consumes, and how far it took.
type consFile struct {
	pid   uint32
	taken uint64 // every position below was taken by some consumer
}

func (c consFile) encode(b []byte) []byte {
	b = append(b[:0], consMagic...)
	b = le.AppendUint32(b, c.pid)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, c.taken)
	le.PutUint32(b[12:], crc32.Checksum(b[16:24], castagnoli)^c.pid)
	return b
}

func decodeConsFile(b []byte) (consFile, bool) {
	if len(b) < consFileSize || string(b[:8]) != consMagic {
		return consFile{}, false
	}
	c := consFile{pid: le.Uint32(b[8:]), taken: le.Uint64(b[16:])}
	if crc32.Checksum(b[16:24], castagnoli)^c.pid != le.Uint32(b[12:]) {
		return consFile{}, false
	}
	return c, true
}
