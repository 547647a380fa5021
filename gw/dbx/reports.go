package dbx

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

const (
	// pendingChunk is how many REPORTs a starting dbx reads from
	// RPT_PENDING at a time, and how many messages one sweep transaction
	// ends with 3004.
	pendingChunk = 1000
	// markEvery and markAfter bound how long queued REPORTs stay in
	// RPT_PENDING: MarkReported is one more transaction, so it is done for
	// many batches at once. A crash before it only means those REPORTs are
	// queued again at the next start (clients tolerate repeats).
	markEvery = 1000
	markAfter = time.Second
	// maxUnmarked caps the GW_IDs kept while MarkReported fails; beyond it
	// the oldest are forgotten (and REPORTed again at the next start).
	maxUnmarked = 100000
	// rptPutWait is how long one RPT put may wait for room before it is
	// tried again (the RPT queue spills, so it normally never waits).
	rptPutWait = time.Second
)

// rptRecord turns a REPORT owed into its RPT record.
func rptRecord(dst []byte, p *store.PendingReport) []byte {
	code, err := strconv.Atoi(p.ResultCode)
	if err != nil || code < 0 || code > 9999 {
		code = int(telegram.ErrInternal)
	}
	r := msg.RPT{ClientID: p.ClientID, MsgKey: p.MsgKey, GWID: p.GWID, Carrier: p.Carrier,
		DoneTime: p.DoneTime, ReportCode: telegram.Code(code)}
	return r.Encode(dst)
}

// putReports puts the REPORTs owed on the RPT queue, waiting (with the
// database's backoff times) while the queue refuses them.
func (d *DBX) putReports(reports []store.PendingReport) error {
	if len(reports) == 0 {
		return nil
	}
	d.rptBuf = d.rptBuf[:0]
	for i := range reports {
		d.rptBuf = append(d.rptBuf, rptRecord(make([]byte, 0, msg.RPTSize), &reports[i]))
	}
	recs := d.rptBuf
	wait, logged := d.cfg.Load().DBX.RetryMin.D(), false
	for len(recs) > 0 {
		n, err := d.rpt.PutBatch(recs, rptPutWait)
		recs = recs[n:]
		if err == nil {
			continue
		}
		if !logged {
			logged = true
			d.log.Error("RPT queue refuses REPORTs; retrying (the batch stays uncommitted until they are queued)",
				zap.Int("left", len(recs)), zap.Error(err))
			if d.slot != nil {
				d.slot.AddErr(1)
				d.slot.SetLastError(fmt.Sprintf("RPT put: %v", err))
			}
		}
		if !d.sleep(wait) {
			return errStopped
		}
		wait = min(wait*2, d.cfg.Load().DBX.RetryMax.D())
	}
	if logged {
		d.log.Info("RPT queue takes REPORTs again")
	}
	d.stats.reports.Add(uint64(len(reports)))
	for i := range reports {
		d.unmarked = append(d.unmarked, reports[i].GWID)
	}
	return nil
}

// maybeMark calls MarkReported when enough REPORTs were queued or enough
// time passed.
func (d *DBX) maybeMark() {
	if len(d.unmarked) >= markEvery || (len(d.unmarked) > 0 && d.now().Sub(d.lastMark) >= markAfter) {
		d.flushMarks()
		d.lastMark = d.now()
	}
}

// flushMarks removes the queued REPORTs from RPT_PENDING. A failure keeps
// them for the next call: at worst they are REPORTed again after a restart.
func (d *DBX) flushMarks() {
	if len(d.unmarked) == 0 {
		return
	}
	ctx, cancel := d.opCtx()
	defer cancel()
	if err := d.st.MarkReported(ctx, d.unmarked); err != nil {
		if !store.IsUnavailable(err) {
			d.log.Warn("MarkReported failed; the REPORTs stay pending and are queued again at the next start",
				zap.Int("reports", len(d.unmarked)), zap.Error(err))
		}
		if n := len(d.unmarked) - maxUnmarked; n > 0 {
			d.unmarked = append(d.unmarked[:0], d.unmarked[n:]...)
		}
		return
	}
	d.unmarked = d.unmarked[:0]
}

