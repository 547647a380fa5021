package sender

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/internal/testpg"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// TestReleaseAfterLinkDown: a sender whose link stays down gives its queue
// up after ReleaseAfter; a stand-in dist then takes the backlog as the
// queue's consumer. Every record is either acknowledged by the carrier
// (an Ack on DBX) or taken by dist, never both (no record whose Ack is
// stored is sent twice) and never neither. When the link is back the
// sender takes its queue again and sends what comes next. Real SysV
// queues, a center on real TCP behind a relay that is cut.
func TestReleaseAfterLinkDown(t *testing.T) {
	const n = 300
	r := newRig(t, n, sim.Config{})
	// A center that answers every other submit until told to answer all:
	// records whose Ack is stored sit behind unanswered ones, the case a
	// plain close of the queue would send twice.
	var answerAll atomic.Bool
	center := fakeCenter(t, carrier.KT, func(p *carrier.PDU) *carrier.PDU {
		if p.Seq%2 == 1 && !answerAll.Load() {
			return nil
		}
		return &carrier.PDU{Type: carrier.SubmitResp, Seq: p.Seq, Ref: p.Ref, Result: carrier.SubmitCode(carrier.KT, carrier.Accepted, 0)}
	})
	px := testpg.NewProxy(t, center)
	o := r.options("KT1", "kt", 32, 400)
	o.Servers = []string{px.Addr}
	o.ReleaseAfter = 300 * time.Millisecond
	o.Reopen = func() (queue.Queue, error) {
		q, err := shmq.Open(shmq.Options{Name: "SND.T", Key: r.sndKey, Capacity: n, RecordSize: msg.MaxMessageSize})
		if err != nil {
			return nil, err
		}
		if err := q.Claim(); err != nil { // dist holds it
			_ = q.Close()
			return nil, err
		}
		return q, nil
	}
	// dist's lane, where the unanswered records go back.
	laneKey := testKey(t)
	lane := openQueue(t, "DIST.S", laneKey, n, msg.MaxMessageSize, true)
	o.PutBack = func(recs [][]byte) (int, error) { return lane.PutBatch(recs, time.Second) }
	r.run(o)
	deadline := time.Now().Add(20 * time.Second)
	for len(r.acks) < 16 { // the window full of unanswered submits
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged after 20 s, want 16", len(r.acks))
		}
		r.pump()
	}
	time.Sleep(100 * time.Millisecond)
	r.pump()
	px.Down() // submits in flight, the rest waiting

	// The stand-in dist: it gets the queue once the sender gave it up.
	dist := openQueue(t, "SND.T", r.sndKey, n, msg.MaxMessageSize, false)
	deadline = time.Now().Add(20 * time.Second)
	for {
		err := dist.Claim()
		if err == nil {
			break
		}
		if !errors.Is(err, queue.ErrConsumerBusy) || time.Now().After(deadline) {
			t.Fatalf("the sender did not give its queue up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	taken := map[string]int{}
	redelivered, fromLane := 0, 0
	for _, q := range []*shmq.Queue{dist, lane} {
		for {
			recs, err := q.TakeBatch(nil, 100, 200*time.Millisecond)
			if len(recs) == 0 {
				if !errors.Is(err, queue.ErrEmpty) {
					t.Fatal(err)
				}
				break
			}
			for _, rec := range recs {
				m, err := msg.DecodeMessage(rec.Data)
				if err != nil {
					t.Fatal(err)
				}
				taken[m.GWID]++
				if rec.Redelivered {
					redelivered++
				}
				if q == lane {
					fromLane++
				}
			}
			if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := dist.Close(); err != nil {
		t.Fatal(err)
	}
	r.pump()
	both, neither := 0, 0
	for _, id := range r.gwids {
		_, acked := r.acks[id]
		switch c := taken[id]; {
		case c > 1:
			t.Errorf("%s taken by dist %d times", id, c)
		case acked && c == 1:
			both++
		case !acked && c == 0:
			neither++
		}
	}
	if both != 0 || neither != 0 {
		t.Fatalf("of %d records: %d acknowledged and given to dist too, %d neither", n, both, neither)
	}
	if fromLane == 0 {
		t.Error("nothing was handed back on the lane: the window held no unanswered submit, the test proves less than it says")
	}
	t.Logf("%d acknowledged before the link went down; dist took %d: %d handed back on its lane, %d from the queue marked redelivered",
		len(r.acks), len(taken), fromLane, redelivered)

	// The link is back: the sender takes its queue again.
	answerAll.Store(true)
	px.Up()
	before := len(r.gwids)
	// The sender closed the handle it was given (the rig's): put through
	// one of the test's own, as dist does.
	r.snd = openQueue(t, "SND.T", r.sndKey, n, msg.MaxMessageSize, false)
	r.put(10)
	deadline = time.Now().Add(20 * time.Second)
	for {
		r.pump()
		got := 0
		for _, id := range r.gwids[before:] {
			if len(r.acks[id]) > 0 {
				got++
			}
		}
		if got == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the link came back, %d of 10 new records acknowledged", got)
		}
	}
}
