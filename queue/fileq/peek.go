package fileq

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Peek calls visit with every record of the file queue in dir from its
// committed position on (records taken and not committed included), in
// position order, without taking anything: it takes no lock and writes no
// file, so it runs beside the producers and the consumer of a live queue.
// tkm_files uses it to find out, after a kill, which records of its
// interrupted batch a lane still holds. visit returns false to stop; data
// is valid only during the call.
//
// What a live queue does meanwhile: a segment committed and deleted before
// Peek reaches it is skipped (its records were committed); records appended
// while Peek runs may or may not be seen. A torn or corrupt frame ends the
// look at its segment, as it ends the consumer's (which sets it aside). A
// position file that cannot be decoded reads as position 0, as the
// consumer's recovery then delivers from the oldest segment. A directory
// that does not exist is an empty queue.
func Peek(dir string, visit func(pos uint64, data []byte) bool) error {
	var commit uint64
	b, err := os.ReadFile(filepath.Join(dir, positionName))
	switch {
	case err == nil:
		if pf, derr := decodePosFile(b); derr == nil {
			commit = pf.commit
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("fileq: peek %s: %w", dir, err)
	}
	segs, err := listSegments(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fileq: peek %s: %w", dir, err)
	}
	if len(segs) == 0 {
		return nil
	}
	cur := segs[0]
	for _, s := range segs {
		if s <= commit {
			cur = s
		}
	}
	for {
		more, err := peekSegment(dir, cur, commit, visit)
		if err != nil || !more {
			return err
		}
		// The next segment, listed afresh: it may have been created (a
		// seal) since the first listing.
		if segs, err = listSegments(dir); err != nil {
			return fmt.Errorf("fileq: peek %s: %w", dir, err)
		}
		next, found := uint64(0), false
		for _, s := range segs {
			if s > cur {
				next, found = s, true
				break
			}
		}
		if !found {
			return nil
		}
		cur = next
	}
}

// peekSegment visits the data frames of segment first at positions from
// commit on; more is false when visit stopped the look.
func peekSegment(dir string, first, commit uint64, visit func(uint64, []byte) bool) (more bool, err error) {
	path := filepath.Join(dir, segName(first))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil // committed and deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("fileq: peek %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("fileq: peek %s: %w", path, err)
	}
	hdr := make([]byte, segHeaderSize)
	if n, _ := f.ReadAt(hdr, 0); n < segHeaderSize {
		return true, nil
	}
	if h, err := decodeSegHeader(hdr); err != nil || h.firstPos != first {
		return true, nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, segHeaderSize, fi.Size()-segHeaderSize), 256<<10)
	var fh [frameHeaderSize]byte
	var data []byte
	next := first
	for {
		if _, err := io.ReadFull(br, fh[:]); err != nil {
			return true, nil // end of the segment, or a torn frame
		}
		fr, err := decodeFrameHeader(fh[:], 0)
		if err != nil || fr.seal() || fr.pos != next {
			return true, nil
		}
		if cap(data) < int(fr.len) {
			data = make([]byte, fr.len)
		}
		data = data[:fr.len]
		if _, err := io.ReadFull(br, data); err != nil {
			return true, nil
		}
		if crc32.Checksum(data, castagnoli) != fr.dcrc {
			return true, nil
		}
		if fr.pos >= commit && !visit(fr.pos, data) {
			return false, nil
		}
		next++
	}
}