// replayPending queues what RPT_PENDING holds: REPORTs a previous dbx
// recorded with their result but died before queuing (or before marking).
func (d *DBX) replayPending() error {
	total := 0
	for {
		var pending []store.PendingReport
		err := d.retry("pending reports", func() error {
			ctx, cancel := d.opCtx()
			defer cancel()
			var err error
			pending, err = d.st.PendingReports(ctx, pendingChunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("dbx: pending reports: %w", err)
		}
		if err := d.putReports(pending); err != nil {
			return err
		}
		total += len(pending)
		if err := d.markAll(); err != nil {
			return err
		}
		if len(pending) < pendingChunk {
			break
		}
	}
	if total > 0 {
		d.log.Info("REPORTs left pending by the previous dbx queued again", zap.Int("reports", total))
	}
	return nil
}

// markAll is flushMarks waiting out a database that is down.
func (d *DBX) markAll() error {
	if len(d.unmarked) == 0 {
		return nil
	}
	err := d.retry("mark reported", func() error {
		ctx, cancel := d.opCtx()
		defer cancel()
		return d.st.MarkReported(ctx, d.unmarked)
	})
	if err != nil {
		return fmt.Errorf("dbx: mark reported: %w", err)
	}
	d.unmarked = d.unmarked[:0]
	return nil
}

// sweepRounds bounds one sweep: after that many full transactions it
// yields to the events, and the loop sweeps again after the next batch
// (a backlog of a million expired messages must not hold the history up).
const sweepRounds = 10

// sweep ends with 3004 the messages that had no result within their
// report timeout (timeouts.report, or their sender's report_timeout), in
// transactions of pendingChunk, and REPORTs the listener ones. more says
// it stopped at sweepRounds with more to do.
func (d *DBX) sweep() (more bool, err error) {
	now := d.now()
	for _, g := range reportGroups(d.cfg.Load()) {
		if more, err := d.sweepGroup(now.Add(-g.timeout), g.filter); more || err != nil {
			return more, err
		}
	}
	return false, nil
}

// reportGroup is the messages swept with one report timeout.
type reportGroup struct {
	timeout time.Duration
	filter  store.SenderFilter
}

// reportGroups splits the sweep by report timeout: the senders whose
// report_timeout differs from timeouts.report, a group per value, then
// everything else (other senders, and messages without one) with
// timeouts.report. With no such sender it is one group, as before.
func reportGroups(c *config.Config) []reportGroup {
	def := c.Timeouts.Report.D()
	byTimeout := map[time.Duration][]string{}
	var order []time.Duration
	var own []string
	for _, s := range c.Senders {
		t := s.ReportTimeout.D()
		if t <= 0 || t == def {
			continue
		}
		if _, ok := byTimeout[t]; !ok {
			order = append(order, t)
		}
		byTimeout[t] = append(byTimeout[t], s.ID)
		own = append(own, s.ID)
	}
	groups := make([]reportGroup, 0, len(order)+1)
	for _, t := range order {
		groups = append(groups, reportGroup{timeout: t, filter: store.SenderFilter{Senders: byTimeout[t]}})
	}
	return append(groups, reportGroup{timeout: def, filter: store.SenderFilter{Senders: own, Except: true}})
}

func (d *DBX) sweepGroup(cut time.Time, f store.SenderFilter) (more bool, err error) {
	total := 0
	defer func() {
		if total > 0 {
			d.log.Info("messages without a report ended with 3004", zap.Int("messages", total),
				zap.String("accepted_before", store.FormatTime(cut)), zap.Strings("senders", f.Senders), zap.Bool("except", f.Except))
		}
	}()
	for round := 0; !d.stopping(); round++ {
		if round == sweepRounds {
			return true, nil
		}
		var (
			n       int
			reports []store.PendingReport
		)
		err := d.retry("expire reports", func() error {
			ctx, cancel := d.opCtx()
			defer cancel()
			var err error
			n, reports, err = d.st.ExpireReportsOf(ctx, cut, pendingChunk, f)
			return err
		})
		if errors.Is(err, errStopped) {
			return false, err
		}
		if err != nil {
			// Not worth stopping the history for: the next sweep tries again.
			d.log.Error("report timeout sweep failed", zap.Error(err))
			if d.slot != nil {
				d.slot.AddErr(1)
				d.slot.SetLastError("report timeout sweep: " + err.Error())
			}
			return false, nil
		}
		if err := d.putReports(reports); err != nil {
			return false, err
		}
		total += n
		d.stats.expired.Add(uint64(n))
		if n < pendingChunk {
			break
		}
	}
	return false, nil
}
