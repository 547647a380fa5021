package telegram

import (
	"errors"
	"io"
	"strconv"

	"github.com/m1gw/m1/gw/layout"
)

// Reader splits a byte stream into telegrams. It reads in large chunks (a
// client that pipelines gets many telegrams per read) and hands out each
// telegram as a slice of its buffer, valid until the next call to Next.
//
// It is deadline-friendly: when the underlying Read fails with a timeout
// (a net.Conn read deadline), Next returns that error and keeps the part of
// the telegram read so far, so a later Next continues where it stopped. A
// bad LEN is a framing error (*layout.Error, ResultOf gives 1001) after
// which the stream cannot be resynchronised: Next returns it again on every
// call.
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error // sticky framing error
}

// NewReader returns a Reader on r with a buffer of size bytes (at least
// one largest telegram, 10,003 bytes; 0 picks 32 KiB).
func NewReader(r io.Reader, size int) *Reader {
	if size <= 0 {
		size = 32 << 10
	}
	size = max(size, MaxFrame)
	return &Reader{r: r, buf: make([]byte, size)}
}

// Buffered is the number of bytes read from the stream and not yet handed
// out.
func (r *Reader) Buffered() int { return r.end - r.start }

// Next returns the next whole telegram, LEN included. io.EOF means the
// stream ended between telegrams, io.ErrUnexpectedEOF inside one.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.fill(LenLen); err != nil {
		return nil, err
	}
	n := 0
	for _, c := range r.buf[r.start : r.start+LenLen] {
		if c < '0' || c > '9' {
			r.err = &layout.Error{Layout: "HEADER", Field: "LEN", Kind: layout.Framing, Reason: "non-digit in LEN " + strconv.Quote(string(r.buf[r.start:r.start+LenLen]))}
			return nil, r.err
		}
		n = n*10 + int(c-'0')
	}
	if n < MinLEN || n > MaxLEN {
		r.err = &layout.Error{Layout: "HEADER", Field: "LEN", Kind: layout.Framing, Reason: "LEN " + strconv.Itoa(n) + " outside 16..9999"}
		return nil, r.err
	}
	if err := r.fill(LenLen + n); err != nil {
		return nil, err
	}
	f := r.buf[r.start : r.start+LenLen+n]
	r.start += LenLen + n
	return f, nil
}

// fill makes sure n bytes are buffered from r.start.
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if r.start+n > len(r.buf) {
		copy(r.buf, r.buf[r.start:r.end])
		r.end -= r.start
		r.start = 0
	}
	for r.end-r.start < n {
		k, err := r.r.Read(r.buf[r.end:])
		r.end += k
		if r.end-r.start >= n {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && r.end > r.start {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
