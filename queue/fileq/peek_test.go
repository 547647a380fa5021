package fileq

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// peekAll returns the positions and record numbers Peek visits.
func peekAll(t *testing.T, dir string) (pos, nums []uint64) {
	t.Helper()
	err := Peek(dir, func(p uint64, data []byte) bool {
		_, n := parseRec(t, data)
		pos, nums = append(pos, p), append(nums, n)
		return true
	})
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	return pos, nums
}

// TestPeek: Peek sees every record from the committed position on, taken
// ones included, across segments, and changes nothing a consumer sees.
func TestPeek(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Consumer: true, SegmentSize: 2 << 10, Durability: SyncNone})
	defer q.Close()
	if pos, _ := peekAll(t, dir); len(pos) != 0 {
		t.Fatalf("empty queue: Peek saw %d records", len(pos))
	}
	for i := range 100 {
		if err := q.Put(rec(1, uint64(i), 100), 0); err != nil {
			t.Fatal(err)
		}
	}
	if segs, _ := listSegments(dir); len(segs) < 3 {
		t.Fatalf("%d segments; the test wants several", len(segs))
	}
	recs, err := q.TakeBatch(nil, 40, 0)
	if err != nil || len(recs) != 40 {
		t.Fatalf("TakeBatch = %d, %v", len(recs), err)
	}
	if err := q.Commit(recs[29].Pos); err != nil {
		t.Fatal(err)
	}
	pos, nums := peekAll(t, dir)
	if len(pos) != 70 {
		t.Fatalf("Peek saw %d records, want 70 (30..99, 10 of them taken)", len(pos))
	}
	for i := range pos {
		if pos[i] != uint64(30+i) || nums[i] != uint64(30+i) {
			t.Fatalf("Peek record %d: position %d, number %d", i, pos[i], nums[i])
		}
	}
	seen := 0
	if err := Peek(dir, func(uint64, []byte) bool { seen++; return seen < 5 }); err != nil || seen != 5 {
		t.Fatalf("stopped Peek: %d visits, %v", seen, err)
	}
	// A torn frame at the tail (a producer killed mid-write) ends the look
	// there, as it ends the consumer's.
	segs, _ := listSegments(dir)
	f, err := os.OpenFile(filepath.Join(dir, segName(segs[len(segs)-1])), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := appendFrame(nil, 100, time.Now().UnixNano(), rec(1, 100, 100))
	if _, err := f.Write(frame[:len(frame)-10]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if pos, _ := peekAll(t, dir); len(pos) != 70 {
		t.Fatalf("with a torn tail, Peek saw %d records, want 70", len(pos))
	}
	// Peek took nothing: the consumer still gets 40..99 (30..39 again
	// after a reopen, as taken and uncommitted).
	got := drain(t, q)
	if len(got) != 60 || got[0].Pos != 40 {
		t.Fatalf("after Peek the consumer got %d records from %d", len(got), got[0].Pos)
	}
	if pos, _ := peekAll(t, filepath.Join(dir, "missing")); len(pos) != 0 {
		t.Fatal("a missing directory is not empty")
	}
}

// TestPeekWhileCommitting: a consumer commits (and deletes segments)
// while Peek runs; every record still uncommitted at the end is seen, in
// order, with no gap.
func TestPeekWhileCommitting(t *testing.T) {
	dir := t.TempDir()
	q := openT(t, dir, Options{Consumer: true, SegmentSize: 4 << 10, Durability: SyncNone})
	defer q.Close()
	const n, stopAt = 3000, 2000
	for i := range n {
		if err := q.Put(rec(1, uint64(i), 200), 0); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				st, err := q.Stat()
				if err != nil || st.Commit >= uint64(stopAt-(4-round)*300) {
					return
				}
				recs, err := q.TakeBatch(nil, 7, 0)
				if err != nil || len(recs) == 0 {
					return
				}
				if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		pos, nums := peekAll(t, dir)
		wg.Wait()
		st, err := q.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if len(pos) == 0 || pos[len(pos)-1] != n-1 {
			t.Fatalf("round %d: Peek did not reach the tail", round)
		}
		// In order, always; a gap only over records committed meanwhile (a
		// segment deleted under Peek once wholly committed): uncommitted
		// records are never skipped.
		for i := range pos {
			if nums[i] != pos[i] || (i > 0 && pos[i] <= pos[i-1]) {
				t.Fatalf("round %d: Peek out of order at %d", round, pos[i])
			}
			if i > 0 && pos[i] != pos[i-1]+1 && pos[i] > st.Commit {
				t.Fatalf("round %d: Peek skipped %d..%d, not all committed (commit %d)", round, pos[i-1]+1, pos[i]-1, st.Commit)
			}
		}
		if pos[0] > st.Commit {
			t.Fatalf("round %d: Peek began at %d, after the commit position %d", round, pos[0], st.Commit)
		}
	}
}
