package shmq

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

var _ queue.Queue = (*Queue)(nil)

// testKey returns a key of the test's own (0x7e......) and removes whatever
// the test made under it when the test ends.
func testKey(t testing.TB) ipc.Key {
	t.Helper()
	for {
		k := ipc.Key(0x7e000000 | rand.Int32N(0xffffff))
		if ok, _ := Exists(k); !ok {
			t.Cleanup(func() { _ = Remove(k) })
			return k
		}
	}
}

func openTest(t testing.TB, key ipc.Key, capacity, recSize int) *Queue {
	t.Helper()
	q, err := Open(Options{Name: "T", Key: key, Capacity: capacity, RecordSize: recSize, Create: true, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func TestPutTakeCommit(t *testing.T) {
	q := openTest(t, testKey(t), 4, 16)
	for i := 0; i < 4; i++ {
		if err := q.Put([]byte(fmt.Sprint("r", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Put([]byte("x"), 0); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("put into a full queue: %v, want ErrFull", err)
	}
	if err := q.Put(make([]byte, 17), 0); !errors.Is(err, queue.ErrTooLarge) {
		t.Fatalf("oversized put: %v", err)
	}
	r, err := q.Take(0)
	if err != nil || string(r.Data) != "r0" || r.Pos != 0 || r.Redelivered {
		t.Fatalf("Take = %+v, %v", r, err)
	}
	// Taken but not committed: still in the queue, still no room.
	if q.Len() != 4 {
		t.Fatalf("Len = %d, want 4", q.Len())
	}
	if err := q.Put([]byte("x"), 0); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("put with only a taken slot: %v, want ErrFull", err)
	}
	if err := q.Commit(1); !errors.Is(err, queue.ErrNotTaken) {
		t.Fatalf("commit beyond taken: %v", err)
	}
	if err := q.Commit(0); err != nil {
		t.Fatal(err)
	}
	if err := q.Commit(0); err != nil {
		t.Fatalf("second commit: %v", err)
	}
	recs, err := q.TakeBatch(nil, 10, 0)
	if err != nil || len(recs) != 3 || string(recs[2].Data) != "r3" {
		t.Fatalf("TakeBatch = %v, %v", recs, err)
	}
	if _, err := q.Take(0); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("take from empty: %v", err)
	}
	if err := q.Commit(recs[2].Pos); err != nil {
		t.Fatal(err)
	}
	st, _ := q.Stat()
	if st.Puts != 4 || st.Gets != 4 || st.Commits != 4 || st.FullEvents != 2 || st.Len() != 0 || st.Kind != "shm" {
		t.Fatalf("stat = %+v", st)
	}
	// The ring wraps.
	n, err := q.PutBatch([][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}, 0)
	if n != 4 || !errors.Is(err, queue.ErrFull) {
		t.Fatalf("PutBatch over capacity = %d, %v", n, err)
	}
	got, err := queue.GetBatch(q, 10, 0)
	if err != nil || len(got) != 4 || string(got[3]) != "d" {
		t.Fatalf("GetBatch = %q, %v", got, err)
	}
}

func TestGeometryMismatch(t *testing.T) {
	key := testKey(t)
	openTest(t, key, 8, 64)
	_, err := Open(Options{Name: "T", Key: key, Capacity: 16, RecordSize: 128})
	if !errors.Is(err, ErrGeometry) {
		t.Fatalf("open with other geometry: %v", err)
	}
	for _, want := range []string{"record size 64, configured 128", "capacity 8, configured 16", "ipcq rm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := Open(Options{Name: "T", Key: testKey(t), Capacity: 8, RecordSize: 64}); !errors.Is(err, ipc.ErrNotExist) {
		t.Fatalf("open of a missing queue without Create: %v", err)
	}
}

func TestSecondConsumerRefused(t *testing.T) {
	key := testKey(t)
	q1 := openTest(t, key, 8, 64)
	q2 := openTest(t, key, 8, 64)
	if err := q1.Put([]byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := q1.Take(0); err != nil {
		t.Fatal(err)
	}
	if _, err := q2.Take(0); !errors.Is(err, queue.ErrConsumerBusy) {
		t.Fatalf("second consumer: %v, want ErrConsumerBusy", err)
	}
	// Closing without commit hands the taken record to the next consumer.
	if err := q1.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := q2.Take(0)
	if err != nil || string(r.Data) != "a" || !r.Redelivered {
		t.Fatalf("take after the first consumer left: %+v, %v", r, err)
	}
	if st, _ := q2.Stat(); st.Redelivered != 1 {
		t.Fatalf("redelivered = %d", st.Redelivered)
	}
}

func TestBlockingWaits(t *testing.T) {
	q := openTest(t, testKey(t), 2, 8)
	got := make(chan queue.Record, 1)
	go func() {
		r, err := q.Take(5 * time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	time.Sleep(20 * time.Millisecond)
	if err := q.Put([]byte("w"), 0); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if string(r.Data) != "w" {
		t.Fatalf("woken with %q", r.Data)
	}
	if err := q.Commit(r.Pos); err != nil {
		t.Fatal(err)
	}
	// Fill, then a producer blocks until a commit makes room.
	if _, err := q.PutBatch([][]byte{[]byte("1"), []byte("2")}, 0); err != nil {
		t.Fatal(err)
	}
	put := make(chan error, 1)
	go func() { put <- q.Put([]byte("3"), 5*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	if _, err := queue.Get(q, 0); err != nil {
		t.Fatal(err)
	}
	if err := <-put; err != nil {
		t.Fatalf("blocked put: %v", err)
	}
	// A timed put on a full queue gives up with ErrFull after its timeout.
	start := time.Now()
	if err := q.Put([]byte("4"), 30*time.Millisecond); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("timed put on full: %v", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("timed put returned before its timeout")
	}
}

// Many producer goroutines, one consumer: everything arrives once, each
// producer's records in its order.
func TestConcurrentProducers(t *testing.T) {
	key := testKey(t)
	cons := openTest(t, key, 64, 32)
	const producers, each = 8, 2000
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		prod := openTest(t, key, 64, 32)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				batch := [][]byte{[]byte(fmt.Sprintf("%d:%d", p, i))}
				if i%3 == 0 && i+1 < each {
					batch = append(batch, []byte(fmt.Sprintf("%d:%d", p, i+1)))
				}
				n, err := prod.PutBatch(batch, 5*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				i += n
			}
		}()
	}
	next := make([]int, producers)
	for got := 0; got < producers*each; {
		recs, err := cons.TakeBatch(nil, 50, 5*time.Second)
		if err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		for _, r := range recs {
			var p, i int
			if _, err := fmt.Sscanf(string(r.Data), "%d:%d", &p, &i); err != nil {
				t.Fatalf("record %q: %v", r.Data, err)
			}
			if next[p] != i {
				t.Fatalf("producer %d: got %d, want %d", p, i, next[p])
			}
			next[p]++
		}
		got += len(recs)
		if err := cons.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

func TestSegmentRemovedUnderProducer(t *testing.T) {
	key := testKey(t)
	cons := openTest(t, key, 16, 8)
	prod := openTest(t, key, 16, 8)
	if err := prod.Put([]byte("before"), 0); err != nil {
		t.Fatal(err)
	}
	shmid, _ := prod.IDs()
	if err := ipc.RemoveShm(shmid); err != nil {
		t.Fatal(err)
	}
	if !prod.Removed() {
		t.Fatal("producer did not see the removal")
	}
	if err := prod.Put([]byte("after"), 0); !errors.Is(err, queue.ErrRemoved) {
		t.Fatalf("put into a removed segment: %v, want ErrRemoved", err)
	}
	if err := prod.Close(); err != nil {
		t.Fatal(err)
	}
	// The consumer drains the orphan, then learns it is gone.
	r, err := cons.Take(time.Second)
	if err != nil || string(r.Data) != "before" {
		t.Fatalf("drain of the orphan: %q, %v", r.Data, err)
	}
	if _, err := cons.Take(2 * time.Second); !errors.Is(err, queue.ErrRemoved) {
		t.Fatalf("take from a drained orphan: %v, want ErrRemoved", err)
	}
}

func TestSemaphoresRemovedUnderConsumer(t *testing.T) {
	key := testKey(t)
	q := openTest(t, key, 16, 8)
	errc := make(chan error, 1)
	go func() { _, err := q.Take(-1); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := q.sems.Remove(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, queue.ErrRemoved) {
			t.Fatalf("waiting take: %v, want ErrRemoved", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting consumer not told of the removal")
	}
}

func TestPeekAndPurge(t *testing.T) {
	key := testKey(t)
	q := openTest(t, key, 8, 8)
	for _, s := range []string{"a", "b", "c"} {
		if err := q.Put([]byte(s), 0); err != nil {
			t.Fatal(err)
		}
	}
	if p := q.Peek(2); len(p) != 2 || string(p[1].Data) != "b" {
		t.Fatalf("Peek = %v", p)
	}
	st, _ := q.Stat()
	if st.Oldest.IsZero() || time.Since(st.Oldest) > time.Minute {
		t.Fatalf("Oldest = %v", st.Oldest)
	}
	n, err := q.Purge()
	if err != nil || n != 3 || q.Len() != 0 {
		t.Fatalf("Purge = %d, %v; Len %d", n, err, q.Len())
	}
}

func TestCorruptSlotSkipped(t *testing.T) {
	q := openTest(t, testKey(t), 8, 8)
	for _, s := range []string{"a", "b"} {
		if err := q.Put([]byte(s), 0); err != nil {
			t.Fatal(err)
		}
	}
	q.slotAt(0).data[0] ^= 0xff // a stray write
	r, err := q.Take(0)
	if err != nil || string(r.Data) != "b" {
		t.Fatalf("Take = %+v, %v", r, err)
	}
	if st, _ := q.Stat(); st.Corrupt != 1 {
		t.Fatalf("corrupt = %d", st.Corrupt)
	}
}

func TestTakeBatchReusesBuffers(t *testing.T) {
	q := openTest(t, testKey(t), 8, 64)
	for _, s := range []string{"the longer first", "second"} {
		if err := q.Put([]byte(s), 0); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := q.TakeBatch(nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := recs[0].Data
	recs, err = q.TakeBatch(recs[:0], 1, 0)
	if err != nil || string(recs[0].Data) != "second" {
		t.Fatalf("TakeBatch = %q, %v", recs[0].Data, err)
	}
	if &buf[0] != &recs[0].Data[0] {
		t.Fatal("buffer of the record beyond len(dst) not reused")
	}
}
