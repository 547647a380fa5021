package fileq

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m1gw/m1/queue"
)

func TestPutTakeCommit(t *testing.T) {
	for _, d := range []Durability{SyncGroup, SyncEvery, SyncNone} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			q := openT(t, dir, Options{Name: "T", Consumer: true, Durability: d})
			defer q.Close()
			if q.Name() != "T" || q.RecordSize() != 1024 {
				t.Fatalf("Name/RecordSize = %q/%d", q.Name(), q.RecordSize())
			}
			for i := range 10 {
				if err := q.Put(rec(1, uint64(i), 100), time.Second); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := q.PutBatch([][]byte{rec(1, 10, 50), rec(1, 11, 60)}, 0); n != 2 || err != nil {
				t.Fatalf("PutBatch = %d, %v", n, err)
			}
			if q.Len() != 12 {
				t.Fatalf("Len = %d, want 12", q.Len())
			}
			r, err := q.Take(0)
			if err != nil || r.Pos != 0 || r.Redelivered {
				t.Fatalf("Take = %+v, %v", r, err)
			}
			if _, n := parseRec(t, r.Data); n != 0 {
				t.Fatalf("first record is %d", n)
			}
			if err := q.Commit(5); !errors.Is(err, queue.ErrNotTaken) {
				t.Fatalf("Commit(5) before taking = %v", err)
			}
			recs, err := q.TakeBatch(nil, 5, 0)
			if err != nil || len(recs) != 5 || recs[4].Pos != 5 {
				t.Fatalf("TakeBatch = %d recs, %v", len(recs), err)
			}
			if err := q.Commit(3); err != nil {
				t.Fatal(err)
			}
			st, err := q.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if st.Kind != "file" || st.Head != 6 || st.Commit != 4 || st.Tail != 12 || st.Len() != 8 || st.InFlight() != 2 {
				t.Fatalf("Stat = %+v", st)
			}
			if st.Puts != 12 || st.Gets != 6 || st.Commits != 4 || st.ConsumerPID != os.Getpid() || !st.ConsumerAlive {
				t.Fatalf("Stat counters = %+v", st)
			}
			if st.Oldest.IsZero() || time.Since(st.Oldest) > time.Minute {
				t.Fatalf("Oldest = %v", st.Oldest)
			}
			if err := q.Commit(2); err != nil {
				t.Fatalf("Commit below the commit position = %v", err)
			}
			got := drain(t, q)
			if len(got) != 6 || got[0].Pos != 6 || got[5].Pos != 11 {
				t.Fatalf("drain got %d records", len(got))
			}
			if _, err := q.Take(0); !errors.Is(err, queue.ErrEmpty) {
				t.Fatalf("Take on empty = %v", err)
			}
			start := time.Now()
			if _, err := q.Take(30 * time.Millisecond); !errors.Is(err, queue.ErrEmpty) || time.Since(start) < 30*time.Millisecond {
				t.Fatalf("Take with timeout = %v after %v", err, time.Since(start))
			}
			st, _ = q.Stat()
			if st.Len() != 0 || !st.Oldest.IsZero() {
				t.Fatalf("empty Stat = %+v", st)
			}
		})
	}
}

func TestTooLargeAndClosed(t *testing.T) {
	q := openT(t, t.TempDir(), Options{RecordSize: 10, Consumer: true})
	if err := q.Put(make([]byte, 11), 0); !errors.Is(err, queue.ErrTooLarge) {
		t.Fatalf("Put of 11 bytes = %v", err)
	}
	if err := q.Put(make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Put([]byte("x"), 0); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Put after Close = %v", err)
	}
	if _, err := q.Take(0); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Take after Close = %v", err)
	}
}

func TestTakeWaitsForPut(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{Consumer: true})
	defer c.Close()
	p := openT(t, dir, Options{})
	defer p.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Put([]byte("late"), 0)
	}()
	r, err := c.Take(5 * time.Second)
	if err != nil || string(r.Data) != "late" {
		t.Fatalf("Take = %q, %v", r.Data, err)
	}
	if _, err := p.Take(0); !errors.Is(err, ErrNotConsumer) {
		t.Fatalf("Take on a producer-only queue = %v", err)
	}
}

func TestCloseWakesTake(t *testing.T) {
	q := openT(t, t.TempDir(), Options{Consumer: true})
	done := make(chan error)
	go func() {
		_, err := q.Take(-1)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	q.Close()
	if err := <-done; !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Take during Close = %v", err)
	}
}

