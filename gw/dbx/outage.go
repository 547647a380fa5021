package dbx

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/store"
)

// outage is the loop's memory of a database that is down: when it began,
// how many tries failed, and the next wait. It is what makes dbx log once
// per outage, not once per event or per retry.
type outage struct {
	since time.Time // zero: the database answers
	tries int
	wait  time.Duration
	// replay is set by an outage and cleared once RPT_PENDING was queued
	// again: a COMMIT whose answer was lost in the outage may have
	// committed, and then the retry applies nothing and returns no
	// REPORTs; they are in RPT_PENDING, and are queued from there.
	replay bool
}

// opCtx bounds one database call. It is not tied to Exit: a batch in
// hand is finished (or fails) on its own, so a stop never interrupts a
// commit halfway.
func (d *DBX) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d.opts.OpTimeout)
}

// retry runs fn until it succeeds, fails for a reason other than the
// database being unavailable (returned), or Exit is called while it waits
// (errStopped). Waits double from retry_min to retry_max.
func (d *DBX) retry(what string, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			d.recovered()
			return nil
		}
		if !store.IsUnavailable(err) {
			return err
		}
		d.down(what, err)
		if !d.sleep(d.outage.wait) {
			return errStopped
		}
		d.outage.wait = min(d.outage.wait*2, d.cfg.Load().DBX.RetryMax.D())
	}
}

// down records a failed try; the first of an outage is logged and
// published in the process table.
func (d *DBX) down(what string, err error) {
	o := &d.outage
	o.tries++
	if !o.since.IsZero() {
		return
	}
	c := d.cfg.Load().DBX
	o.since, o.wait = d.now(), max(c.RetryMin.D(), time.Millisecond)
	d.stats.outages.Add(1)
	d.log.Error("database unavailable: events wait in the DBX queue (spilling to its file part when the ring is full); retrying",
		zap.String("operation", what), zap.Duration("retry_min", c.RetryMin.D()), zap.Duration("retry_max", c.RetryMax.D()), zap.Error(err))
	if d.slot != nil {
		d.slot.AddErr(1)
		d.slot.SetLastError("database unavailable: " + err.Error())
	}
}

// recovered ends an outage, if one was going on.
func (d *DBX) recovered() {
	o := &d.outage
	if o.since.IsZero() {
		return
	}
	d.log.Info("database available again; catching up", zap.Duration("outage", d.now().Sub(o.since)), zap.Int("failed_tries", o.tries))
	if d.slot != nil {
		d.slot.SetLastError("database available again after " + d.now().Sub(o.since).Round(time.Second).String())
	}
	*o = outage{replay: true}
}
