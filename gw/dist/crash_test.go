package dist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

const crashEnv = "M1_DIST_CRASH_CHILD"

type crashSpec struct {
	Keys    map[string]ipc.Key
	Caps    map[string]int
	Journal string
}

func crashConfig(t testing.TB) *config.Config {
	c := testConfig(t, []config.Route{route("", "KT1=1, KT2=1")}, "KT1", "KT2")
	c.Dist.Batch = 7 // many transactions per run: many places to be killed
	return c
}

// TestMain runs the crash child when the environment asks for it.
func TestMain(m *testing.M) {
	if s := os.Getenv(senderEnv); s != "" {
		senderChild(s)
		os.Exit(0)
	}
	if s := os.Getenv(crashEnv); s != "" {
		var spec crashSpec
		if err := json.Unmarshal([]byte(s), &spec); err != nil {
			panic(err)
		}
		r := &rig{keys: spec.Keys, caps: spec.Caps}
		testHookBeforeCommit = func() { time.Sleep(300 * time.Microsecond) }
		idx, err := dupindex.Open(dupindex.Options{Path: spec.Journal + ".dup", Capacity: 1 << 14, Locks: 1 << 6})
		if err != nil {
			panic(err)
		}
		d, err := New(Options{Config: crashConfig(nopTB{}), Log: zap.NewNop(), Dup: idx,
			Open: func(n string, _ bool) (queue.Queue, error) { return r.open(n) }, JournalPath: spec.Journal})
		if err != nil {
			panic(err)
		}
		if err := d.Main(); err != nil {
			fmt.Fprintln(os.Stderr, "dist:", err) // for the test's failure message
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nopTB lets the child build the test configuration.
type nopTB struct{ testing.TB }

func (nopTB) Fatal(args ...any) { panic(args) }

// TestCrashExactlyOnce kills a real dist process with SIGKILL at random
// points, many rounds, and checks that every record reaches exactly one
// sender queue (the journal's promise: no duplicates at all), and that DBX
// has an Accept for each.
func TestCrashExactlyOnce(t *testing.T) {
	cfg := crashConfig(t)
	r := newRig(t, cfg, 20000)
	const n = 4000
	var recs [][]byte
	ids := map[string]bool{}
	for range n {
		b := r.message(nil)
		m, _ := msg.DecodeMessage(b)
		ids[m.GWID] = true
		recs = append(recs, b)
	}
	r.put("DIST.S", recs...)
	spec, _ := json.Marshal(crashSpec{Keys: r.keys, Caps: r.caps, Journal: r.dir + "/dist.journal"})
	lane := r.q("DIST.S")
	rounds := 0
	// The kill comes at a random point of a window that widens while
	// rounds make no progress (a slow start, as under -race). After 20
	// rounds without progress one child is let run until it makes some
	// (at most 30 s): on a machine slowed down enough that a child needs
	// more than the widest window to start, the rounds would otherwise
	// never get anywhere (CI failed so once: 1000 rounds, nothing taken).
	window := 12 * time.Millisecond
	stalled := 0
	var lastOut bytes.Buffer
	for lane.Len() > 0 && rounds < 1000 {
		rounds++
		before := lane.Len()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+string(spec))
		lastOut.Reset()
		cmd.Stdout, cmd.Stderr = &lastOut, &lastOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if stalled >= 20 {
			deadline := time.Now().Add(30 * time.Second)
			for lane.Len() == before && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		time.Sleep(time.Duration(rand.Int64N(int64(window))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if lane.Len() == before {
			window = min(window+5*time.Millisecond, time.Second)
			stalled++
		} else {
			stalled = 0
		}
	}
	if lane.Len() > 0 {
		t.Fatalf("after %d rounds %d records left; the last child said: %q", rounds, lane.Len(), lastOut.String())
	}
	seen := map[string]int{}
	for _, q := range []string{"SND.KT1", "SND.KT2"} {
		for _, m := range drainMsgs(t, r.q(q), n, 2*time.Second) {
			seen[m.GWID]++
		}
	}
	accepted := map[string]bool{}
	repeated := 0
	for _, e := range drainEvents(t, r.q("DBX"), 1<<30, 3*time.Second) {
		switch e.Kind {
		case msg.KindAccept:
			if accepted[e.GWID] {
				repeated++
			}
			accepted[e.GWID] = true
		default:
			// The children share a real duplicate index: a redelivered
			// record must not be taken for a duplicate of itself.
			t.Errorf("%s: event %c %v; every record is unique", e.GWID, e.Kind, e.ResultCode)
		}
	}
	dups := 0
	for id := range ids {
		switch c := seen[id]; {
		case c == 0:
			t.Errorf("%s reached no sender queue", id)
		case c > 1:
			dups++
		}
		if !accepted[id] {
			t.Errorf("%s has no Accept", id)
		}
	}
	if dups > 0 || len(seen) != n {
		t.Fatalf("%d records on two sender queues, %d distinct of %d", dups, len(seen), n)
	}
	// A repeated Accept is a record redelivered after its DBX put: those
	// killed after their sender put too are the duplicates the journal
	// prevented.
	t.Logf("%d kill rounds, %d records, each on exactly one sender queue; %d Accepts repeated", rounds, n, repeated)
}
