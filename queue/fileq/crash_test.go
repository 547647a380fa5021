package fileq

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// TestCrashProducer kills producers with SIGKILL at random moments, round
// after round, while a consumer in this process takes and commits; every
// ten rounds the consumer is closed and opened again (recovery). At the
// end every acknowledged record has been delivered, none twice, none torn,
// each producer's in order.
func TestCrashProducer(t *testing.T) {
	dir := t.TempDir()
	n := crashRounds()
	acked := map[uint64]int{} // producer -> highest acknowledged number + 1
	seen := map[uint64]int{}  // producer -> next number expected from the queue
	opts := Options{RecordSize: 1024, Consumer: true, SegmentSize: 8 << 10}
	take := func(q *Queue, timeout time.Duration) (int, error) {
		recs, err := q.TakeBatch(nil, 50, timeout)
		for _, r := range recs {
			p, m := parseRecOK(r.Data)
			if int(m) != seen[p] {
				return 0, fmt.Errorf("producer %d: got %d at %d, expected %d (duplicate, gap or disorder)", p, m, r.Pos, seen[p])
			}
			seen[p]++
		}
		if len(recs) > 0 {
			if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
				return 0, err
			}
			return len(recs), nil
		}
		if errors.Is(err, queue.ErrEmpty) {
			err = nil
		}
		return 0, err
	}
	// consume runs a consumer until stop is closed.
	consume := func(stop chan struct{}, done chan error) {
		q, err := Open(dir, opts, zap.NewNop())
		if err != nil {
			done <- err
			return
		}
		for {
			select {
			case <-stop:
				done <- q.Close()
				return
			default:
			}
			if _, err := take(q, 5*time.Millisecond); err != nil {
				q.Close()
				done <- err
				return
			}
		}
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go consume(stop, done)
	durs := []string{"group", "group", "every", "none"}
	for round := range n {
		gs := 1 + round%4
		d := durs[round%len(durs)]
		base := round * 10
		c := startChild(t, "producer",
			"FILEQ_DIR="+dir, "FILEQ_DURABILITY="+d, "FILEQ_SEGMENT=8192",
			fmt.Sprintf("FILEQ_GOROUTINES=%d", gs), fmt.Sprintf("FILEQ_PRODUCER=%d", base),
			fmt.Sprintf("FILEQ_SIZE=%d", 16+rand.IntN(300)))
		// Kill at a random moment once it is writing.
		deadline := time.Now().Add(5 * time.Second)
		for c.nlines() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		for _, l := range c.kill() {
			var g, m int
			if _, err := fmt.Sscan(l, &g, &m); err != nil {
				t.Fatalf("bad line %q", l)
			}
			p := uint64(base + g)
			acked[p] = max(acked[p], m+1)
		}
		if round%10 == 9 {
			close(stop)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			stop = make(chan struct{})
			go consume(stop, done)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	q := openT(t, dir, opts)
	defer q.Close()
	for {
		k, err := take(q, 0)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	total := 0
	for p, a := range acked {
		if seen[p] < a {
			t.Fatalf("producer %d: %d records acknowledged, only %d delivered", p, a, seen[p])
		}
		total += a
	}
	if st, _ := q.Stat(); st.Len() != 0 {
		t.Fatalf("Len = %d at the end", st.Len())
	}
	t.Logf("%d rounds, %d producers, %d records acknowledged and delivered", n, len(acked), total)
}

// parseRecOK is parseRec for goroutines other than the test's.
func parseRecOK(b []byte) (producer, n uint64) {
	if len(b) < 16 {
		return 1 << 63, 0
	}
	producer, n = le.Uint64(b), le.Uint64(b[8:])
	if !bytes.Equal(b, rec(producer, n, len(b))) {
		return 1 << 63, n
	}
	return producer, n
}

// TestCrashConsumer kills consumers while they take and commit: nothing is
// lost, and only records taken but not committed come again, flagged.
func TestCrashConsumer(t *testing.T) {
	dir := t.TempDir()
	n := crashRounds()
	total := 200 * n
	q := openT(t, dir, Options{SegmentSize: 8 << 10, Durability: SyncNone})
	var batch [][]byte
	for i := range total {
		batch = append(batch, rec(1, uint64(i), 64))
	}
	if k, err := q.PutBatch(batch, 0); k != total || err != nil {
		t.Fatalf("PutBatch = %d, %v", k, err)
	}
	q.Close()

	// The child prints a record's T line after taking it and prints C after
	// Commit returned; a kill can fall between, so a record may be flagged
	// Redelivered (or committed) without the parent having seen it. Every
	// record is printed before it is committed, so none can be skipped
	// without showing up in delivered.
	delivered := make([]int, total) // times delivered
	taken := make([]bool, total)    // taken by an earlier consumer
	var committed int64 = -1        // highest commit acknowledged
	consume := func(lines []string) bool {
		var prev int64 = -1
		empty := false
		for _, l := range lines {
			f := strings.Fields(l)
			switch f[0] {
			case "E":
				empty = true
			case "C":
				var pos int64
				fmt.Sscan(f[1], &pos)
				committed = max(committed, pos)
			case "T":
				var pos, p, m, red int64
				fmt.Sscan(f[1], &pos)
				fmt.Sscan(f[2], &p)
				fmt.Sscan(f[3], &m)
				fmt.Sscan(f[4], &red)
				if pos != m || p != 1 {
					t.Fatalf("position %d holds record %d/%d", pos, p, m)
				}
				if pos <= committed {
					t.Fatalf("position %d delivered again after commit %d was acknowledged", pos, committed)
				}
				if prev >= 0 && pos != prev+1 {
					t.Fatalf("position %d after %d", pos, prev)
				}
				if taken[pos] && red == 0 {
					t.Fatalf("position %d taken before and delivered again without Redelivered", pos)
				}
				prev = pos
				delivered[pos]++
			}
		}
		for _, l := range lines {
			if f := strings.Fields(l); f[0] == "T" {
				var pos int
				fmt.Sscan(f[1], &pos)
				taken[pos] = true
			}
		}
		return empty
	}
	killed := 0
	for ; killed < n; killed++ {
		c := startChild(t, "consumer", "FILEQ_DIR="+dir, "FILEQ_SEGMENT=8192")
		// Kill at a random moment once it is taking.
		deadline := time.Now().Add(10 * time.Second)
		for c.nlines() == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		if consume(c.kill()) {
			break
		}
	}
	c := startChild(t, "consumer", "FILEQ_DIR="+dir, "FILEQ_SEGMENT=8192")
	consume(c.wait(t))
	again := 0
	for pos, k := range delivered {
		if k == 0 {
			t.Fatalf("position %d never delivered", pos)
		}
		again += k - 1
	}
	segs, _ := listSegments(dir)
	if len(segs) != 1 {
		t.Fatalf("%d segments left after everything was committed", len(segs))
	}
	t.Logf("%d records, %d consumers killed, %d records delivered again", total, killed, again)
}