func TestOneConsumer(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{Consumer: true})
	if _, err := Open(dir, Options{RecordSize: 10, Consumer: true}, nil); !errors.Is(err, queue.ErrConsumerBusy) {
		t.Fatalf("second consumer = %v", err)
	}
	p := openT(t, dir, Options{})
	p.Close()
	c.Close()
	c2 := openT(t, dir, Options{Consumer: true})
	c2.Close()
}

func TestRedeliveryAfterReopen(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Consumer: true})
	for i := range 5 {
		q.Put(rec(1, uint64(i), 20), 0)
	}
	recs, _ := q.TakeBatch(nil, 3, 0)
	if err := q.Commit(recs[0].Pos); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = openT(t, dir, Options{Consumer: true})
	defer q.Close()
	got := drain(t, q)
	if len(got) != 4 {
		t.Fatalf("got %d records after reopen, want 4", len(got))
	}
	for i, r := range got {
		if r.Pos != uint64(i+1) || r.Redelivered != (i < 2) {
			t.Fatalf("record %d: pos %d redelivered %v", i, r.Pos, r.Redelivered)
		}
	}
	if st, _ := q.Stat(); st.Redelivered != 2 {
		t.Fatalf("Redelivered = %d", st.Redelivered)
	}
}

func TestRotationAndDeletion(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Consumer: true, SegmentSize: 1024, Durability: SyncNone})
	defer q.Close()
	const n = 100
	for i := range n {
		if err := q.Put(rec(1, uint64(i), 100), 0); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := listSegments(dir)
	if len(segs) < 10 {
		t.Fatalf("%d segments for %d records of 128 bytes in 1 KiB segments", len(segs), n)
	}
	for i := range n {
		r, err := q.Take(0)
		if err != nil {
			t.Fatal(err)
		}
		if _, m := parseRec(t, r.Data); m != uint64(i) || r.Pos != uint64(i) {
			t.Fatalf("record %d: got %d at %d", i, m, r.Pos)
		}
		if i == n/2 {
			if err := q.Commit(r.Pos); err != nil {
				t.Fatal(err)
			}
			left, _ := listSegments(dir)
			if len(left) >= len(segs) || left[0] > r.Pos {
				t.Fatalf("after committing %d: segments %v (was %d)", r.Pos, left, len(segs))
			}
		}
	}
	q.Commit(n - 1)
	left, _ := listSegments(dir)
	if len(left) != 1 {
		t.Fatalf("after committing all: %d segments", len(left))
	}
	// Positions continue after reopen, and the records are still there.
	q.Put(rec(1, n, 100), 0)
	q.Close()
	q = openT(t, dir, Options{Consumer: true, SegmentSize: 1024})
	r, err := q.Take(0)
	if err != nil || r.Pos != n || r.Redelivered {
		t.Fatalf("after reopen: %+v %v", r, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tmpSuffix) || strings.HasSuffix(e.Name(), badSuffix) {
			t.Fatalf("left over file %s", filepath.Join(dir, e.Name()))
		}
	}
}

func TestBigRecordOwnSegment(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Consumer: true, SegmentSize: 256, RecordSize: 4096})
	defer q.Close()
	for i := range 3 {
		if err := q.Put(rec(1, uint64(i), 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(t, q)
	if len(got) != 3 {
		t.Fatalf("got %d", len(got))
	}
}

func TestProducerOnlyStat(t *testing.T) {
	dir := t.TempDir()
	p := openT(t, dir, Options{})
	defer p.Close()
	for i := range 4 {
		p.Put(rec(2, uint64(i), 30), 0)
	}
	st, err := p.Stat()
	if err != nil || st.Tail != 4 || st.Commit != 0 || st.Len() != 4 || st.Oldest.IsZero() || st.Created.IsZero() {
		t.Fatalf("Stat = %+v, %v", st, err)
	}
	c := openT(t, dir, Options{Consumer: true})
	c.Take(0)
	st, _ = p.Stat()
	if st.ConsumerPID != os.Getpid() || !st.ConsumerAlive || st.Head != 1 {
		t.Fatalf("Stat with consumer = %+v", st)
	}
	c.Close()
	st, _ = p.Stat()
	if st.ConsumerPID != 0 {
		t.Fatalf("Stat after consumer closed = %+v", st)
	}
}

func TestRemovedDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "q")
	q := openT(t, dir, Options{Durability: SyncNone})
	defer q.Close()
	os.RemoveAll(dir)
	if err := q.Put([]byte("x"), 0); !errors.Is(err, queue.ErrRemoved) {
		t.Fatalf("Put into a removed directory = %v", err)
	}
}

