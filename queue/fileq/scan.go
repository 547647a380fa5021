package fileq

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// scanEnd says how a scan of a segment ended.
type scanEnd int

const (
	scanEOF     scanEnd = iota // end of file at a frame boundary
	scanSeal                   // a seal frame
	scanTorn                   // a frame cut short by the end of the file
	scanCorrupt                // a frame whose checksum or position is wrong
)

func (s scanEnd) String() string {
	return [...]string{"eof", "seal", "torn", "corrupt"}[s]
}

// scanResult is what a scan of a segment found.
type scanResult struct {
	end     int64  // offset just past the last good data frame
	next    uint64 // position the next data frame must carry
	count   int    // good data frames read
	how     scanEnd
	sealPos uint64 // for scanSeal: first position of the next segment
	size    int64  // file size when the scan began
	why     string // for scanCorrupt: what was wrong
}

// scanSegment reads the frames of f from offset from, where the frame at
// from must carry position next, until the end of the file, a seal, or a
// bad frame. visit, when not nil, sees every good data frame and may stop
// the scan early by returning false (how is then scanEOF).
func scanSegment(f *os.File, from int64, next uint64, maxLen int, visit func(frame) bool) (scanResult, error) {
	fi, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("fileq: stat %s: %w", f.Name(), err)
	}
	r := scanResult{end: from, next: next, size: fi.Size()}
	if from >= r.size {
		return r, nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, r.size-from), int(min(max(r.size-from, 4096), 256<<10)))
	var hdr [frameHeaderSize]byte
	var data []byte
	for {
		n, err := io.ReadFull(br, hdr[:])
		if err == io.EOF {
			return r, nil
		}
		if err == io.ErrUnexpectedEOF || (err == nil && n < frameHeaderSize) {
			r.how = scanTorn
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("fileq: read %s: %w", f.Name(), err)
		}
		fr, err := decodeFrameHeader(hdr[:], maxLen)
		if err != nil {
			r.how, r.why = scanCorrupt, "frame header checksum or length"
			return r, nil
		}
		if fr.seal() {
			if fr.pos < r.next {
				r.how, r.why = scanCorrupt, fmt.Sprintf("seal names position %d below %d", fr.pos, r.next)
				return r, nil
			}
			r.how, r.sealPos = scanSeal, fr.pos
			return r, nil
		}
		if fr.pos != r.next {
			r.how, r.why = scanCorrupt, fmt.Sprintf("frame carries position %d, expected %d", fr.pos, r.next)
			return r, nil
		}
		if cap(data) < int(fr.len) {
			data = make([]byte, fr.len)
		}
		data = data[:fr.len]
		if _, err := io.ReadFull(br, data); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				r.how = scanTorn
				return r, nil
			}
			return r, fmt.Errorf("fileq: read %s: %w", f.Name(), err)
		}
		if crc32.Checksum(data, castagnoli) != fr.dcrc {
			r.how, r.why = scanCorrupt, "record data checksum"
			return r, nil
		}
		r.end += fr.size()
		r.next++
		r.count++
		if visit != nil && !visit(fr) {
			return r, nil
		}
	}
}
