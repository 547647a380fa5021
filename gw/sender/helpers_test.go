package sender

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// testKey returns a SysV key of the test's own (0x7e......) and removes the
// queue under it when the test ends.
func testKey(t testing.TB) ipc.Key {
	t.Helper()
	for {
		k := ipc.Key(0x7e000000 | rand.Int32N(0xffffff))
		if ok, _ := shmq.Exists(k); !ok {
			t.Cleanup(func() { _ = shmq.Remove(k) })
			return k
		}
	}
}

func openQueue(t testing.TB, name string, key ipc.Key, capacity, size int, create bool) *shmq.Queue {
	t.Helper()
	q, err := shmq.Open(shmq.Options{Name: name, Key: key, Capacity: capacity, RecordSize: size, Create: create, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// rig is a sender's surroundings: its queue, DBX, a simulator.
type rig struct {
	t        *testing.T
	snd, dbx *shmq.Queue
	sndKey   ipc.Key
	dbxKey   ipc.Key
	sim      *sim.Sim
	ids      *msg.IDGen
	gwids    []string
	events   []msg.Event
	acks     map[string][]msg.Event
	reports  map[string][]msg.Event
}

func newRig(t *testing.T, n int, cfg sim.Config) *rig {
	r := &rig{t: t, sndKey: testKey(t), dbxKey: testKey(t), acks: map[string][]msg.Event{}, reports: map[string][]msg.Event{}}
	r.snd = openQueue(t, "SND.T", r.sndKey, max(n, 16), msg.MaxMessageSize, true)
	r.dbx = openQueue(t, "DBX", r.dbxKey, max(3*n, 64), msg.MaxEventSize, true)
	if cfg.Servers == nil {
		cfg.Servers = []sim.Server{{Name: "KT1", Addr: "127.0.0.1:0", Dialect: carrier.KT},
			{Name: "SKT1", Addr: "127.0.0.1:0", Dialect: carrier.SKT}, {Name: "LG", Addr: "127.0.0.1:0", Dialect: carrier.LGRelay}}
	}
	cfg.Log = zaptest.NewLogger(t).Named("sim")
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r.sim = s
	r.ids, _ = msg.NewIDGen(7)
	r.put(n)
	return r
}

func (r *rig) put(n int) {
	for i := 0; i < n; i++ {
		m := msg.Message{GWID: r.ids.Next(), Source: msg.SourceListener, ClientID: "BANK1", MsgKey: fmt.Sprint("K", len(r.gwids)),
			MsgType: 'S', JobClass: 'R', Carrier: "KT", Sender: "T", Callback: "0215881234", Dest: "01012345678",
			Text: string(must(layoutEUCKR("입금 10,000원")))}
		if err := r.snd.Put(m.Encode(nil), time.Second); err != nil {
			r.t.Fatal(err)
		}
		r.gwids = append(r.gwids, m.GWID)
	}
}

func (r *rig) options(server, dialect string, window, tps int) Options {
	d, err := carrier.ByName(dialect)
	if err != nil {
		r.t.Fatal(err)
	}
	return Options{ID: "T", Carrier: d.Carrier(), Dialect: d, Servers: []string{r.sim.Addr(server)}, Login: "m1", Password: "pw",
		Window: window, TPS: tps, LinkCheck: 5 * time.Second, ConnectTimeout: time.Second, ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 200 * time.Millisecond, RetryDelay: 20 * time.Millisecond, Queue: r.snd, DBX: r.dbx, Log: zaptest.NewLogger(r.t).Named("sender")}
}

// run starts a sender and stops it when the test ends.
func (r *rig) run(o Options) *Sender {
	s, err := New(o)
	if err != nil {
		r.t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Main() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			s.Exit()
			if err := <-errc; err != nil {
				r.t.Errorf("Main: %v", err)
			}
		})
	}
	r.t.Cleanup(stop)
	return s
}

// drain reads DBX until every GW_ID has an Ack and, with reports, a Report.
func (r *rig) drain(reports bool, timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.pump()
		missing := 0
		for _, id := range r.gwids {
			if len(r.acks[id]) == 0 || (reports && len(r.reports[id]) == 0) {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("after %v: %d of %d messages without their events; sim %+v", timeout, missing, len(r.gwids), r.sim.Stats())
		}
	}
}

// pump reads what DBX holds (waiting up to 50ms for the first event).
func (r *rig) pump() {
	r.t.Helper()
	for {
		recs, err := queue.GetBatch(r.dbx, 256, 50*time.Millisecond)
		if err != nil && !errors.Is(err, queue.ErrEmpty) {
			r.t.Fatal(err)
		}
		for _, b := range recs {
			e, err := msg.DecodeEvent(b)
			if err != nil {
				r.t.Fatalf("DBX event: %v", err)
			}
			r.events = append(r.events, e)
			switch e.Kind {
			case msg.KindAck:
				r.acks[e.GWID] = append(r.acks[e.GWID], e)
			case msg.KindReport:
				r.reports[e.GWID] = append(r.reports[e.GWID], e)
			}
		}
		if len(recs) < 256 {
			return
		}
	}
}

// waitCommitted waits for SND to be fully committed.
func (r *rig) waitCommitted(timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for r.snd.Len() != 0 {
		if time.Now().After(deadline) {
			st, _ := r.snd.Stat()
			r.t.Fatalf("SND not committed: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
