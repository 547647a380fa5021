package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/queue/spill"
)

// spillReport measures the spilling queue while it spills: a ring of 256
// slots that one producer process's goroutines fill faster than the
// consumer drains it (the consumer sleeps 1 ms per batch), so most records
// go through the file part with group commit, beside the same load on the
// ring alone (block policy, never spilling) in the same run.
func spillReport(base string, d time.Duration, producers int) error {
	fmt.Println("\nspilling queue (1 KB records, ring of 256, consumer slowed to spill):")
	for _, c := range []struct {
		name   string
		policy spill.Policy
	}{{"ring only (block)", spill.Block}, {"spill", spill.Spill}} {
		rate, filePart, err := spillCase(base, c.policy, producers, d)
		if err != nil {
			return err
		}
		fmt.Printf("  %-18s %10.0f records/s  %5.1f%% through the file part\n", c.name, rate, 100*filePart)
	}
	return nil
}

func spillCase(base string, policy spill.Policy, producers int, d time.Duration) (rate, filePart float64, err error) {
	dir, err := os.MkdirTemp(base, "fqbench-spill-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	key := ipc.Key(0x7f000000 | rand.Int32N(0xffffff))
	defer shmq.Remove(key)
	opts := spill.Options{
		Shm:    shmq.Options{Name: "BENCH", Key: key, Capacity: 256, RecordSize: 1024},
		Dir:    filepath.Join(dir, "q"),
		File:   fileq.Options{Durability: fileq.SyncGroup},
		Policy: policy,
		Log:    zap.NewNop(),
	}
	cons := opts
	cons.Consumer = true
	c, err := spill.Open(cons)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	var stop atomic.Bool
	var got, viaFile atomic.Int64
	var perr error
	var once sync.Once
	var wg sync.WaitGroup
	data := make([]byte, 1024)
	// One producer process with many goroutines (as eai_lsnr is): one
	// handle, so that their file puts share group commits.
	p, err := spill.Open(opts)
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	for range producers {
		wg.Go(func() {
			for !stop.Load() {
				if err := p.Put(data, 100*time.Millisecond); err != nil && !errors.Is(err, queue.ErrFull) {
					once.Do(func() { perr = err })
					return
				}
			}
		})
	}
	start := time.Now()
	wg.Go(func() {
		recs := make([]queue.Record, 0, 256)
		for !stop.Load() {
			var err error
			recs, err = c.TakeBatch(recs[:0], 256, 20*time.Millisecond)
			if len(recs) == 0 {
				if err != nil && !errors.Is(err, queue.ErrEmpty) {
					once.Do(func() { perr = err })
					return
				}
				continue
			}
			if c.Spilling() {
				viaFile.Add(int64(len(recs)))
			}
			if err := c.Commit(recs[len(recs)-1].Pos); err != nil {
				once.Do(func() { perr = err })
				return
			}
			got.Add(int64(len(recs)))
			time.Sleep(time.Millisecond)
		}
	})
	time.Sleep(d * 4)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	if perr != nil {
		return 0, 0, perr
	}
	n := got.Load()
	if n == 0 {
		return 0, 0, fmt.Errorf("%s: nothing consumed", policy)
	}
	return float64(n) / el.Seconds(), float64(viaFile.Load()) / float64(n), nil
}
