package lsnr

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// The intake brake.
//
// PROTOCOL.md lets a client keep 64 requests unanswered, and a SUBMIT_RESP
// 0000 is owed as soon as the message is in its DIST lane. Without a brake
// the listener accepts as fast as clients send, faster than the stages
// behind it finish: the history writer, dbx, is the one serial stage, and
// once DBX's ring is full its events go to the file part, where every
// sender's put pays a write and a sync, which slows the whole suite
// further. Measured before the brake (docs/BENCHMARKS.md, 4 clients with
// 64 unanswered each): the listener took 10,200 messages a second, the
// suite finished 6,600, DBX's file part grew to 249,000 events and
// SUBMIT→REPORT reached 6 s.
//
// So a lane looks at DBX before it stores a batch: while DBX's ring is at
// least eai_lsnr.brake_dbx_fill percent full, it holds the batch, looking
// again every brakeStep, until dbx is back under the mark or
// eai_lsnr.brake_wait has passed since the batch's oldest message arrived,
// and then stores it whatever the state.
// The brake paces, it never refuses: clients see slower answers, their
// windows fill, and they send no faster than the suite finishes.
//
// What it does not hold, and why:
//   - DIST.R: real-time messages never wait behind anything (DESIGN.md,
//     the lanes).
//   - anything while DBX is spilling: its ring filled anyway, so dbx has
//     stopped (a database outage, a dead dbx) rather than fallen a little
//     behind. The file part is there to absorb that (DESIGN.md, queues),
//     and holding the intake through an outage of the history database
//     would stop the sending of messages whose history can wait.
//   - T41 rows and bulk files: sch and tkm_files have their own pace (sch
//     stops at a full lane).

// brakeStep is how often a held batch looks at DBX again: short against
// dbx's batches (max_wait 100 ms), long enough that a held lane costs at
// most 500 wake-ups a second.
const brakeStep = 2 * time.Millisecond

// brakeLogEvery bounds the brake's log lines: one summary per interval
// while it holds batches, not one line per batch.
const brakeLogEvery = 10 * time.Second

// ringGauge is what the brake reads of DBX: two loads from its segment
// header. queue/spill and queue/shmq implement it.
type ringGauge interface {
	RingLen() int
	Spilling() bool
}

// brake is shared by the lanes that brake (DIST.S and DIST.B).
type brake struct {
	dbx      ringGauge
	capacity int // DBX's ring, in records
	exit     <-chan struct{}
	log      *zap.Logger
	holding  atomic.Int32 // batches being held now (tests wait on it)

	mu      sync.Mutex
	held    int           // batches held since the last summary
	heldFor time.Duration // their time held, together
	maxLen  int           // the deepest DBX ring seen by a hold
	logged  time.Time     // the last summary
}

// newBrake returns nil (no brake) when DBX cannot be read cheaply.
func newBrake(dbx any, capacity int, exit <-chan struct{}, log *zap.Logger) *brake {
	g, ok := dbx.(ringGauge)
	switch {
	case !ok:
		log.Warn("intake brake off: DBX is not a shared-memory queue, its depth cannot be read cheaply")
		return nil
	case capacity <= 0:
		log.Warn("intake brake off: DBX's capacity cannot be read")
		return nil
	}
	return &brake{dbx: g, capacity: capacity, exit: exit, log: log}
}

// behind says whether dbx is behind the mark and still taking (its ring
// has not spilled).
func (b *brake) behind(mark int) (bool, int) {
	n := b.dbx.RingLen()
	return n >= mark && !b.dbx.Spilling(), n
}

// hold waits while dbx is behind, or until the listener stops, or until
// brake_wait after oldest: the arrival of the batch's oldest message. The
// bound is per message, not per batch: a message that waited behind
// batches held before its own is not held again for a whole brake_wait
// (with UNBIND's drain of 5 s in mind, and brake_wait at most 5 s). It
// returns how long it held.
func (b *brake) hold(set *settings, oldest time.Time) time.Duration {
	if b == nil || set.brakeFill <= 0 || set.brakeWait <= 0 {
		return 0
	}
	deadline := oldest.Add(set.brakeWait)
	if !time.Now().Before(deadline) {
		return 0
	}
	mark := max(1, b.capacity*set.brakeFill/100)
	behind, n := b.behind(mark)
	if !behind {
		return 0
	}
	b.holding.Add(1)
	defer b.holding.Add(-1)
	start := time.Now()
	b.log.Debug("intake brake: holding a batch", zap.Int("dbx_ring", n), zap.Int("dbx_ring_mark", mark))
	deepest := n
	t := time.NewTimer(brakeStep)
	defer t.Stop()
	for {
		select {
		case <-b.exit:
			return b.done(start, deepest, mark)
		case <-t.C:
		}
		behind, n = b.behind(mark)
		deepest = max(deepest, n)
		if !behind || !time.Now().Before(deadline) {
			return b.done(start, deepest, mark)
		}
		t.Reset(brakeStep)
	}
}

// done counts one hold and logs a summary at most every brakeLogEvery.
func (b *brake) done(start time.Time, deepest, mark int) time.Duration {
	now := time.Now()
	d := now.Sub(start)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held++
	b.heldFor += d
	b.maxLen = max(b.maxLen, deepest)
	if now.Sub(b.logged) < brakeLogEvery {
		return d
	}
	b.log.Info("intake brake: dbx is behind, batches of SUBMITs held before they were stored",
		zap.Int("batches_held", b.held), zap.Duration("held_for", b.heldFor),
		zap.Int("dbx_ring_deepest", b.maxLen), zap.Int("dbx_ring_mark", mark), zap.Int("dbx_ring_capacity", b.capacity))
	b.held, b.heldFor, b.maxLen, b.logged = 0, 0, 0, now
	return d
}

// dbxCapacity is the capacity of DBX's ring as its header says; 0 when it
// cannot be read (no brake then).
func dbxCapacity(q queue.Queue) int {
	st, err := q.Stat()
	if err != nil {
		return 0
	}
	return st.Capacity
}

// checkMark warns when the brake's mark is not above a dbx batch: the ring
// holds a whole batch while dbx applies it, so such a mark would hold the
// intake on every batch and leave the machine idle (measured with a mark of
// 5,000 and fetch_count 5,000: 7,263 messages a second with the CPU a
// quarter idle, against 9,609 at 10,000).
func (b *brake) checkMark(set *settings, fetch int) {
	if b == nil || set.brakeFill <= 0 || set.brakeWait <= 0 {
		return
	}
	if mark := b.capacity * set.brakeFill / 100; mark <= fetch {
		b.log.Warn("intake brake: its mark is not above a dbx batch, so it will hold SUBMITs on every batch; raise DBX's capacity or eai_lsnr.brake_dbx_fill",
			zap.Int("dbx_ring_mark", mark), zap.Int("dbx_capacity", b.capacity), zap.Int("brake_dbx_fill", set.brakeFill),
			zap.Int("dbx_fetch_count", fetch))
	}
}
