package spill

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"

	"github.com/m1gw/m1/internal/testchild"
)

// TestOrphanChild is the consumer TestRingRemovedWhileConsumerDead kills:
// it takes SPILL_TAKE records without committing them, says so, and waits.
func TestOrphanChild(t *testing.T) {
	if os.Getenv("SPILL_CHILD") != "consumer" {
		t.Skip("helper process")
	}
	key, _ := ipc.ParseKey(os.Getenv("SPILL_KEY"))
	n, _ := strconv.Atoi(os.Getenv("SPILL_TAKE"))
	q, err := Open(Options{
		Shm:    shmq.Options{Name: "SPILL", Key: key, Capacity: 64, RecordSize: 64},
		Dir:    os.Getenv("SPILL_DIR"),
		File:   fileq.Options{Durability: fileq.SyncNone},
		Policy: Spill, Consumer: true, Log: zap.NewNop(),
	})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	got := 0
	for got < n {
		recs, err := q.TakeBatch(nil, n-got, time.Second)
		if err != nil {
			fmt.Println("error", err)
			return
		}
		got += len(recs)
	}
	fmt.Println("taken", got)
	time.Sleep(time.Minute)
}

// A ring removed (ipcrm) while its consumer is dead used to die with the
// last producer's detach, taking its records along. Producers now hold it
// until it is drained, the consumer records its shmid, and the next
// consumer adopts it: every record comes out, the ones the dead consumer
// had taken marked Redelivered, the orphan's before the file part's.
func TestRingRemovedWhileConsumerDead(t *testing.T) {
	f := newFixture(t)
	cons := f.open(Spill, true, 64) // makes the ring and the rings file
	if err := cons.Close(); err != nil {
		t.Fatal(err)
	}
	prod := f.open(Spill, false, 64)
	for i := 0; i < 40; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
	}

	// A consumer takes 15 and is killed before committing them.
	cmd, out := testchild.Start(t, "^TestOrphanChild$", "SPILL_CHILD=consumer", "SPILL_KEY="+f.key.String(),
		"SPILL_DIR="+f.dir, "SPILL_TAKE=15")
	testchild.Expect(t, out, "taken 15")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// ipcrm -m while the consumer is dead; the producer goes on.
	id, err := ipc.OpenShm(f.key, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ipc.RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	for i := 40; i < 60; i++ {
		if err := prod.Put(rec(i), 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // the removal is seen within 250 ms
	}
	if info, err := ipc.StatShm(id); err != nil || !info.Removed || info.Nattch != 1 {
		t.Fatalf("the removed ring: %+v, %v; want it removed and held by the producer alone", info, err)
	}

	again := f.open(Spill, true, 64)
	var got []queue.Record
	for len(got) < 60 {
		recs, err := again.TakeBatch(nil, 8, 2*time.Second)
		if err != nil {
			t.Fatalf("after %d records: %v", len(got), err)
		}
		got = append(got, recs...)
		if err := again.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
	if extra, err := again.Take(500 * time.Millisecond); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("a 61st record %q, %v", extra.Data, err)
	}
	seen := map[string]int{}
	redelivered := 0
	for i, r := range got {
		seen[string(r.Data)]++
		if r.Redelivered {
			redelivered++
			if string(r.Data) >= string(rec(15)) {
				t.Errorf("record %q marked redelivered; the dead consumer took only the first 15", r.Data)
			}
		}
		if i < 40 && string(r.Data) != string(rec(i)) {
			t.Errorf("record %d is %q: the orphan's records come first, in order", i, r.Data)
		}
	}
	for i := 0; i < 60; i++ {
		if seen[string(rec(i))] != 1 {
			t.Errorf("record %q delivered %d times", rec(i), seen[string(rec(i))])
		}
	}
	if redelivered != 15 {
		t.Errorf("%d records marked redelivered, want the 15 the dead consumer took", redelivered)
	}

	// Drained and committed: the producer lets go at its next put, and the
	// orphan is gone with it.
	deadline := time.Now().Add(3 * time.Second)
	for {
		if err := prod.Put(rec(99), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := ipc.StatShm(id); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the drained orphan is still attached")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
