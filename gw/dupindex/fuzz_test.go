package dupindex

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeHeader: any bytes and any file size decode to a header or an
// error, never a panic; a decoded header's geometry is valid and fits.
func FuzzDecodeHeader(f *testing.F) {
	g := Geometry{Slots: 64, Probe: 8, Locks: 4, Window: time.Minute}
	good := make([]byte, headerSize)
	encodeHeader(good, Header{Geometry: g, Created: t0, Seed: 42})
	f.Add(good, g.fileSize())
	f.Add(good[:100], int64(100))
	f.Add([]byte(fileMagic), int64(8))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		h, err := decodeHeader(b, size)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error not ErrBadHeader: %v", err)
			}
			return
		}
		if err := h.Geometry.validate(); err != nil || h.fileSize() != size {
			t.Fatalf("accepted a bad header: %+v (%v)", h, err)
		}
	})
}

// FuzzOpenCorrupt writes a valid header followed by arbitrary bytes (lock
// words and slots as a crash, a disk fault or a stray writer may leave
// them), then opens it and runs every operation: errors are fine, panics
// and hangs are not. Bit flips in the header are tried too.
func FuzzOpenCorrupt(f *testing.F) {
	g := Geometry{Slots: 64, Probe: 8, Locks: 4, Window: time.Minute}
	f.Add([]byte{}, uint16(0), byte(0))
	f.Add(make([]byte, 512), uint16(9), byte(1))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xffC         K1                  "), uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, body []byte, flipAt uint16, flip byte) {
		file := make([]byte, g.fileSize())
		encodeHeader(file, Header{Geometry: g, Created: t0, Seed: 1})
		if int(flipAt) < headerSize {
			file[flipAt] ^= flip
		}
		// Lock words from the body would name processes that may be
		// alive (pid 1): keep them free or clearly dead (pid 0).
		rest := file[g.statesOffset():]
		copy(rest, body)
		for i := int64(0); i < int64(g.Locks); i++ {
			off := g.locksOffset() + i*lockSize
			if i < int64(len(body)) && body[i]&1 == 1 {
				file[off] = 1 // garbage word with pid 0
			}
		}
		path := filepath.Join(t.TempDir(), "dup.idx")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		x, err := Open(Options{Path: path, Capacity: g.Slots, Probe: g.Probe, Locks: g.Locks, Window: g.Window})
		if err != nil {
			return
		}
		defer x.Close()
		for _, k := range []string{"K1", "K2", "K3", ""} {
			x.Contains("C", k, t0)
			x.CheckAndInsert("C", k, t0)
			if ok, err := x.Contains("C", k, t0); err == nil && !ok {
				// Inserted or full; Contains must agree with a
				// second CheckAndInsert.
				if dup, err := x.CheckAndInsert("C", k, t0); err == nil && dup {
					t.Fatalf("%q: Contains false but CheckAndInsert dup", k)
				}
			}
			x.Remove("C", k, t0)
		}
		x.CountLive(t0)
		x.Stats()
	})
}
