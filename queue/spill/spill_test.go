package spill

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
)

var _ queue.Queue = (*Queue)(nil)

type fixture struct {
	t          *testing.T
	key        ipc.Key
	dir        string
	durability fileq.Durability // SyncNone when zero
}

func newFixture(t *testing.T) *fixture {
	key := ipc.Key(0x7c000000 | rand.Int32N(0xffffff))
	t.Cleanup(func() { _ = shmq.Remove(key) })
	return &fixture{t: t, key: key, dir: t.TempDir()}
}

func (f *fixture) open(policy Policy, consumer bool, capacity int) *Queue {
	f.t.Helper()
	q, err := Open(Options{
		Shm:      shmq.Options{Name: "SPILL", Key: f.key, Capacity: capacity, RecordSize: 64},
		Dir:      f.dir,
		File:     fileq.Options{Durability: cmp.Or(f.durability, fileq.SyncNone)},
		Policy:   policy,
		Consumer: consumer,
		Grace:    5 * time.Second,
		Log:      zaptest.NewLogger(f.t),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = q.Close() })
	return q
}

func rec(i int) []byte { return []byte(fmt.Sprintf("r%05d", i)) }

func drain(t *testing.T, q *Queue, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		recs, err := q.TakeBatch(nil, 16, 2*time.Second)
		if err != nil {
			t.Fatalf("after %d of %d: %v", len(out), n, err)
		}
		for _, r := range recs {
			out = append(out, string(r.Data))
		}
		if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// drainMarked is drain, telling also which records came marked
// Redelivered.
func drainMarked(t *testing.T, q *Queue, n int) (data []string, marked []bool) {
	t.Helper()
	for len(data) < n {
		recs, err := q.TakeBatch(nil, 16, 2*time.Second)
		if err != nil {
			t.Fatalf("after %d of %d: %v", len(data), n, err)
		}
		for _, r := range recs {
			data = append(data, string(r.Data))
			marked = append(marked, r.Redelivered)
		}
		if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
	return data, marked
}

func TestSpillKeepsOrderAndReturnsToRing(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 4)
	prod := f.open(Spill, false, 4)
	for i := 0; i < 10; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := prod.Stat()
	if st.FileLen != 6 || st.Len() != 4 || !prod.Spilling() {
		t.Fatalf("after 10 puts into a ring of 4: %+v", st)
	}
	got := drain(t, cons, 10)
	for i, g := range got {
		if g != string(rec(i)) {
			t.Fatalf("record %d is %s", i, g)
		}
	}
	// Empty, and after the grace time writers return to the ring.
	time.Sleep(60 * time.Millisecond)
	if _, err := cons.Take(0); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("take from empty: %v", err)
	}
	if prod.Spilling() {
		t.Fatal("still spilling after the file part drained")
	}
	if err := prod.Put(rec(10), 0); err != nil {
		t.Fatal(err)
	}
	if st, _ := prod.Stat(); st.FileLen != 0 || st.Len() != 1 {
		t.Fatalf("put after the spill went to the file: %+v", st)
	}
}

