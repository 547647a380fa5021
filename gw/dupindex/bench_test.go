package dupindex

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks run one stream of operations: op i checks and inserts key
// i mod benchKeys at benchClock(i), which advances one second every 1000
// operations, with a 60 s window: about 60,000 keys live at any time, as a
// day's traffic of 86 million messages would keep in a 24 h window scaled
// down. Keys come back after benchKeys operations, long expired.
const (
	benchKeys   = 1 << 20
	benchWindow = time.Minute
)

var benchBase = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

func benchClock(i int) time.Time { return benchBase.Add(time.Duration(i/1000) * time.Second) }

var benchNames = sync.OnceValue(func() []string {
	n := make([]string, benchKeys)
	for i := range n {
		n[i] = testKey(i)
	}
	return n
})

var benchGeometry = Geometry{Slots: benchKeys, Probe: DefaultProbe, Locks: DefaultLocks, Window: benchWindow}

func benchOptions(path string) Options {
	g := benchGeometry
	return Options{Path: path, Capacity: g.Slots, Probe: g.Probe, Locks: g.Locks, Window: g.Window}
}

// checker is what the benchmarks drive: the index, or the baseline.
type checker interface {
	CheckAndInsert(clientID, msgKey string, now time.Time) (bool, error)
}

// mapChecker is the baseline: the same check in one process's memory, a Go
// map under a mutex, with nothing shared, durable or crash-safe.
type mapChecker struct {
	mu sync.Mutex
	m  map[[2]string]int64
}

func (c *mapChecker) CheckAndInsert(clientID, msgKey string, now time.Time) (bool, error) {
	k := [2]string{clientID, msgKey}
	t := now.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok && t-old < int64(benchWindow/time.Second) {
		return true, nil
	}
	c.m[k] = t
	return false, nil
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func runSingle(b *testing.B, c checker) {
	names := benchNames()
	b.ResetTimer()
	for i := range b.N {
		if _, err := c.CheckAndInsert("BENCH", names[i%benchKeys], benchClock(i)); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func runParallel(b *testing.B, c checker) {
	names := benchNames()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			if _, err := c.CheckAndInsert("BENCH", names[i%benchKeys], benchClock(i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkCheckAndInsert: the index beside the baseline, one goroutine and
// GOMAXPROCS goroutines; the index in its worst long-run state (every slot
// used once, so no scan stops early); and two processes on one file.
func BenchmarkCheckAndInsert(b *testing.B) {
	newIndex := func(b *testing.B) *Index {
		return openTest(b, benchOptions(filepath.Join(b.TempDir(), "dup.idx")))
	}
	b.Run("index/single", func(b *testing.B) { runSingle(b, newIndex(b)) })
	b.Run("map+mutex/single", func(b *testing.B) { runSingle(b, &mapChecker{m: map[[2]string]int64{}}) })
	b.Run("index/parallel", func(b *testing.B) { runParallel(b, newIndex(b)) })
	b.Run("map+mutex/parallel", func(b *testing.B) { runParallel(b, &mapChecker{m: map[[2]string]int64{}}) })
	b.Run("index/single-worn", func(b *testing.B) {
		x := newIndex(b)
		for s := range x.hdr.Slots {
			x.stateWord(s).Store(mkWord(stFree, 0, 0))
		}
		runSingle(b, x)
	})
	b.Run("index/2proc", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "dup.idx")
		openTest(b, benchOptions(path)).Close()
		half := b.N/2 + 1
		var cs []*child
		for i := range 2 {
			// Each process its own keys, as two listeners serving
			// different clients.
			cs = append(cs, startChild(b, "bench", path, benchGeometry, fmt.Sprint("BENCH", i), fmt.Sprintf("0,%d", half), i))
		}
		time.Sleep(100 * time.Millisecond) // let both open the file and build their keys
		b.ResetTimer()
		for _, c := range cs {
			c.stdin.Write([]byte("go\n"))
		}
		for i, c := range cs {
			lines, err := c.finish()
			if err != nil || len(lines) == 0 || lines[len(lines)-1] != "DONE" {
				b.Fatalf("child %d: %v %q", i, err, lines)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(2*half)/b.Elapsed().Seconds(), "ops/s")
	})
}
