package dupindex

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envCrashRounds sets the number of rounds of TestCrash (default 50).
const envCrashRounds = "DUPINDEX_CRASH_ROUNDS"

// TestCrash kills inserting processes with SIGKILL at random instants,
// round after round, on one file. Each child prints a key the moment its
// insert returned dup == false. Then:
//   - no key was reported inserted twice, across all children and rounds;
//   - every reported key is in the index;
//   - the index opens, and every stripe lock can be taken: nothing is left
//     blocked by a process killed while holding one.
//
// Few stripe locks and a small table make a kill inside a critical section
// and on a lock likely; later rounds' children must take those locks over
// and reuse the half-written slots.
func TestCrash(t *testing.T) {
	rounds := 50
	if s := os.Getenv(envCrashRounds); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", envCrashRounds, s, err)
		}
		rounds = n
	}
	if testing.Short() {
		rounds = 5
	}
	const (
		nProcs       = 3
		keysPerRound = 4000
		client       = "CRASH"
	)
	// Room for every key of every round at under 70% full.
	g := Geometry{Slots: uint64(rounds+1) * keysPerRound * 3 / 2, Probe: DefaultProbe, Locks: 16, Window: 24 * time.Hour}
	dir := t.TempDir()
	path := filepath.Join(dir, "dup.idx")
	opts := Options{Path: path, Capacity: g.Slots, Probe: g.Probe, Locks: g.Locks, Window: g.Window}

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	inserted := map[string]int{} // key -> round it was reported in
	killedEarly := 0
	for round := range rounds {
		// This round's keys, and the previous round's (already in: they
		// must all be duplicates now).
		first := round * keysPerRound
		keys := fmt.Sprintf("%d,%d", first, keysPerRound)
		if round > 0 {
			keys += fmt.Sprintf(",%d,%d", first-keysPerRound, keysPerRound)
		}
		var cs []*child
		for i := range nProcs {
			cs = append(cs, startChild(t, "crash", path, g, client, keys, round*nProcs+i))
		}
		for i, c := range cs {
			if l, ok := <-c.lines; !ok || l != "READY" {
				t.Fatalf("round %d child %d: first line %q", round, i, l)
			}
		}
		// Kill each child at its own random instant while it inserts
		// (the inserts of a round take some 10 to 40 ms).
		for _, c := range cs {
			time.Sleep(time.Duration(r.IntN(8000)) * time.Microsecond)
			c.cmd.Process.Signal(syscall.SIGKILL)
		}
		for i, c := range cs {
			lines, err := c.finish()
			if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Fatalf("round %d child %d was not killed: %v (%d lines)", round, i, err, len(lines))
			}
			for _, l := range lines {
				if l == "END" {
					killedEarly++ // finished its keys before the kill
					continue
				}
				k, ok := strings.CutPrefix(l, "I ")
				if !ok {
					t.Fatalf("round %d child %d: bad line %q", round, i, l)
				}
				if prev, dup := inserted[k]; dup {
					t.Fatalf("key %s reported inserted twice (rounds %d and %d)", k, prev, round)
				}
				inserted[k] = round
			}
		}
	}

	x := openTest(t, opts)
	now := time.Now()
	for k := range inserted {
		ok, err := x.Contains(client, k, now)
		if err != nil || !ok {
			t.Fatalf("key %s reported inserted but not found: %v %v", k, ok, err)
		}
	}
	held, writing := 0, 0
	for i := range g.Locks {
		if x.lockWord(i).Load() != 0 {
			held++
		}
	}
	for s := range g.Slots {
		if wordState(x.stateWord(s).Load()) == stWriting {
			writing++
		}
	}
	before, _ := x.Stats()
	// Every insert counted made one live entry. The count is bumped after
	// the entry goes live, so a child killed between the two leaves one
	// live entry uncounted: at most one per kill (CI saw 80,048 live
	// against 80,047 counted when the check was an equality).
	kills := uint64(rounds * nProcs)
	if live, _ := x.CountLive(now); live < before.Inserted || live > before.Inserted+kills {
		t.Fatalf("%d live entries, %d inserts counted: want between %d and %d (one uncounted per kill at most)",
			live, before.Inserted, before.Inserted, before.Inserted+kills)
	}

	// Nothing blocked: fresh keys on every stripe go in, within a generous
	// bound (a blocked lock would hang for ever).
	done := make(chan error, 1)
	go func() {
		for i := range 2000 {
			dup, err := x.CheckAndInsert(client, fmt.Sprintf("FRESH%d", i), now)
			if err == nil && dup {
				err = fmt.Errorf("fresh key FRESH%d seen as duplicate", i)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("inserts blocked after the crashes")
	}
	for i := range g.Locks {
		if w := x.lockWord(i).Load(); w != 0 {
			t.Fatalf("lock %d still held by %x", i, w)
		}
	}
	after, _ := x.Stats()
	t.Logf("%d rounds, %d children (%d finished before the kill), %d keys reported inserted; "+
		"left by the kills: %d locks held, %d half-written slots; stats before the check %+v, after %+v",
		rounds, rounds*nProcs, killedEarly, len(inserted), held, writing, before, after)
}
