package dist

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/queue"
)

// benchRun feeds b.N records into DIST.S while run moves them to the
// sender queues; sinks drain SND.KT1, SND.KT2 and DBX. It reports
// records/s.
func benchRun(b *testing.B, batch int, run func(r *rig) (stop func())) {
	cfg := testConfig(b, []config.Route{route("", "KT1=3, KT2=1")}, "KT1", "KT2")
	cfg.Dist.Batch = batch
	r := newRig(b, cfg, 20000)
	rec := r.message(nil)
	lane := r.q("DIST.S")
	var sent atomic.Int64
	var wg sync.WaitGroup
	quit := make(chan struct{})
	sink := func(name string, count bool) {
		q := r.q(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []queue.Record
			for {
				select {
				case <-quit:
					return
				default:
				}
				recs, _ := q.TakeBatch(buf[:0], 1000, 20*time.Millisecond)
				buf = recs
				if len(recs) > 0 {
					_ = q.Commit(recs[len(recs)-1].Pos)
					if count {
						sent.Add(int64(len(recs)))
					}
				}
			}
		}()
	}
	sink("SND.KT1", true)
	sink("SND.KT2", true)
	sink("DBX", false)
	b.ResetTimer()
	start := time.Now()
	stop := run(r)
	wg.Add(1)
	go func() {
		defer wg.Done()
		chunk := make([][]byte, 100)
		for i := range chunk {
			chunk[i] = rec
		}
		for left := b.N; left > 0; left -= 100 {
			if _, err := lane.PutBatch(chunk[:min(100, left)], -1); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for sent.Load() < int64(b.N) {
		time.Sleep(200 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	stop()
	close(quit)
	wg.Wait()
	b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
}

func distRun(r *rig) func() {
	r.start()
	return r.stop
}

// BenchmarkDist is records through dist alone: batch 1 (one record per
// transaction) and batch 100.
func BenchmarkDist(b *testing.B) {
	b.Run("single", func(b *testing.B) { benchRun(b, 1, distRun) })
	b.Run("batched", func(b *testing.B) { benchRun(b, 100, distRun) })
	b.Run("batched500", func(b *testing.B) { benchRun(b, 500, distRun) })
}

// BenchmarkBaselineCopy is the same harness with a raw copy from the lane
// to SND.KT1 and nothing else: no decoding, routing, DBX or journal.
func BenchmarkBaselineCopy(b *testing.B) {
	benchRun(b, 100, func(r *rig) func() {
		src, dst := r.q("DIST.S"), r.q("SND.KT1")
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []queue.Record
			var data [][]byte
			for {
				select {
				case <-done:
					return
				default:
				}
				recs, _ := src.TakeBatch(buf[:0], 100, 10*time.Millisecond)
				buf = recs
				if len(recs) == 0 {
					continue
				}
				data = data[:0]
				for _, x := range recs {
					data = append(data, x.Data)
				}
				if _, err := dst.PutBatch(data, -1); err != nil {
					return
				}
				_ = src.Commit(recs[len(recs)-1].Pos)
			}
		}()
		return func() { close(done); wg.Wait() }
	})
}