// TestTornTailCutByProducer leaves half a frame at the tail, as a producer
// killed mid-write would: the next producer cuts it and reuses the
// position, and a consumer already waiting at the tail sees only whole
// records.
func TestTornTailCutByProducer(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{Consumer: true})
	defer c.Close()
	p := openT(t, dir, Options{})
	defer p.Close()
	p.Put(rec(1, 0, 40), 0)
	if r, err := c.Take(0); err != nil || r.Pos != 0 {
		t.Fatalf("Take = %+v, %v", r, err)
	}
	torn := appendFrame(nil, 1, 0, rec(9, 9, 40))
	f, _ := os.OpenFile(filepath.Join(dir, segName(0)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write(torn[:len(torn)-7])
	f.Close()
	if _, err := c.Take(10 * time.Millisecond); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Take of a torn frame = %v", err)
	}
	p2 := openT(t, dir, Options{})
	defer p2.Close()
	if err := p.Put(rec(1, 1, 60), 0); err != nil {
		t.Fatal(err)
	}
	r, err := c.Take(time.Second)
	if err != nil || r.Pos != 1 {
		t.Fatalf("Take = %+v, %v", r, err)
	}
	if _, n := parseRec(t, r.Data); n != 1 {
		t.Fatalf("got record %d", n)
	}
	if st, _ := c.Stat(); st.Corrupt != 0 || st.Tail != 2 {
		t.Fatalf("Stat = %+v", st)
	}
}

// TestConsumerLockAcrossProcesses: a consumer in another process keeps this
// one out; once it is killed, the kernel releases its lock.
func TestConsumerLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "holdconsumer", "FILEQ_DIR="+dir)
	deadline := time.Now().Add(10 * time.Second)
	for c.nlines() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := Open(dir, Options{RecordSize: 10, Consumer: true}, nil); !errors.Is(err, queue.ErrConsumerBusy) {
		t.Fatalf("Open while another process consumes = %v", err)
	}
	p := openT(t, dir, Options{})
	defer p.Close()
	if st, _ := p.Stat(); st.ConsumerPID != c.cmd.Process.Pid || !st.ConsumerAlive {
		t.Fatalf("Stat = %+v, child %d", st, c.cmd.Process.Pid)
	}
	c.kill()
	if st, _ := p.Stat(); st.ConsumerPID != c.cmd.Process.Pid || st.ConsumerAlive {
		t.Fatalf("Stat after the consumer died = %+v", st)
	}
	q := openT(t, dir, Options{Consumer: true})
	q.Close()
}

func TestRemovedDirWhileTaking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "q")
	q := openT(t, dir, Options{Consumer: true})
	defer q.Close()
	os.RemoveAll(dir)
	if _, err := q.Take(50 * time.Millisecond); !errors.Is(err, queue.ErrRemoved) {
		t.Fatalf("Take from a removed directory = %v", err)
	}
}

// TestIdleProducerAfterDeletion: a producer that stayed idle while others
// filled, sealed and the consumer deleted segments appends at the real tail.
func TestIdleProducerAfterDeletion(t *testing.T) {
	dir := t.TempDir()
	o := Options{SegmentSize: 512, Durability: SyncNone}
	idle := openT(t, dir, o)
	defer idle.Close()
	busy := openT(t, dir, o)
	defer busy.Close()
	o.Consumer = true
	c := openT(t, dir, o)
	defer c.Close()
	idle.Put(rec(1, 0, 100), 0)
	for i := range 30 {
		busy.Put(rec(2, uint64(i), 100), 0)
		if i == 10 {
			drain(t, c)
		}
	}
	if err := idle.Put(rec(1, 1, 100), 0); err != nil {
		t.Fatal(err)
	}
	got := drain(t, c)
	if len(got) != 20 {
		t.Fatalf("got %d records, want 20", len(got))
	}
	if p, n := parseRec(t, got[19].Data); p != 1 || n != 1 || got[19].Pos != 31 {
		t.Fatalf("last record %d/%d at %d", p, n, got[19].Pos)
	}
}