func TestPolicies(t *testing.T) {
	f := newFixture(t)
	f.open(Spill, true, 2) // the consumer creates the ring
	rej := f.open(Reject, false, 2)
	blk := f.open(Block, false, 2)
	if _, err := rej.PutBatch([][]byte{rec(0), rec(1)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := rej.Put(rec(2), time.Second); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("reject on full: %v", err)
	}
	start := time.Now()
	if err := blk.Put(rec(2), 30*time.Millisecond); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("block on full: %v", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("block did not wait")
	}
	if _, err := Open(Options{Shm: shmq.Options{Name: "X", Key: f.key, Capacity: 2, RecordSize: 64}, Dir: f.dir, Policy: "drop"}); err == nil {
		t.Fatal("unknown policy accepted")
	}
}

// Concurrent writers on a small ring with a slow consumer: every record
// arrives once, each writer's in its order, across many spills.
func TestSpillOrderConcurrentWriters(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 8)
	const writers, each = 4, 500
	var wg sync.WaitGroup
	var stop atomic.Bool
	producers := make([]*Queue, writers)
	for w := range producers {
		producers[w] = f.open(Spill, false, 8)
	}
	// Registered after the queues were opened, so it runs before they
	// are closed: a Fatalf below must not close a queue under a writer.
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	for w, p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each && !stop.Load(); i++ {
				if err := p.Put([]byte(fmt.Sprintf("%d:%d", w, i)), time.Second); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	next := make([]int, writers)
	for got := 0; got < writers*each; {
		recs, err := cons.TakeBatch(nil, 1+rand.IntN(8), 5*time.Second)
		if err != nil {
			t.Fatalf("after %d: %v", got, err)
		}
		for _, r := range recs {
			var w, i int
			fmt.Sscanf(string(r.Data), "%d:%d", &w, &i)
			if next[w] != i {
				t.Fatalf("writer %d: got %d, want %d", w, i, next[w])
			}
			next[w]++
		}
		got += len(recs)
		if err := cons.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
		if rand.IntN(10) == 0 {
			time.Sleep(200 * time.Microsecond)
		}
	}
	wg.Wait()
}

// The ring removed under running writers (ipcrm): writers go on into the
// file part, the consumer drains the orphan and the file part, then makes a
// new ring; nothing is lost.
func TestRingRemovedUnderWriters(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Block, true, 64)
	prod := f.open(Block, false, 64)
	for i := 0; i < 5; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	id, err := ipc.OpenShm(f.key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipc.RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // producers notice within 250 ms
	for i := 5; i < 20; i++ {
		if err := prod.Put(rec(i), time.Second); err != nil {
			t.Fatalf("put %d after removal: %v", i, err)
		}
	}
	got := drain(t, cons, 20)
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for i := 0; i < 20; i++ {
		if !seen[string(rec(i))] {
			t.Fatalf("record %d lost (got %v)", i, got)
		}
	}
	// The consumer makes a new ring; the writer finds it again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cons.Take(10 * time.Millisecond)
		if ok, _ := shmq.Exists(f.key); ok || time.Now().After(deadline) {
			break
		}
	}
	if ok, _ := shmq.Exists(f.key); !ok {
		t.Fatal("consumer did not make a new ring")
	}
}

// A planned restart: Save moves the ring into the file part; the ring is
// then lost (reboot); a new consumer gets every record.
func TestSaveSurvivesLostRing(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 16)
	for i := 0; i < 10; i++ {
		if err := cons.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	r, err := cons.Take(0) // taken, not committed: saved too
	if err != nil {
		t.Fatal(err)
	}
	_ = r
	n, err := cons.Save()
	if err != nil || n != 10 {
		t.Fatalf("Save = %d, %v", n, err)
	}
	cons.Close()
	if err := shmq.Remove(f.key); err != nil { // the reboot
		t.Fatal(err)
	}
	again := f.open(Spill, true, 16)
	got, marked := drainMarked(t, again, 10)
	for i, g := range got {
		if g != string(rec(i)) {
			t.Fatalf("after restart record %d is %s", i, g)
		}
		// The one taken before the save was delivered: it keeps its mark.
		if marked[i] != (i == 0) {
			t.Errorf("after restart record %d: Redelivered = %v", i, marked[i])
		}
	}
}

