package dist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The journal file's constants, part of the format (see the package doc).
const (
	journalMagic   = "M1DISTJ1"
	journalHeadLen = 16
	gwIDLen        = 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// journalGroup is one PutBatch to a sender queue: the queue's tail before
// the put and the GW_IDs put, in order. A group with an empty queue name
// lists records known to be on a sender queue already (carried over from a
// recovered journal).
type journalGroup struct {
	queue  string
	sender string
	tail   uint64
	ids    []string
}

// journal is dist's intent file: rewritten before every put to a sender
// queue so that, after a crash, dist knows which redelivered records are
// already on a sender queue.
type journal struct {
	f   *os.File
	buf []byte
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dist journal: %w", err)
	}
	return &journal{f: f}, nil
}

func (j *journal) close() error { return j.f.Close() }

// write replaces the journal's content with groups. One pwrite: a process
// killed during it leaves a torn body whose CRC fails, which reads as an
// empty journal; that is right because nothing of this write was put yet.
func (j *journal) write(groups []journalGroup) error {
	b := j.buf[:0]
	b = append(b, journalMagic...)
	b = binary.LittleEndian.AppendUint32(b, 0) // body length
	b = binary.LittleEndian.AppendUint32(b, 0) // crc
	b = binary.LittleEndian.AppendUint16(b, uint16(len(groups)))
	for _, g := range groups {
		b = append(b, byte(len(g.queue)))
		b = append(b, g.queue...)
		b = append(b, byte(len(g.sender)))
		b = append(b, g.sender...)
		b = binary.LittleEndian.AppendUint64(b, g.tail)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g.ids)))
		for _, id := range g.ids {
			var one [gwIDLen]byte
			copy(one[:], id)
			b = append(b, one[:]...)
		}
	}
	body := b[journalHeadLen:]
	binary.LittleEndian.PutUint32(b[8:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(body, crcTable))
	j.buf = b
	if _, err := j.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("dist journal: %w", err)
	}
	return nil
}

// errJournalCorrupt means the journal's body does not check; it is read as
// empty.
var errJournalCorrupt = errors.New("dist journal: corrupt or torn")

// read returns the groups of the last write.
func (j *journal) read() ([]journalGroup, error) {
	b, err := io.ReadAll(io.NewSectionReader(j.f, 0, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("dist journal: %w", err)
	}
	return decodeJournal(b)
}

func decodeJournal(b []byte) ([]journalGroup, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < journalHeadLen || string(b[:8]) != journalMagic {
		return nil, errJournalCorrupt
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n > len(b)-journalHeadLen {
		return nil, errJournalCorrupt
	}
	body := b[journalHeadLen : journalHeadLen+n]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[12:]) {
		return nil, errJournalCorrupt
	}
	r := reader{b: body, ok: true}
	cnt := int(r.u16())
	var out []journalGroup
	for i := 0; i < cnt && r.ok; i++ {
		var g journalGroup
		g.queue = string(r.bytes(int(r.u8())))
		g.sender = string(r.bytes(int(r.u8())))
		g.tail = r.u64()
		k := int(r.u32())
		for x := 0; x < k && r.ok; x++ {
			g.ids = append(g.ids, string(r.bytes(gwIDLen)))
		}
		out = append(out, g)
	}
	if !r.ok {
		return nil, errJournalCorrupt
	}
	return out, nil
}

type reader struct {
	b  []byte
	ok bool
}

func (r *reader) bytes(n int) []byte {
	if !r.ok || n > len(r.b) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *reader) u8() uint8 {
	if v := r.bytes(1); v != nil {
		return v[0]
	}
	return 0
}
func (r *reader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}
func (r *reader) u32() uint32 {
	if v := r.bytes(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}
func (r *reader) u64() uint64 {
	if v := r.bytes(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}
