package fileq

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// setAside moves segment first aside to <segment>.bad because of a bad frame
// (or header, off 0) at offset off, where position next was due. The
// segment is replaced by its good prefix and a seal, so every record before
// off stays deliverable and readers go on to the next segment. For the
// tail segment the seal names a position past any the bad bytes could hold,
// so no position is used twice, and the next segment is created. Called
// under the append lock.
func (q *Queue) setAside(first uint64, off int64, next uint64, why string) error {
	path := filepath.Join(q.dir, segName(first))
	old, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fileq: open %s: %w", path, err)
	}
	defer old.Close()
	fi, err := old.Stat()
	if err != nil {
		return fmt.Errorf("fileq: stat %s: %w", path, err)
	}
	if off < segHeaderSize {
		off, next = 0, first
	}
	segs, err := listSegments(q.dir)
	if err != nil {
		return fmt.Errorf("fileq: list %s: %w", q.dir, err)
	}
	var succ uint64
	tail := true
	for _, s := range segs {
		if s > first {
			succ, tail = s, false
			break
		}
	}
	bound := uint64(max(fi.Size()-off, 0) / frameHeaderSize)
	sealPos := succ
	if tail {
		sealPos = next + bound
	}

	var content []byte
	if off == 0 {
		content = segHeader{maxRecord: uint32(q.opts.RecordSize), firstPos: first}.encode()
	} else {
		content = make([]byte, off)
		if _, err := old.ReadAt(content, 0); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("fileq: read %s: %w", path, err)
		}
	}
	if sealPos != first {
		content = appendSeal(content, sealPos, 0)
	}
	bad := path + badSuffix
	for i := 1; ; i++ {
		if _, err := os.Lstat(bad); errors.Is(err, fs.ErrNotExist) {
			break
		}
		bad = fmt.Sprintf("%s%s.%d", path, badSuffix, i)
	}
	if err := os.Link(path, bad); err != nil {
		return fmt.Errorf("fileq: set aside %s: %w", path, err)
	}
	if err := writeFileAtomic(path, content, q.opts.Mode, true); err != nil {
		return err
	}
	if tail && sealPos != first {
		if err := q.createSegment(sealPos); err != nil {
			return err
		}
	}
	fields := []zap.Field{
		zap.String("segment", path), zap.String("moved_to", bad), zap.String("reason", why),
		zap.Int64("offset", off), zap.Uint64("records_kept", next-first),
	}
	if tail {
		fields = append(fields, zap.Uint64("records_set_aside_at_most", bound),
			zap.String("note", "tail segment: the count is an upper bound from its size"))
		q.corrupt.Add(bound)
	} else {
		fields = append(fields, zap.Uint64("records_set_aside", succ-next),
			zap.Uint64("first_position", next), zap.Uint64("last_position", succ-1))
		q.corrupt.Add(succ - next)
	}
	q.log.Warn("fileq: corrupt segment moved aside; its records from the offset on are not delivered", fields...)
	return nil
}

// verify checks every segment from the one holding pos to the tail, as a
// consumer's open does: a torn tail is cut, a corrupt frame is set aside, a
// missing seal is restored. Called under the append lock.
func (q *Queue) verify(pos uint64) error {
	for rounds := 0; rounds < 10000; rounds++ {
		segs, err := listSegments(q.dir)
		if err != nil {
			return fmt.Errorf("fileq: list %s: %w", q.dir, err)
		}
		start := 0
		for i, s := range segs {
			if s <= pos {
				start = i
			}
		}
		again := false
		for i := start; i < len(segs) && !again; i++ {
			first := segs[i]
			tail := i == len(segs)-1
			again, err = q.verifySegment(first, tail, segs)
			if err != nil {
				return err
			}
		}
		if !again {
			return nil
		}
	}
	return fmt.Errorf("fileq: %s: verification does not settle", q.dir)
}

// verifySegment checks one segment; again says the directory changed.
func (q *Queue) verifySegment(first uint64, tail bool, segs []uint64) (again bool, err error) {
	path := filepath.Join(q.dir, segName(first))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("fileq: open %s: %w", path, err)
	}
	defer f.Close()
	hdr := make([]byte, segHeaderSize)
	n, _ := f.ReadAt(hdr, 0)
	if h, err := decodeSegHeader(hdr[:n]); err != nil || h.firstPos != first {
		return true, q.setAside(first, 0, first, "segment header checksum")
	}
	r, err := scanSegment(f, segHeaderSize, first, 0, nil)
	if err != nil {
		return false, err
	}
	var succ uint64
	for _, s := range segs {
		if s > first {
			succ = s
			break
		}
	}
	switch {
	case r.how == scanCorrupt:
		return true, q.setAside(first, r.end, r.next, r.why)
	case r.how == scanSeal && tail:
		return true, q.createSegment(r.sealPos)
	case r.how == scanSeal:
		if r.sealPos != succ {
			q.log.Warn("fileq: seal names a segment that is not the next one",
				zap.String("segment", path), zap.Uint64("seal", r.sealPos), zap.Uint64("next_segment", succ))
		}
		return false, nil
	case tail && r.how == scanTorn:
		q.log.Info("fileq: cutting torn frame at tail", zap.String("segment", path),
			zap.Int64("offset", r.end), zap.Int64("bytes", r.size-r.end))
		if err := f.Truncate(r.end); err != nil {
			return false, fmt.Errorf("fileq: truncate %s: %w", path, err)
		}
		return false, unix.Fdatasync(int(f.Fd()))
	case tail:
		return false, nil
	case r.how == scanTorn:
		return true, q.setAside(first, r.end, r.next, "torn frame in a sealed segment")
	}
	// A non-tail segment ending cleanly without its seal: the seal was lost
	// (SyncNone and a machine crash). Restore it.
	if r.next != succ {
		q.log.Warn("fileq: segment ends before the next segment begins; positions missing",
			zap.String("segment", path), zap.Uint64("first_missing", r.next), zap.Uint64("next_segment", succ))
	}
	if _, err := f.WriteAt(appendSeal(nil, succ, 0), r.end); err != nil {
		return false, wrapWrite("seal", path, err)
	}
	return false, unix.Fdatasync(int(f.Fd()))
}

// removeTemps deletes files a writer left half-written. Called under the
// append lock by the consumer, so no writer is under way.
func (q *Queue) removeTemps() {
	ents, err := os.ReadDir(q.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tmpSuffix) {
			os.Remove(filepath.Join(q.dir, e.Name()))
		}
	}
}
