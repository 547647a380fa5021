package dbx

import (
	"errors"
	"fmt"
	"sync"
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

// runLoop applies the batches collectLoop hands it until Exit. The two
// overlap: while one batch is in the database, the next is taken and
// decoded. Only runLoop commits, in batch order, so positional commits
// stay exact; batches taken and not yet applied when dbx stops are simply
// delivered again.
func (d *DBX) runLoop() error {
	d.nextSweep = d.now()
	batches := make(chan *batch, 1)
	free := make(chan *batch, 3) // one filling, one waiting, one applying
	for i := 0; i < cap(free); i++ {
		free <- &batch{}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.collectLoop(free, batches, quit)
	}()
	defer wg.Wait()
	defer close(quit)
	idle := time.NewTimer(idleWait)
	defer idle.Stop()
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
		idle.Reset(idleWait)
		select {
		case <-d.stop:
			return nil
		case <-idle.C:
			if err := d.commit(); err != nil {
				return err
			}
			d.flushMarks() // idle: nothing to batch them with
			continue
		case b := <-batches:
			if b.err != nil {
				return b.err
			}
			err := d.process(b)
			free <- b
			if err != nil {
				return err
			}
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

// batch is one batch of DBX records and their events. Its buffers are
// reused: a batch goes back to the free list once applied.
type batch struct {
	recs []queue.Record
	evs  []store.Event
	raw  [][]byte // the record of each event, for the rejects file
	bad  []badRecord
	err  error // a take that failed: runLoop returns it
}

type badRecord struct {
	rec []byte
	err error
}

// collectLoop takes and decodes batches until quit or Exit, in the manner
// of a deferred-processing framework: it waits for a first record, then
// keeps taking until it holds fetch_count records or max_wait has passed
// since the first one.
func (d *DBX) collectLoop(free <-chan *batch, out chan<- *batch, quit <-chan struct{}) {
	for {
		var b *batch
		select {
		case <-quit:
			return
		case <-d.stop:
			return
		case b = <-free:
		}
		for n := 0; n == 0; {
			select {
			case <-quit:
				return
			case <-d.stop:
				return
			default:
			}
			n, b.err = d.collect(b)
			if b.err != nil {
				break
			}
		}
		if b.err == nil {
			d.decode(b)
		}
		select {
		case out <- b:
		case <-quit:
			return
		case <-d.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// takeWait bounds how long collect waits for a first record: the queue
// handle's take lock is held meanwhile, and runLoop's commit of the batch
// before waits for it.
const takeWait = 50 * time.Millisecond

// collect fills b.recs with one batch; 0 when no record came.
func (d *DBX) collect(b *batch) (int, error) {
	c := d.cfg.Load().DBX
	fetch := max(c.FetchCount, 1)
	recs, err := d.in.TakeBatch(b.recs[:0], fetch, takeWait)
	b.recs = recs
	if len(recs) == 0 {
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
		recs, err = d.in.TakeBatch(recs, fetch-len(recs), left)
		b.recs = recs
		if err != nil && !errors.Is(err, queue.ErrEmpty) {
			return 0, fmt.Errorf("dbx: take from %s: %w", d.in.Name(), err)
		}
	}
	d.stats.in.Add(uint64(len(recs)))
	if d.slot != nil {
		d.slot.AddIn(len(recs))
	}
	return len(recs), nil
}

// decode turns b's records into store events.
func (d *DBX) decode(b *batch) {
	b.evs, b.raw, b.bad = b.evs[:0], b.raw[:0], b.bad[:0]
	senders := senderCarriers(d.cfg.Load())
	for i := range b.recs {
		r := &b.recs[i]
		e, err := msg.DecodeEvent(r.Data)
		if err != nil {
			b.bad = append(b.bad, badRecord{r.Data, fmt.Errorf("undecodable DBX record: %w", err)})
			continue
		}
		b.evs = append(b.evs, ToStore(&e, senders))
		b.raw = append(b.raw, r.Data)
	}
}

// commitAfter is how long the DBX commit of applied batches may wait for
// the batches after them. A commit of the queue's file part costs two
// fsyncs; redelivering applied events costs nothing but time (the store
// applies each at most once), so after a crash up to this much of the
// history is applied a second time, with no effect, to save them.
const commitAfter = 50 * time.Millisecond

// commit commits the DBX records of every batch applied so far.
func (d *DBX) commit() error {
	if !d.haveCommit {
		return nil
	}
	if err := d.in.Commit(d.toCommit); err != nil {
		return fmt.Errorf("dbx: commit %s: %w", d.in.Name(), err)
	}
	d.haveCommit, d.lastCommit = false, d.now()
	return nil
}

// process applies b: DB commit, then RPT put, then DBX commit (the order
// that makes a crash at any instant lose nothing and REPORT at least
// once; the commit may wait for the next batches, see commitAfter), then
// MarkReported now and then.
func (d *DBX) process(b *batch) error {
	for _, x := range b.bad {
		d.reject(x.rec, x.err)
	}
	reports, err := d.apply(b.evs, b.raw)
	if err != nil {
		return err
	}
	if err := d.putReports(reports); err != nil {
		return err
	}
	d.toCommit, d.haveCommit = b.recs[len(b.recs)-1].Pos, true
	if d.now().Sub(d.lastCommit) >= commitAfter {
		if err := d.commit(); err != nil {
			return err
		}
	}
	d.stats.batches.Add(1)
	d.stats.applied.Add(uint64(len(b.evs)))
	if d.slot != nil {
		d.slot.AddOut(len(b.evs))
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
