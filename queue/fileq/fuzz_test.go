package fileq

import (
	"bytes"
	"testing"
)

// FuzzDecodeFrame feeds arbitrary bytes to the frame, header and file
// decoders: they never panic, and what they accept re-encodes to itself.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, 7, 1, []byte("hello")))
	f.Add(appendSeal(nil, 9, 2))
	f.Add(appendFrame(nil, 0, 0, nil)[:20])
	f.Add(segHeader{maxRecord: 10, firstPos: 3}.encode())
	f.Add(posFile{commit: 5, created: 6}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, data, err := decodeFrame(b, 1<<20)
		if err == nil {
			var again []byte
			if fr.seal() {
				again = appendSeal(nil, fr.pos, fr.time)
			} else {
				again = appendFrame(nil, fr.pos, fr.time, data)
			}
			if !bytes.Equal(again, b[:len(again)]) {
				t.Fatalf("frame %+v does not re-encode to its bytes", fr)
			}
		}
		completeFrames(b)
		if h, err := decodeSegHeader(b); err == nil && !bytes.Equal(h.encode()[:28], b[:28]) {
			t.Fatalf("header %+v does not re-encode", h)
		}
		decodePosFile(b)
		decodeConsFile(b)
	})
}
