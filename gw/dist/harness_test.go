package dist

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// rig is a dist over real shared-memory queues with random keys.
type rig struct {
	t        testing.TB
	cfg      *config.Config
	keys     map[string]ipc.Key
	caps     map[string]int
	health   *StaticHealth
	dup      DupIndex  // nil: no duplicate checks
	pnx      PNXSource // nil: no learned PNX
	pnxEvery time.Duration
	d        *Dist
	done     chan error
	seq      int
	dir      string
}

func testKey(t testing.TB) ipc.Key {
	for {
		k := ipc.Key(0x7e000000 | rand.Int32N(0xffffff))
		if ok, _ := shmq.Exists(k); !ok {
			t.Cleanup(func() { _ = shmq.Remove(k) })
			return k
		}
	}
}

const testCallbacks = "BANK01 0215880000\nDEMO01 0215880000\n"
const testPNX = "default KT\n011 SKT\n019 LGT\n"

func testConfig(t testing.TB, routes []config.Route, senders ...string) *config.Config {
	cb, err := config.ParseCallbacks(strings.NewReader(testCallbacks), "callbacks.conf")
	if err != nil {
		t.Fatal(err)
	}
	pnx, err := config.ParsePNX(strings.NewReader(testPNX), "pnx.conf")
	if err != nil {
		t.Fatal(err)
	}
	c := &config.Config{Callbacks: cb, PNX: pnx, Routes: &config.Routes{List: routes}}
	for _, s := range senders {
		c.Senders = append(c.Senders, config.Sender{ID: s, Queue: "SND." + s})
	}
	c.Dist = config.Dist{Batch: 100, StarveMax: 16, RetryEvery: config.Duration(5 * time.Millisecond)}
	c.Timeouts = config.Timeouts{Validity: config.Duration(24 * time.Hour), SenderDownReroute: config.Duration(time.Hour)}
	return c
}

func newRig(t testing.TB, cfg *config.Config, sndCap int) *rig {
	r := &rig{t: t, cfg: cfg, keys: map[string]ipc.Key{}, caps: map[string]int{}, health: &StaticHealth{}, dir: t.TempDir()}
	for _, n := range []string{"DIST.R", "DIST.S", "DIST.B"} {
		r.keys[n], r.caps[n] = testKey(t), 20000
	}
	r.keys["DBX"], r.caps["DBX"] = testKey(t), 40000
	for _, s := range cfg.Senders {
		r.keys[s.Queue], r.caps[s.Queue] = testKey(t), sndCap
	}
	return r
}

func (r *rig) open(name string) (queue.Queue, error) {
	k, ok := r.keys[name]
	if !ok {
		return nil, fmt.Errorf("no queue %s", name)
	}
	size := msg.MaxMessageSize
	if name == "DBX" {
		size = msg.MaxEventSize
	}
	return shmq.Open(shmq.Options{Name: name, Key: k, Capacity: r.caps[name], RecordSize: size, Create: true})
}

func (r *rig) q(name string) queue.Queue {
	q, err := r.open(name)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { q.Close() })
	return q
}

func (r *rig) start() {
	d, err := New(Options{Config: r.cfg, Log: zaptest.NewLogger(r.t), Dup: r.dup, PNX: r.pnx, PNXEvery: r.pnxEvery,
		Open:   func(n string, _ bool) (queue.Queue, error) { return r.open(n) },
		Health: r.health, JournalPath: filepath.Join(r.dir, "dist.journal")})
	if err != nil {
		r.t.Fatal(err)
	}
	r.d = d
	r.done = make(chan error, 1)
	go func() { r.done <- d.Main() }()
	r.t.Cleanup(r.stop)
}

func (r *rig) stop() {
	if r.d == nil {
		return
	}
	r.d.Exit()
	if err := <-r.done; err != nil {
		r.t.Errorf("Main: %v", err)
	}
	r.d = nil
}

// message returns a valid message record.
func (r *rig) message(mod func(*msg.Message)) []byte {
	r.seq++
	m := msg.Message{GWID: fmt.Sprintf("%020d", 10000000+r.seq), Source: msg.SourceT41, ClientID: "DEMO01",
		MsgKey: fmt.Sprintf("K%d", r.seq), MsgType: 'S', JobClass: 'S', AcceptTime: msg.FormatTime(time.Now()),
		Callback: "0215880000", Dest: "01012345678", Text: "hello"}
	if mod != nil {
		mod(&m)
	}
	return m.Encode(nil)
}

func (r *rig) put(lane string, recs ...[]byte) {
	q := r.q(lane)
	if n, err := q.PutBatch(recs, time.Second); err != nil || n != len(recs) {
		r.t.Fatalf("put %s: %d %v", lane, n, err)
	}
}

// drain takes everything in q within wait after the first record, decoded.
type taken struct {
	msgs   []msg.Message
	events []msg.Event
}

func drainMsgs(t testing.TB, q queue.Queue, want int, within time.Duration) []msg.Message {
	t.Helper()
	var out []msg.Message
	deadline := time.Now().Add(within)
	for len(out) < want && time.Now().Before(deadline) {
		recs, err := queue.GetBatch(q, 1000, 20*time.Millisecond)
		if err != nil && err != queue.ErrEmpty {
			t.Fatal(err)
		}
		for _, b := range recs {
			m, err := msg.DecodeMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

func drainEvents(t testing.TB, q queue.Queue, want int, within time.Duration) []msg.Event {
	t.Helper()
	var out []msg.Event
	deadline := time.Now().Add(within)
	for len(out) < want && time.Now().Before(deadline) {
		recs, err := queue.GetBatch(q, 1000, 20*time.Millisecond)
		if err != nil && err != queue.ErrEmpty {
			t.Fatal(err)
		}
		for _, b := range recs {
			e, err := msg.DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

var _ sync.Mutex
