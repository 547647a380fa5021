package sim

import (
	"sync"
	"time"

	"github.com/m1gw/m1/gw/carrier"
)

// report is one delivery report owed to an account.
type report struct {
	pdu carrier.PDU
	on  *conn // the connection it was last sent on; nil while waiting for one
}

// account holds the reports of one login of one dialect: they go out on any
// of its connections, and again on another when theirs ends unanswered.
type account struct {
	sim     *Sim
	mu      sync.Mutex
	conns   []*conn
	rr      int
	pending []*report
	sent    map[string]*report
	stopped bool
}

func newAccount(s *Sim) *account { return &account{sim: s, sent: map[string]*report{}} }

func (a *account) schedule(r *report, d time.Duration) {
	if d <= 0 {
		a.due(r)
		return
	}
	time.AfterFunc(d, func() { a.due(r) })
}

func (a *account) due(r *report) {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	c := a.pick()
	if c == nil {
		a.pending = append(a.pending, r)
		a.mu.Unlock()
		return
	}
	r.on = c
	a.sent[r.pdu.MsgID] = r
	a.mu.Unlock()
	a.write(c, r, false)
}

// pick chooses a connection round robin; the caller holds mu.
func (a *account) pick() *conn {
	if len(a.conns) == 0 {
		return nil
	}
	a.rr = (a.rr + 1) % len(a.conns)
	return a.conns[a.rr]
}

func (a *account) write(c *conn, r *report, resend bool) {
	a.mu.Lock()
	p := r.pdu
	a.mu.Unlock()
	p.Seq = c.seq.Add(1)
	p.DoneTime = time.Now().Format("20060102150405")
	if c.send(c.encode(&p)) {
		a.sim.c.reportsSent.Add(1)
		if resend {
			a.sim.c.reportsResent.Add(1)
		}
	}
	// A failed send leaves r on c: detach moves it when c's read loop ends.
}

func (a *account) attach(c *conn) {
	a.mu.Lock()
	a.conns = append(a.conns, c)
	var owed []*report
	if !a.stopped {
		owed, a.pending = a.pending, nil
	}
	for _, r := range owed {
		r.on = c
		a.sent[r.pdu.MsgID] = r
	}
	a.mu.Unlock()
	for _, r := range owed {
		a.write(c, r, true)
	}
}

func (a *account) detach(c *conn) {
	a.mu.Lock()
	for i, x := range a.conns {
		if x == c {
			a.conns = append(a.conns[:i], a.conns[i+1:]...)
			break
		}
	}
	type move struct {
		r *report
		c *conn
	}
	var moves []move
	for _, r := range a.sent {
		if r.on != c {
			continue
		}
		if n := a.pick(); n != nil {
			r.on = n
			moves = append(moves, move{r, n})
		} else {
			r.on = nil
			delete(a.sent, r.pdu.MsgID)
			a.pending = append(a.pending, r)
		}
	}
	a.mu.Unlock()
	for _, m := range moves {
		a.write(m.c, m.r, true)
	}
}

func (a *account) acked(msgID string) {
	a.mu.Lock()
	_, ok := a.sent[msgID]
	delete(a.sent, msgID)
	a.mu.Unlock()
	if ok {
		a.sim.c.reportsAcked.Add(1)
	}
}

func (a *account) pendingCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending) + len(a.sent)
}

func (a *account) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
}
