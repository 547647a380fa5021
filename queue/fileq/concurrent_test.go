package fileq

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/m1gw/m1/queue"
)

// TestConcurrentProducers runs producers in goroutines (through one Queue
// and through Queues of their own) and a consumer at the same time: every
// record arrives once, each producer's in order.
func TestConcurrentProducers(t *testing.T) {
	for _, d := range []Durability{SyncGroup, SyncEvery, SyncNone} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{Consumer: true, SegmentSize: 16 << 10, Durability: d})
			defer c.Close()
			shared := openT(t, dir, Options{SegmentSize: 16 << 10, Durability: d})
			defer shared.Close()
			const producers, per = 8, 300
			var wg sync.WaitGroup
			errs := make(chan error, producers)
			for p := range producers {
				wg.Go(func() {
					q := shared
					if p%2 == 1 {
						own, err := Open(dir, Options{RecordSize: 1024, SegmentSize: 16 << 10, Durability: d}, nil)
						if err != nil {
							errs <- err
							return
						}
						defer own.Close()
						q = own
					}
					for n := range per {
						if p%3 == 0 && n%10 == 0 {
							var b [][]byte
							for k := range 10 {
								b = append(b, rec(uint64(p), uint64(n+k), 50))
							}
							if k, err := q.PutBatch(b, 0); k != 10 || err != nil {
								errs <- fmt.Errorf("PutBatch = %d, %w", k, err)
								return
							}
							continue
						}
						if p%3 == 0 {
							continue
						}
						if err := q.Put(rec(uint64(p), uint64(n), 20+n%200), 0); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			next := make([]uint64, producers)
			got := 0
			deadline := time.Now().Add(60 * time.Second)
			for got < producers*per {
				recs, err := c.TakeBatch(nil, 50, time.Second)
				if err != nil && !errors.Is(err, queue.ErrEmpty) {
					t.Fatal(err)
				}
				for _, r := range recs {
					p, n := parseRec(t, r.Data)
					if n != next[p] {
						t.Fatalf("producer %d: got %d, want %d", p, n, next[p])
					}
					next[p]++
					got++
				}
				if len(recs) > 0 {
					if err := c.Commit(recs[len(recs)-1].Pos); err != nil {
						t.Fatal(err)
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("only %d of %d records arrived", got, producers*per)
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if c.Len() != 0 {
				t.Fatalf("Len = %d after all", c.Len())
			}
		})
	}
}

// TestProducerProcesses runs two producer processes, two goroutines each,
// against a consumer in this process.
func TestProducerProcesses(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{Consumer: true, SegmentSize: 32 << 10})
	defer c.Close()
	const per = 1500
	var kids []*child
	for i := range 2 {
		kids = append(kids, startChild(t, "producer", "FILEQ_DIR="+dir, "FILEQ_SEGMENT=32768",
			"FILEQ_GOROUTINES=2", fmt.Sprintf("FILEQ_PRODUCER=%d", 10*i), fmt.Sprintf("FILEQ_COUNT=%d", per)))
	}
	next := map[uint64]uint64{}
	got := 0
	for got < 4*per {
		recs, err := c.TakeBatch(nil, 100, 20*time.Second)
		if err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		for _, r := range recs {
			p, n := parseRec(t, r.Data)
			if n != next[p] {
				t.Fatalf("producer %d: got %d, want %d", p, n, next[p])
			}
			next[p]++
			got++
		}
		c.Commit(recs[len(recs)-1].Pos)
	}
	for _, k := range kids {
		if lines := k.wait(t); len(lines) != 2*per {
			t.Fatalf("child acknowledged %d records", len(lines))
		}
	}
	if r, err := c.Take(0); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("extra record %+v", r)
	}
}
