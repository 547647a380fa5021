package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// sinkMain drains the DIST lanes of an M1 home as their consumer (standing
// in for dist in a benchmark of the real eai_lsnr process) until ctx ends;
// with remove it then removes the home's DIST and RPT segments.
func sinkMain(ctx context.Context, home string, remove bool, stdout, stderr io.Writer) int {
	cfg, err := config.Load(home)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: sink:", err)
		return 2
	}
	names := []string{config.QueueDistR, config.QueueDistS, config.QueueDistB}
	var drained atomic.Int64
	var wg sync.WaitGroup
	var qs []queue.Queue
	for _, name := range names {
		q, err := queues.OpenConsumer(cfg, name, zap.NewNop())
		if err != nil {
			fmt.Fprintln(stderr, "loadgen: sink:", err)
			return 1
		}
		qs = append(qs, q)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var recs []queue.Record
			for ctx.Err() == nil {
				recs, err = q.TakeBatch(recs[:0], 256, 50*time.Millisecond)
				if len(recs) > 0 {
					if q.Commit(recs[len(recs)-1].Pos) == nil {
						drained.Add(int64(len(recs)))
					}
				} else if err != nil && !errors.Is(err, queue.ErrEmpty) {
					fmt.Fprintln(stderr, "loadgen: sink:", name, err)
					return
				}
			}
		}()
	}
	fmt.Fprintln(stderr, "loadgen: sink draining", names)
	wg.Wait()
	for _, q := range qs {
		_ = q.Close()
	}
	fmt.Fprintf(stdout, "sink: drained %d records\n", drained.Load())
	if remove {
		for _, name := range append(names, config.QueueRPT) {
			qc, ok := cfg.Queue(name)
			if !ok {
				continue
			}
			if k, err := qc.ResolveKey(); err == nil {
				_ = shmq.Remove(ipc.Key(k))
			}
		}
	}
	return 0
}
