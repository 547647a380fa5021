package dbx

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// idleWait bounds how long the loop waits for a first record, so that it
// sees Exit and the sweep's time without a record coming.
const idleWait = 200 * time.Millisecond

// start brings the schema up to date and queues the REPORTs a previous dbx
// recorded but did not mark queued (it died between its commit and its RPT
// put). Both wait out a database that is down.
func (d *DBX) start() error {
	err := d.retry("migrate", func() error {
		ctx, cancel := d.opCtx()
		defer cancel()
		return d.st.Migrate(ctx)
	})
	if err != nil {
		if errors.Is(err, errStopped) {
			return err
		}
		return fmt.Errorf("dbx: migrate: %w", err)
	}
	return d.replayPending()
}

// runLoop takes batches and applies them until Exit.
func (d *DBX) runLoop() error {
	d.nextSweep = d.now()
	for {
		if d.stopping() {
			return nil
		}
		if !d.now().Before(d.nextSweep) {
			more, err := d.sweep()
			if err != nil {
				return err
			}
			d.nextSweep = d.now().Add(d.cfg.Load().DBX.SweepInterval.D())
			if more {
				d.nextSweep = d.now()
			}
		}
		n, err := d.collect()
		if err != nil {
			return err
		}
		if n == 0 {
			d.flushMarks() // idle: nothing to batch them with
			continue
		}
		if err := d.process(); err != nil {
			return err
		}
		if d.outage.replay && d.outage.since.IsZero() {
			d.outage.replay = false
			if err := d.markAll(); err != nil {
				return err
			}
			if err := d.replayPending(); err != nil {
				return err
			}
		}
	}
}

// collect fills d.recs in the manner of a deferred-processing framework:
// it waits for a first record (up to idleWait), then keeps taking until it
// holds fetch_count records or max_wait has passed since the first one.
func (d *DBX) collect() (int, error) {
	c := d.cfg.Load().DBX
	fetch := max(c.FetchCount, 1)
	recs, err := d.in.TakeBatch(d.recs[:0], fetch, idleWait)
	if len(recs) == 0 {
		d.recs = recs
		if err == nil || errors.Is(err, queue.ErrEmpty) {
			return 0, nil
		}
		return 0, fmt.Errorf("dbx: take from %s: %w", d.in.Name(), err)
	}
	deadline := d.now().Add(c.MaxWait.D())
	for len(recs) < fetch && !d.stopping() {
		left := deadline.Sub(d.now())
		if left <= 0 {
			break
		}
		more, err := d.in.TakeBatch(recs, fetch-len(recs), left)
		recs = more
		if err != nil && !errors.Is(err, queue.ErrEmpty) {
			d.recs = recs
			return 0, fmt.Errorf("dbx: take from %s: %w", d.in.Name(), err)
		}
	}
	d.recs = recs
	d.stats.in.Add(uint64(len(recs)))
	if d.slot != nil {
		d.slot.AddIn(len(recs))
	}
	return len(recs), nil
}

// process applies the batch in d.recs: DB commit, then RPT put, then DBX
// commit (the order that makes a crash at any instant lose nothing and
// REPORT at least once), then MarkReported.
func (d *DBX) process() error {
	d.evs, d.raw = d.evs[:0], d.raw[:0]
	senders := senderCarriers(d.cfg.Load())
	for i := range d.recs {
		r := &d.recs[i]
		e, err := msg.DecodeEvent(r.Data)
		if err != nil {
			d.reject(r.Data, fmt.Errorf("undecodable DBX record: %w", err))
			continue
		}
		d.evs = append(d.evs, ToStore(&e, senders))
		d.raw = append(d.raw, r.Data)
	}
	reports, err := d.apply(d.evs, d.raw)
	if err != nil {
		return err
	}
	if err := d.putReports(reports); err != nil {
		return err
	}
	if err := d.in.Commit(d.recs[len(d.recs)-1].Pos); err != nil {
		return fmt.Errorf("dbx: commit %s: %w", d.in.Name(), err)
	}
	d.stats.batches.Add(1)
	d.stats.applied.Add(uint64(len(d.evs)))
	if d.slot != nil {
		d.slot.AddOut(len(d.evs))
	}
	d.maybeMark()
	return nil
}

// apply runs ApplyEvents for evs, waiting out a database that is down. A
// batch the database refuses for another reason is split in halves, so
// that one bad event cannot stop the history: the event left alone that is
// still refused, after a few tries, is set aside in the rejects file.
func (d *DBX) apply(evs []store.Event, raw [][]byte) ([]store.PendingReport, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	var reports []store.PendingReport
	tries := 0
	for {
		err := d.retry("apply events", func() error {
			ctx, cancel := d.opCtx()
			defer cancel()
			var err error
			reports, err = d.st.ApplyEvents(ctx, evs)
			return err
		})
		if err == nil || errors.Is(err, errStopped) {
			return reports, err
		}
		if len(evs) > 1 {
			d.log.Warn("batch refused by the database; applying it in halves", zap.Int("events", len(evs)), zap.Error(err))
			h := len(evs) / 2
			a, err := d.apply(evs[:h], raw[:h])
			if err != nil {
				return nil, err
			}
			b, err := d.apply(evs[h:], raw[h:])
			return append(a, b...), err
		}
		if tries++; tries < 3 {
			if !d.sleep(d.cfg.Load().DBX.RetryMin.D()) {
				return nil, errStopped
			}
			continue
		}
		d.reject(raw[0], fmt.Errorf("refused by the database: %w", err))
		return nil, nil
	}
}
