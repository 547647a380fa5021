package fileq

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m1gw/m1/queue"
)

// smallQueue writes recs records into one segment and returns the
// segment's and the position file's bytes, and each frame's end offset.
func smallQueue(t *testing.T, recs int) (seg, pos []byte, ends []int64) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Durability: SyncNone})
	off := int64(segHeaderSize)
	for i := range recs {
		d := rec(3, uint64(i), 20+i*3)
		if err := q.Put(d, 0); err != nil {
			t.Fatal(err)
		}
		off += int64(frameHeaderSize + len(d))
		ends = append(ends, off)
	}
	q.Close()
	seg, err := os.ReadFile(filepath.Join(dir, segName(0)))
	if err != nil {
		t.Fatal(err)
	}
	pos, err = os.ReadFile(filepath.Join(dir, positionName))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(seg)) != off {
		t.Fatalf("segment is %d bytes, expected %d", len(seg), off)
	}
	return seg, pos, ends
}

// openDamaged opens a consumer on a queue whose only segment is seg and
// returns what it delivers, the WARN logs, and the .bad files.
func openDamaged(t *testing.T, seg, pos []byte) (got []queue.Record, warns []observer.LoggedEntry, bad []string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, segName(0)), seg, 0o600)
	os.WriteFile(filepath.Join(dir, positionName), pos, 0o600)
	core, logs := observer.New(zapcore.InfoLevel)
	q, err := Open(dir, Options{RecordSize: 1024, Consumer: true}, zap.New(core))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got = drain(t, q)
	// The queue goes on working after recovery.
	if err := q.Put([]byte("after"), 0); err != nil {
		t.Fatal(err)
	}
	r, err := q.Take(0)
	if err != nil || string(r.Data) != "after" {
		t.Fatalf("after recovery: Take = %q, %v", r.Data, err)
	}
	if len(got) > 0 && r.Pos <= got[len(got)-1].Pos {
		t.Fatalf("position %d reused after %d", r.Pos, got[len(got)-1].Pos)
	}
	q.Close()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), badSuffix) {
			bad = append(bad, e.Name())
		}
	}
	return got, logs.FilterLevelExact(zapcore.WarnLevel).All(), bad
}

func checkPrefix(t *testing.T, got []queue.Record, want int, what string) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("%s: %d records delivered, want %d", what, len(got), want)
	}
	for i, r := range got {
		if _, n := parseRec(t, r.Data); n != uint64(i) || r.Pos != uint64(i) {
			t.Fatalf("%s: record %d is %d at %d", what, i, n, r.Pos)
		}
	}
}

// TestTruncateEveryByte cuts a segment at every length: a cut inside a frame
// is a torn tail, cut off quietly; a cut inside the header is a corrupt
// segment, set aside loudly; every whole frame before the cut is kept.
func TestTruncateEveryByte(t *testing.T) {
	seg, pos, ends := smallQueue(t, 5)
	for k := 0; k < len(seg); k++ {
		want := 0
		for _, e := range ends {
			if e <= int64(k) {
				want++
			}
		}
		got, warns, bad := openDamaged(t, seg[:k], pos)
		checkPrefix(t, got, want, "truncated at "+strconv.Itoa(k))
		if k < segHeaderSize {
			if len(warns) == 0 || len(bad) != 1 {
				t.Fatalf("truncated header at %d: warns %d, bad files %v", k, len(warns), bad)
			}
		} else if len(warns) != 0 || len(bad) != 0 {
			t.Fatalf("truncated at %d: warns %v, bad files %v", k, warns, bad)
		}
	}
}

// TestCorruptEveryByte flips every byte of a segment in turn: the frame
// (or header) holding it is corrupt; the segment goes aside with a WARN
// naming it; every record before the bad one is delivered.
func TestCorruptEveryByte(t *testing.T) {
	seg, pos, ends := smallQueue(t, 5)
	for i := range seg {
		want := 0
		for _, e := range ends {
			if e <= int64(i) {
				want++
			}
		}
		b := append([]byte(nil), seg...)
		b[i] ^= 0x5a
		got, warns, bad := openDamaged(t, b, pos)
		checkPrefix(t, got, want, "byte "+strconv.Itoa(i)+" flipped")
		if len(warns) != 1 || len(bad) != 1 {
			t.Fatalf("byte %d flipped: warns %d, bad files %v", i, len(warns), bad)
		}
		w := warns[0].ContextMap()
		if !strings.HasSuffix(w["moved_to"].(string), segName(0)+badSuffix) || w["records_kept"] != uint64(want) {
			t.Fatalf("byte %d flipped: warning %v", i, w)
		}
		if _, ok := w["records_set_aside_at_most"]; !ok {
			t.Fatalf("byte %d flipped: warning does not say how many records: %v", i, w)
		}
	}
}

// TestCorruptSealedSegment corrupts a record in the middle of a sealed
// segment: the records after it in that segment are counted exactly in the
// warning, and the later segments are delivered in full.
func TestCorruptSealedSegment(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{SegmentSize: 512, Durability: SyncNone})
	for i := range 20 {
		q.Put(rec(3, uint64(i), 100), 0)
	}
	q.Close()
	segs, _ := listSegments(dir)
	if len(segs) < 3 {
		t.Fatalf("segments %v", segs)
	}
	// Second segment, second record's data.
	path := filepath.Join(dir, segName(segs[1]))
	b, _ := os.ReadFile(path)
	b[segHeaderSize+frameHeaderSize+100+frameHeaderSize+5] ^= 1
	os.WriteFile(path, b, 0o600)

	core, logs := observer.New(zapcore.InfoLevel)
	q, err := Open(dir, Options{RecordSize: 1024, Consumer: true}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	got := drain(t, q)
	lost := segs[2] - segs[1] - 1
	if uint64(len(got)) != 20-lost {
		t.Fatalf("%d records delivered, want %d", len(got), 20-lost)
	}
	for _, r := range got {
		if _, n := parseRec(t, r.Data); n != r.Pos || (r.Pos > segs[1] && r.Pos < segs[2]) {
			t.Fatalf("record %d at %d", n, r.Pos)
		}
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 {
		t.Fatalf("warnings: %v", warns)
	}
	w := warns[0].ContextMap()
	if w["records_set_aside"] != lost || w["first_position"] != segs[1]+1 {
		t.Fatalf("warning %v, want %d records set aside", w, lost)
	}
	if st, _ := q.Stat(); st.Corrupt != lost {
		t.Fatalf("Stat.Corrupt = %d", st.Corrupt)
	}
	if _, err := os.Stat(path + badSuffix); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptFoundWhileTaking corrupts a frame after the consumer opened:
// it is set aside when the consumer reaches it.
func TestCorruptFoundWhileTaking(t *testing.T) {
	dir := t.TempDir()
	core, logs := observer.New(zapcore.InfoLevel)
	q, err := Open(dir, Options{RecordSize: 1024, Consumer: true, SegmentSize: 1 << 20}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := range 4 {
		q.Put(rec(3, uint64(i), 100), 0)
	}
	path := filepath.Join(dir, segName(0))
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, segHeaderSize+2*(frameHeaderSize+100)+40)
	f.Close()
	got := drain(t, q)
	checkPrefix(t, got, 2, "corrupt while taking")
	if len(logs.FilterLevelExact(zapcore.WarnLevel).All()) != 1 {
		t.Fatalf("no warning")
	}
	// Producers carry on after the gap.
	q.Put([]byte("next"), 0)
	r, err := q.Take(0)
	if err != nil || string(r.Data) != "next" || r.Pos < 4 {
		t.Fatalf("after: %+v %v", r, err)
	}
}