// The ring removed while an idle producer stays attached to the orphan, and
// a new ring made at once (m1check runs ipcq create): the consumer leaves
// the orphan once it has been empty for the grace time, and takes what a
// restarted producer wrote into the new ring.
func TestConsumerLeavesOrphanForNewRing(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 64)
	idle := f.open(Spill, false, 64) // attached, never puts again
	if err := idle.Put(rec(0), 0); err != nil {
		t.Fatal(err)
	}
	id, err := ipc.OpenShm(f.key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipc.RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	// ipcq create: a new ring under the same key.
	created, err := shmq.Open(shmq.Options{Name: "SPILL", Key: f.key, Capacity: 64, RecordSize: 64, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	created.Close()
	restarted := f.open(Spill, false, 64)
	for i := 1; i < 10; i++ {
		if err := restarted.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(t, cons, 10)
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for i := 0; i < 10; i++ {
		if !seen[string(rec(i))] {
			t.Fatalf("record %d not delivered: %v", i, got)
		}
	}
	_ = idle
}

// Under steady traffic that the consumer keeps up with, a burst's spill ends
// once the consumer has caught up: writers return to the ring while they
// go on writing, and the file part is not on every message's path.
func TestSpillEndsUnderSteadyTraffic(t *testing.T) {
	t.Run("one writer", func(t *testing.T) { spillEndsUnderSteadyTraffic(t, fileq.SyncNone, 1) })
	// Writers counted inside a file put keep the word set: four of them,
	// with real syncs. (On the development VM, whose disk acknowledges
	// syncs early, this passes also when writers are counted until the
	// sync rather than until the write.)
	t.Run("four writers, group sync", func(t *testing.T) { spillEndsUnderSteadyTraffic(t, fileq.SyncGroup, 4) })
}

func spillEndsUnderSteadyTraffic(t *testing.T, d fileq.Durability, writers int) {
	f := newFixture(t)
	f.durability = d
	cons := f.open(Spill, true, 16)
	prods := make([]*Queue, writers)
	for w := range prods {
		prods[w] = f.open(Spill, false, 16)
	}
	prod := prods[0]
	for i := 0; i < 100; i++ { // the burst: 84 go to the file part
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if !prod.Spilling() {
		t.Fatal("burst did not spill")
	}
	stop := make(chan struct{})
	done := make(chan error, writers)
	var wg sync.WaitGroup
	for _, p := range prods {
		wg.Add(1)
		go func() { // steady traffic, one record every 200 µs each
			defer wg.Done()
			for i := 100; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := p.Put(rec(i), time.Second); err != nil {
					done <- err
					return
				}
				time.Sleep(200 * time.Microsecond)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	back := false
	for time.Now().Before(deadline) && !back {
		if recs, err := cons.TakeBatch(nil, 64, 20*time.Millisecond); err == nil {
			if err := cons.Commit(recs[len(recs)-1].Pos); err != nil {
				t.Fatal(err)
			}
		}
		back = !prod.Spilling()
	}
	close(stop)
	wg.Wait()
	close(done)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !back {
		t.Fatal("writers still go to the file part 5 s after the burst, under steady traffic")
	}
}

// Save by a consumer that has not taken anything yet, after a predecessor
// took records and died without committing: everything is saved, and the
// records the predecessor took keep their Redelivered mark in the file part
// (without it, a dist takes a record's own key in the duplicate index for a
// duplicate: gw/tkm's TestExactlyOnceAfterSIGKILL caught it), for this
// handle and for the next.
func TestSaveBeforeFirstTake(t *testing.T) {
	f := newFixture(t)
	first := f.open(Spill, true, 16)
	for i := 0; i < 8; i++ {
		if err := first.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := first.TakeBatch(nil, 5, 0); err != nil { // taken, never committed
		t.Fatal(err)
	}
	first.Close()
	again := f.open(Spill, true, 16)
	if n, err := again.Save(); err != nil || n != 8 {
		t.Fatalf("Save = %d, %v", n, err)
	}
	check := func(who string, got []string, marked []bool, from int) {
		t.Helper()
		for i, g := range got {
			if g != string(rec(from+i)) {
				t.Fatalf("%s: record %d is %s", who, from+i, g)
			}
			if marked[i] != (from+i < 5) {
				t.Errorf("%s: record %d: Redelivered = %v", who, from+i, marked[i])
			}
		}
	}
	recs, err := again.TakeBatch(nil, 2, 2*time.Second)
	if err != nil || len(recs) != 2 {
		t.Fatalf("take after Save: %d records, %v", len(recs), err)
	}
	if err := again.Commit(recs[1].Pos); err != nil {
		t.Fatal(err)
	}
	check("after Save", []string{string(recs[0].Data), string(recs[1].Data)},
		[]bool{recs[0].Redelivered, recs[1].Redelivered}, 0)
	// The next consumer, after this one died too, still sees the marks.
	again.Close()
	third := f.open(Spill, true, 16)
	got, marked := drainMarked(t, third, 6)
	check("next consumer", got, marked, 2)
}

// A ring removed (ipcrm) while it still holds records, and its consumer
// killed afterwards: the records it had not taken were moved to the file
// part when it saw the removal, so the next consumer gets them although the
// orphaned segment died with its last detach.
func TestRemovedRingRescuedBeforeConsumerDies(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 64)
	prod := f.open(Spill, false, 64)
	for i := 0; i < 20; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close() // no producer keeps the orphan alive
	first, err := cons.TakeBatch(nil, 5, 0)
	if err != nil || len(first) != 5 {
		t.Fatalf("TakeBatch = %d, %v", len(first), err)
	}
	if err := cons.Commit(first[4].Pos); err != nil {
		t.Fatal(err)
	}
	id, err := ipc.OpenShm(f.key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipc.RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	// The consumer goes on as dist does, a record at a time, slowly,
	// committing each; once it has seen the removal for rescueAfter it
	// moves the rest to the file part. Then it takes one more (in flight)
	// and is killed before committing it.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if st, _ := cons.Stat(); st.FileLen > 0 {
			break
		}
		r, err := cons.Take(50 * time.Millisecond)
		if errors.Is(err, queue.ErrEmpty) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := cons.Commit(r.Pos); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, _ := cons.Stat()
	if st.FileLen == 0 {
		t.Fatal("the consumer did not move the removed ring's records to the file part")
	}
	if _, err := cons.Take(0); err != nil {
		t.Fatal(err)
	}
	cons.Close() // killed: the last record uncommitted; the orphan's last detach
	again := f.open(Spill, true, 64)
	seen := map[string]bool{}
	for {
		r, err := again.Take(500 * time.Millisecond)
		if errors.Is(err, queue.ErrEmpty) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[string(r.Data)] = true
		if err := again.Commit(r.Pos); err != nil {
			t.Fatal(err)
		}
	}
	// Every record is either committed by the first consumer or delivered
	// to the second, except the one it had in flight when it died.
	if len(seen) < st.FileLen-1 {
		t.Fatalf("%d records delivered after the consumer died, %d were moved to the file part", len(seen), st.FileLen)
	}
	if len(seen) == 0 {
		t.Fatal("nothing delivered after the consumer died")
	}
}

// A writer killed inside a file put leaves the count of writers in the file
// part standing; the consumer resets it after Grace, with both parts empty,
// or the queue would spill for good.
func TestKilledFileWriterCountReset(t *testing.T) {
	f := newFixture(t)
	cons, err := Open(Options{
		Shm:    shmq.Options{Name: "SPILL", Key: f.key, Capacity: 8, RecordSize: 64},
		Dir:    f.dir,
		File:   fileq.Options{Durability: fileq.SyncNone},
		Policy: Spill, Consumer: true, Grace: 300 * time.Millisecond,
		Log: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cons.Close() })
	raw, err := shmq.Open(shmq.Options{Name: "SPILL", Key: f.key, Capacity: 8, RecordSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	raw.MarkSpilling()
	if _, spill, err := raw.PutOrSpill([][]byte{rec(0)}, 0); err != nil || !spill {
		t.Fatalf("PutOrSpill = %v, %v; want told to spill", spill, err)
	}
	// ... and "killed": no file put, no SpillDone.
	deadline := time.Now().Add(3 * time.Second)
	for raw.Spilling() {
		if time.Now().After(deadline) {
			t.Fatalf("still spilling after 3 s with %d writers counted", raw.FileWriters())
		}
		if _, err := cons.Take(20 * time.Millisecond); !errors.Is(err, queue.ErrEmpty) {
			t.Fatalf("Take = %v, want empty", err)
		}
	}
	if raw.FileWriters() != 0 {
		t.Fatalf("%d writers counted after the reset", raw.FileWriters())
	}
}

// TestRingLenSeesRemoval: a handle that only reads the ring's depth (eai_lsnr's
// intake brake on DBX) forgets a removed ring instead of reading its dead
// header for good.
func TestRingLenSeesRemoval(t *testing.T) {
	f := newFixture(t)
	f.open(Spill, true, 64) // the consumer makes the ring, and takes nothing here
	prod := f.open(Spill, false, 64)
	reader := f.open(Spill, false, 64)
	for i := 0; i < 5; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := reader.RingLen(); n != 5 {
		t.Fatalf("RingLen %d, want 5", n)
	}
	id, err := ipc.OpenShm(f.key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipc.RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for reader.RingLen() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("RingLen still %d 5 s after the segment was removed", reader.RingLen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !reader.Spilling() {
		t.Error("a handle without a ring should report spilling (writers go to the file part)")
	}
}
