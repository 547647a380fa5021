package dist

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// idleWait is how long dist waits on DIST.R when a round found nothing to
// do; S and B are looked at again after it.
const idleWait = 10 * time.Millisecond

// healthEvery bounds how often sender states are read.
const healthEvery = time.Millisecond

// errStopping aborts a transaction when Exit comes while dist waits; the
// transaction's records are not committed and are delivered again.
var errStopping = errors.New("dist: stopping")

func (d *Dist) runLoop() error {
	for !d.stopping() {
		if c := d.next.Swap(nil); c != nil {
			d.apply(c)
		}
		d.refreshHealth()
		served, err := d.round()
		if err == nil {
			err = d.maybeReroute()
		}
		if errors.Is(err, errStopping) {
			return nil
		}
		if err != nil {
			return err
		}
		if served == 0 {
			if err := d.idle(); err != nil {
				if errors.Is(err, errStopping) {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// idle waits for DIST.R (or sleeps when R is stalled on a record no
// sender can take).
func (d *Dist) idle() error {
	r := d.lanes[0]
	if len(r.pending) > 0 {
		select {
		case <-d.stop:
		case <-time.After(idleWait):
		}
		return nil
	}
	recs, err := r.q.TakeBatch(r.buf[:0], d.batch(), idleWait)
	r.buf = recs
	if err != nil && !errors.Is(err, queue.ErrEmpty) {
		return fmt.Errorf("dist: take %s: %w", r.name, err)
	}
	if len(recs) == 0 {
		return nil
	}
	_, err = d.serveTaken(r, recs)
	return err
}

func (d *Dist) batch() int {
	if b := d.cfg.Dist.Batch; b > 0 {
		return b
	}
	return 100
}

// round serves the lanes once: R up to a batch, then S, then B. A lower
// lane gets a whole batch when every lane above it gave less than its
// limit (drained or stalled); otherwise it gets one record for every
// StarveMax records served above it since it was last served, so under a
// saturating R load S still gets 1/(StarveMax+1) of the records, and B
// likewise under R and S together.
func (d *Dist) round() (int, error) {
	starve := max(d.cfg.Dist.StarveMax, 1)
	total := 0
	drained := true
	for i, l := range d.lanes {
		limit := d.batch()
		if !drained {
			limit = min(limit, l.since/starve)
		}
		if i == 0 || limit > 0 {
			n, err := d.serveLane(l, limit)
			if err != nil {
				return total, err
			}
			if n >= limit {
				drained = false
			}
			if n > 0 {
				l.since = 0
			}
			for _, lower := range d.lanes[i+1:] {
				lower.since += n
			}
			total += n
		}
	}
	return total, nil
}

// serveLane processes up to limit records of a lane: its stalled records
// first, when their retry time has come.
func (d *Dist) serveLane(l *lane, limit int) (int, error) {
	if len(l.pending) > 0 {
		if d.now().Before(l.nextRetry) {
			return 0, nil
		}
		k := min(limit, len(l.pending))
		n, err := d.process(l.q, l.pending[:k], false)
		if err != nil {
			return n, err
		}
		l.pending = l.pending[n:]
		if n < k || len(l.pending) > 0 {
			l.nextRetry = d.now().Add(d.retryEvery())
		}
		return n, nil
	}
	recs, err := l.q.TakeBatch(l.buf[:0], limit, 0)
	l.buf = recs
	if err != nil && !errors.Is(err, queue.ErrEmpty) {
		return 0, fmt.Errorf("dist: take %s: %w", l.name, err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	return d.serveTaken(l, recs)
}

// serveTaken processes freshly taken records; those behind a record no
// sender can take stay taken, in order, as the lane's pending records.
func (d *Dist) serveTaken(l *lane, recs []queue.Record) (int, error) {
	d.stats.in.Add(uint64(len(recs)))
	if d.slot != nil {
		d.slot.AddIn(len(recs))
	}
	n, err := d.process(l.q, recs, false)
	if err != nil {
		return n, err
	}
	if n < len(recs) {
		// Copies: the lane's buffers are reused by the next TakeBatch.
		for _, r := range recs[n:] {
			r.Data = append([]byte(nil), r.Data...)
			l.pending = append(l.pending, r)
		}
		l.nextRetry = d.now().Add(d.retryEvery())
		d.log.Info("lane waits: no sender can take its next record", zap.String("lane", l.name), zap.Int("waiting", len(l.pending)))
	}
	return n, nil
}

func (d *Dist) retryEvery() time.Duration {
	if r := d.cfg.Dist.RetryEvery.D(); r > 0 {
		return r
	}
	return time.Second
}

// refreshHealth reads the senders' states and works out which are up.
func (d *Dist) refreshHealth() {
	now := d.now()
	if now.Sub(d.health) < healthEvery {
		return
	}
	d.health = now
	ids := d.rt.ids
	if d.opts.Health != nil {
		d.opts.Health.Senders(ids, d.states)
	} else {
		for i := range d.states {
			d.states[i] = SenderState{Alive: true, LinkUp: true}
		}
	}
	for i, st := range d.senders {
		s := d.states[i]
		switch {
		case s.Alive && s.LinkUp:
			st.deadSince = time.Time{}
		case st.deadSince.IsZero():
			// Down: its backlog is routed again after
			// timeouts.sender_down_reroute. A live sender with its link
			// down gives its queue up by then (gw/sender release.go);
			// until it does, dist cannot take it (one consumer).
			st.deadSince = now
			if s.Alive {
				d.log.Warn("sender link down", zap.String("sender", st.id))
			} else {
				d.log.Warn("sender process down", zap.String("sender", st.id))
			}
		}
		d.up[i] = s.Alive && s.LinkUp && !now.Before(st.fullUntil) && st.queue != nil
	}
}

// maybeReroute takes back the backlog of senders down (process gone, or
// link down) longer than timeouts.sender_down_reroute, as the consumer of
// their queues, and routes it again. A live sender's consumer claim keeps
// dist out until the sender gives its queue up (queue.ErrConsumerBusy).
func (d *Dist) maybeReroute() error {
	delay := d.cfg.Timeouts.SenderDownReroute.D()
	now := d.now()
	if delay <= 0 || now.Before(d.reroute) {
		return nil
	}
	d.reroute = now.Add(d.retryEvery())
	for _, st := range d.senders {
		if st.deadSince.IsZero() || now.Sub(st.deadSince) < delay {
			continue
		}
		if err := d.rerouteOne(st); err != nil {
			return err
		}
	}
	return nil
}

// rerouteBatches bounds one reroute pass so the lanes are not kept waiting.
const rerouteBatches = 50

func (d *Dist) rerouteOne(st *senderState) error {
	q, err := d.opts.Open(st.qname, true)
	if err != nil {
		d.log.Warn("reroute: cannot open sender queue", zap.String("queue", st.qname), zap.Error(err))
		return nil
	}
	defer q.Close()
	var buf []queue.Record
	for range rerouteBatches {
		recs, err := q.TakeBatch(buf[:0], d.batch(), 0)
		buf = recs
		if errors.Is(err, queue.ErrConsumerBusy) {
			return nil // the sender is back and holds its queue
		}
		if err != nil && !errors.Is(err, queue.ErrEmpty) {
			d.log.Warn("reroute: take", zap.String("queue", st.qname), zap.Error(err))
			return nil
		}
		if len(recs) == 0 {
			return nil
		}
		n, err := d.process(q, recs, true)
		if err != nil {
			return err
		}
		if n > 0 {
			d.log.Info("re-routed the backlog of a sender down too long", zap.String("sender", st.id), zap.Int("records", n))
		}
		if n < len(recs) {
			return nil // the rest waits in the sender's queue (no other sender may take it)
		}
	}
	return nil
}

// recover reads the journal left by the previous run: the records of its
// last transaction that reached a sender queue, judged by how far each
// queue's tail moved past the tail recorded before the put.
func (d *Dist) recover() error {
	groups, err := d.jr.read()
	if err != nil {
		d.log.Warn("journal unreadable; reading it as empty", zap.Error(err))
		return nil
	}
	for _, g := range groups {
		stored := len(g.ids)
		if g.queue != "" {
			d.mu.Lock()
			q := d.sndQ[g.queue]
			d.mu.Unlock()
			if q == nil {
				d.log.Warn("journal names a queue no longer configured", zap.String("queue", g.queue))
				continue
			}
			s, err := q.Stat()
			if err != nil {
				return fmt.Errorf("dist: stat %s: %w", g.queue, err)
			}
			stored = 0
			if s.Tail > g.tail {
				stored = int(min(s.Tail-g.tail, uint64(len(g.ids))))
			}
		}
		for _, id := range g.ids[:stored] {
			d.recovered[id] = g.sender
		}
	}
	if len(d.recovered) > 0 {
		d.log.Info("journal: records already on sender queues will not be put again", zap.Int("records", len(d.recovered)))
	}
	return nil
}
