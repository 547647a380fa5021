package dupindex

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentExactlyOnce: goroutines of this process and child processes
// insert overlapping key sets at once, each in its own order. For every key
// exactly one caller in total got dup == false.
func TestConcurrentExactlyOnce(t *testing.T) {
	const (
		nKeys       = 20000
		nGoroutines = 4
		nProcs      = 3
		client      = "BANK01"
	)
	g := Geometry{Slots: 1 << 16, Probe: DefaultProbe, Locks: 256, Window: time.Hour}
	path := filepath.Join(t.TempDir(), "dup.idx")
	x := openTest(t, Options{Path: path, Capacity: g.Slots, Probe: g.Probe, Locks: g.Locks, Window: g.Window})

	// Every caller gets all keys, plus a range of its own no one else has.
	keysFor := func(i int) string { return fmt.Sprintf("0,%d,%d,100", nKeys, nKeys+100*(i+1)) }
	var children []*child
	for i := range nProcs {
		children = append(children, startChild(t, "insert", path, g, client, keysFor(i), i+1))
	}
	var (
		mu   sync.Mutex
		wins = map[string]int{}
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range nGoroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(100+i), 1))
			keys := append(r.Perm(nKeys), nKeys+100*(nProcs+i+1))
			<-start
			for _, k := range keys {
				dup, err := x.CheckAndInsert(client, testKey(k), time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if !dup {
					mu.Lock()
					wins[testKey(k)]++
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range children {
		c.stdin.Write([]byte("go\n"))
	}
	close(start)
	wg.Wait()
	perCaller := map[string]int{}
	for i, c := range children {
		lines, err := c.finish()
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		if len(lines) == 0 || lines[len(lines)-1] != "DONE" {
			t.Fatalf("child %d did not finish: %d lines", i, len(lines))
		}
		for _, l := range lines[:len(lines)-1] {
			k, ok := strings.CutPrefix(l, "W ")
			if !ok {
				t.Fatalf("child %d: bad line %q", i, l)
			}
			wins[k]++
			perCaller[fmt.Sprint("proc", i)]++
		}
	}
	want := nKeys + nProcs*100 + nGoroutines
	if len(wins) != want {
		t.Fatalf("%d keys won, want %d", len(wins), want)
	}
	for k, n := range wins {
		if n != 1 {
			t.Fatalf("key %s won %d times", k, n)
		}
	}
	st, _ := x.Stats()
	t.Logf("wins per child process: %v; stats %+v", perCaller, st)
	if st.Inserted != uint64(want) {
		t.Fatalf("Inserted counter %d, want %d", st.Inserted, want)
	}
}
