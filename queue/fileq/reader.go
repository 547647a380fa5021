package fileq

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readStatus says what reader.read found.
type readStatus int

const (
	readFrame readStatus = iota // a data frame
	readSeal                    // the seal: go on to the segment it names
	readWait                    // nothing complete yet at the tail
	readBad                     // a bad frame: repair
)

// reader reads frames from one segment through a buffer of file bytes.
type reader struct {
	f      *os.File
	path   string
	ino    uint64
	first  uint64
	off    int64  // offset of the next frame
	npos   uint64 // position the next frame must carry
	maxLen int
	buf    []byte
	bufOff int64
	bufN   int
}

// open switches to segment first, checking its header (errCorrupt when bad).
func (r *reader) open(dir string, first uint64) error {
	r.close()
	r.path = filepath.Join(dir, segName(first))
	r.first, r.off, r.npos, r.bufN = first, 0, first, 0
	f, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("fileq: open %s: %w", r.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("fileq: stat %s: %w", r.path, err)
	}
	r.f, r.ino = f, inode(fi)
	hdr := make([]byte, segHeaderSize)
	n, _ := f.ReadAt(hdr, 0)
	if h, err := decodeSegHeader(hdr[:n]); err != nil || h.firstPos != first {
		return fmt.Errorf("fileq: %s: %w", r.path, errCorrupt)
	}
	r.off = segHeaderSize
	return nil
}

func (r *reader) reopen(dir string) error { return r.open(dir, r.first) }

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// fill makes the buffer hold at least n bytes from r.off if the file has
// them, reading afresh from r.off.
func (r *reader) fill(n int) (bool, error) {
	if r.bufOff <= r.off && r.off+int64(n) <= r.bufOff+int64(r.bufN) {
		return true, nil
	}
	if len(r.buf) < max(n, 256<<10) {
		r.buf = make([]byte, max(n, 256<<10))
	}
	m, err := r.f.ReadAt(r.buf, r.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("fileq: read %s: %w", r.path, err)
	}
	r.bufOff, r.bufN = r.off, m
	return m >= n, nil
}

// read reads the frame at r.off. A data frame's bytes alias the buffer.
func (r *reader) read() (frame, []byte, readStatus, error) {
	if r.f == nil || r.off < segHeaderSize {
		return frame{}, nil, readBad, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		ok, err := r.fill(frameHeaderSize)
		if err != nil || !ok {
			r.bufN = 0
			return frame{}, nil, readWait, err
		}
		b := r.buf[r.off-r.bufOff : r.bufN]
		fr, err := decodeFrameHeader(b, r.maxLen)
		if err != nil {
			return fr, nil, readBad, nil
		}
		if fr.seal() {
			if fr.pos < r.npos {
				return fr, nil, readBad, nil
			}
			return fr, nil, readSeal, nil
		}
		if fr.pos != r.npos {
			return fr, nil, readBad, nil
		}
		if int64(len(b)) < fr.size() {
			if attempt == 0 {
				r.bufN = 0 // read header and data afresh in one read
				if _, err := r.fill(int(fr.size())); err != nil {
					return fr, nil, readWait, err
				}
				continue
			}
			r.bufN = 0
			return fr, nil, readWait, nil
		}
		_, data, err := decodeFrame(b, r.maxLen)
		if err != nil {
			return fr, nil, readBad, nil
		}
		r.off += fr.size()
		r.npos++
		return fr, data, readFrame, nil
	}
	return frame{}, nil, readWait, nil
}
