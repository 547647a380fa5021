package lsnr

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue"
)

// lane gathers the accepted messages of every connection for one DIST
// queue and stores them with PutBatch: one lock and one wake-up of the
// consumer for as many records as arrived while the previous batch was
// being stored. There is no waiting for a batch to fill: a lone message is
// stored at once, and under load batches grow by themselves.
type lane struct {
	l      *Listener
	q      queue.Queue
	in     chan *job
	brakes bool // holds its batches while dbx is behind (brake.go); not DIST.R
}

func newLane(l *Listener, q queue.Queue, brakes bool) *lane {
	return &lane{l: l, q: q, in: make(chan *job, 4096), brakes: brakes}
}

func (ln *lane) loop() {
	max := ln.l.opts.Batch
	batch := make([]*job, 0, max)
	recs := make([][]byte, 0, max)
	size := ln.q.RecordSize()
	for {
		j, ok := <-ln.in
		if !ok {
			return
		}
		batch, recs = batch[:0], recs[:0]
		closed := false
		for {
			if len(j.rec) > size {
				// One oversized record would fail the whole batch. Its
				// key is not recorded yet (record, below).
				ln.l.log.Error("record larger than the queue's record size; answered busy",
					zap.String("queue", ln.q.Name()), zap.Int("size", len(j.rec)), zap.Int("record_size", size))
				j.finish(telegram.ErrBusy)
			} else {
				batch = append(batch, j)
				recs = append(recs, j.rec)
			}
			if len(batch) == max {
				break
			}
			select {
			case j, ok = <-ln.in:
				if !ok {
					closed = true
				}
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ln.brakes && len(batch) > 0 {
			ln.l.brake.hold(ln.l.set.Load(), batch[0].arrived)
		}
		batch, recs = ln.record(batch, recs)
		ln.store(batch, recs)
		if closed {
			return
		}
	}
}

// record checks each message's MSG_KEY in the duplicate index and records
// it, answering 1201 for a duplicate, and returns the rest in order. It
// runs right before the store, so a listener killed in between leaves a
// key recorded with no message for no longer than one store takes
// (gw/dupindex, "the crash between check and store"); the intake brake's
// hold comes before it. Two SUBMITs of one key in one batch: the first is
// recorded, the second is the duplicate, as in arrival order.
func (ln *lane) record(batch []*job, recs [][]byte) ([]*job, [][]byte) {
	now := time.Now()
	keep, keepRecs := batch[:0], recs[:0]
	for i, j := range batch {
		dup, err := ln.l.opts.Dup.CheckAndInsert(j.c.client, j.msgKey, now)
		switch {
		case err != nil:
			ln.l.log.Error("duplicate index: message refused busy", zap.String("client", j.c.client),
				zap.String("msg_key", j.msgKey), zap.Error(err))
			j.finish(telegram.ErrBusy)
		case dup:
			j.finish(telegram.ErrDuplicate)
		default:
			keep, keepRecs = append(keep, j), append(keepRecs, recs[i])
		}
	}
	return keep, keepRecs
}

// store puts one batch and answers each of its messages.
func (ln *lane) store(batch []*job, recs [][]byte) {
	if len(batch) == 0 {
		return
	}
	n, err := ln.q.PutBatch(recs, ln.l.opts.PutTimeout)
	if n < len(batch) {
		ln.l.log.Warn("lane could not store messages; answered busy (2001)", zap.String("queue", ln.q.Name()),
			zap.Int("stored", n), zap.Int("refused", len(batch)-n), zap.Error(err))
	}
	for i, j := range batch {
		if i < n {
			j.finish(telegram.OK)
		} else {
			ln.fail(j)
		}
	}
}

// fail answers 2001 and forgets the message's key in the duplicate index:
// nothing was accepted, so the client's retry must not be a duplicate.
func (ln *lane) fail(j *job) {
	if _, err := ln.l.opts.Dup.Remove(j.c.client, j.msgKey, time.Now()); err != nil {
		ln.l.log.Error("duplicate index: could not forget the key of a refused message", zap.String("client", j.c.client),
			zap.String("msg_key", j.msgKey), zap.Error(err))
	}
	j.finish(telegram.ErrBusy)
}

// futureLane stores messages with a future RESERVE_TIME as T41 rows, in
// batches like a lane. A batch refused for a duplicate is inserted again
// row by row, so only the duplicate is answered 1201.
type futureLane struct {
	l  *Listener
	st FutureStore
	in chan *job
}

func newFutureLane(l *Listener, st FutureStore) *futureLane {
	return &futureLane{l: l, st: st, in: make(chan *job, 1024)}
}

func (f *futureLane) loop() {
	var batch []*job
	var rows []store.T41Row
	for {
		j, ok := <-f.in
		if !ok {
			return
		}
		batch, rows = append(batch[:0], j), append(rows[:0], j.row)
	more:
		for len(batch) < 256 {
			select {
			case j, ok := <-f.in:
				if !ok {
					f.store(batch, rows)
					return
				}
				batch, rows = append(batch, j), append(rows, j.row)
			default:
				break more
			}
		}
		f.store(batch, rows)
	}
}

func (f *futureLane) insert(rows []store.T41Row) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.st.InsertT41(ctx, rows)
}

func (f *futureLane) store(batch []*job, rows []store.T41Row) {
	err := f.insert(rows)
	if err == nil {
		for _, j := range batch {
			j.finish(telegram.OK)
		}
		return
	}
	if !errors.Is(err, store.ErrDuplicate) || len(batch) == 1 {
		code := telegram.ErrBusy
		if errors.Is(err, store.ErrDuplicate) {
			code = telegram.ErrDuplicate
		} else {
			f.l.log.Error("T41 insert failed; reserved messages answered busy", zap.Int("rows", len(rows)), zap.Error(err))
		}
		for _, j := range batch {
			j.finish(code)
		}
		return
	}
	for i, j := range batch {
		f.store([]*job{j}, rows[i:i+1])
	}
}
