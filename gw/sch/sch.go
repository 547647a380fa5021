package sch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// Sch is the T41 poller.
type Sch struct {
	opts Options
	log  *zap.Logger
	set  settings
	ids  *msg.IDGen
	caps map[byte]int

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	running  atomic.Bool
	slot     *proctab.Slot

	stats struct {
		claimed, queued, invalid, fullWaits, errors atomic.Uint64
	}
	// outage is when the store started failing; zero while it works.
	outage time.Time
	// lastReclaim is when a claim last looked (or was held from looking)
	// for rows to reclaim.
	lastReclaim time.Time
	// upSince is when the store came back from the last outage; zero if
	// there was none. Nothing is reclaimed until it has been up for the
	// reclaim time (reclaimAllowed).
	upSince time.Time
	// heldForDBX is set while reclaims wait for dbx's backlog (logged
	// once a spell).
	heldForDBX bool
}

// reclaimLookEvery is how often a claim also looks for rows a dead sch left
// in STATUS 2 (see the package doc).
const reclaimLookEvery = time.Second

// Stats are sch's counters.
type Stats struct {
	Claimed   uint64 // rows claimed
	Queued    uint64 // records put on a lane (Claimed - Queued were cut short by a stop)
	Invalid   uint64 // of them, queued with RESULT set
	FullWaits uint64 // polls that found a lane full and claimed nothing
	Errors    uint64 // failed claims and puts
}

// New returns a Sch; Main runs it.
func New(opts Options) (*Sch, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	ids, err := msg.NewIDGen(opts.Node)
	if err != nil {
		return nil, fmt.Errorf("sch: %w", err)
	}
	s := &Sch{opts: opts, log: opts.Log, set: newSettings(opts.Config), ids: ids, caps: map[byte]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, jc := range jobClasses {
		c := opts.Capacity
		if c <= 0 {
			st, err := opts.Lanes[jc].Stat()
			if err != nil {
				return nil, fmt.Errorf("sch: lane %s: %w", opts.Lanes[jc].Name(), err)
			}
			c = st.Capacity
		}
		if c <= 0 {
			return nil, fmt.Errorf("sch: lane %s has no capacity", opts.Lanes[jc].Name())
		}
		s.caps[jc] = c
	}
	return s, nil
}

// Stats returns the counters.
func (s *Sch) Stats() Stats {
	return Stats{Claimed: s.stats.claimed.Load(), Queued: s.stats.queued.Load(), Invalid: s.stats.invalid.Load(),
		FullWaits: s.stats.fullWaits.Load(), Errors: s.stats.errors.Load()}
}

// Main polls T41 until Exit. It returns nil on a clean stop.
func (s *Sch) Main() error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("sch: Main called twice")
	}
	defer close(s.done)
	var hb sync.WaitGroup
	if s.opts.Table != nil {
		slot, err := s.opts.Table.Register(s.opts.Name, "sch")
		if err != nil {
			return fmt.Errorf("sch: process table: %w", err)
		}
		s.slot = slot
		slot.SetState(proctab.Running)
		hb.Add(1)
		go func() {
			defer hb.Done()
			slot.HeartbeatLoop(s.stop, s.opts.Config.ProcTab.Heartbeat.D())
		}()
		defer func() {
			hb.Wait()
			slot.Release()
		}()
	}
	s.log.Info("sch running", zap.String("name", s.opts.Name), zap.Int("batch", s.set.batch),
		zap.Duration("poll_interval", s.set.poll), zap.Duration("reclaim_after", s.set.reclaim))
	s.pollLoop()
	if s.slot != nil {
		s.slot.SetState(proctab.Stopping)
	}
	st := s.Stats()
	s.log.Info("sch stopped", zap.Uint64("claimed", st.Claimed), zap.Uint64("queued", st.Queued),
		zap.Uint64("invalid", st.Invalid))
	return nil
}

// Exit stops polling and returns once Main has returned. A claim in
// progress finishes and its rows are queued first.
func (s *Sch) Exit() {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.running.Load() {
		<-s.done
	}
}

// pollLoop polls until stop: at once again after a full batch, after
// FullWait while a lane is full, after the backoff while the store fails,
// else after the poll interval.
func (s *Sch) pollLoop() {
	backoff := s.opts.RetryMin
	for {
		wait := s.set.poll
		switch n, limit, err := s.poll(); {
		case err != nil:
			wait = backoff
			backoff = min(backoff*2, s.opts.RetryMax)
		case limit == 0:
			wait = s.opts.FullWait
			backoff = s.opts.RetryMin
		case n == limit:
			wait = 0
			backoff = s.opts.RetryMin
		default:
			backoff = s.opts.RetryMin
		}
		if wait == 0 {
			select {
			case <-s.stop:
				return
			default:
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// room is how many records may be claimed now: the smallest free room of
// the lanes, at most a batch.
func (s *Sch) room() int {
	r := s.set.batch
	for _, jc := range jobClasses {
		if free := s.caps[jc] - s.opts.Lanes[jc].Len(); free < r {
			r = free
		}
	}
	return max(r, 0)
}

// poll claims once and queues what it claimed. It returns how many rows it
// claimed and the limit it claimed with (0: a lane was full).
func (s *Sch) poll() (n, limit int, err error) {
	limit = s.room()
	if limit == 0 {
		s.stats.fullWaits.Add(1)
		return 0, 0, nil
	}
	now := s.opts.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ClaimTimeout)
	var reclaimBefore time.Time
	if now.Sub(s.lastReclaim) >= reclaimLookEvery || now.Before(s.lastReclaim) {
		// Once a look: reclaimAllowed reads DBX's header and file part.
		s.lastReclaim = now
		if s.reclaimAllowed(now) {
			reclaimBefore = now.Add(-s.set.reclaim)
		}
	}
	rows, err := s.opts.Store.ClaimDue(ctx, now, limit, reclaimBefore)
	cancel()
	if err != nil {
		s.storeFailed(err)
		return 0, limit, err
	}
	if !s.outage.IsZero() {
		s.upSince = now
	}
	s.storeBack()
	if len(rows) == 0 {
		return 0, limit, nil
	}
	s.stats.claimed.Add(uint64(len(rows)))
	if s.slot != nil {
		s.slot.AddIn(len(rows))
	}
	s.queue(rows, now)
	return len(rows), limit, nil
}

// queue puts the claimed rows on their lanes, one PutBatch per lane, in
// claim order within each lane.
func (s *Sch) queue(rows []store.T41Row, now time.Time) {
	var recs [3][][]byte
	idx := map[byte]int{'R': 0, 'S': 1, 'B': 2}
	var invalid int
	for i := range rows {
		r := &rows[i]
		m := message(r, s.ids.Next(), now, &s.set)
		if m.Result != 0 {
			invalid++
			s.log.Debug("T41 row fails validation; queued with its result", zap.Int64("msg_seq", r.MsgSeq),
				zap.String("client", r.ClientID), zap.String("msg_key", r.MsgKey), zap.Uint16("result", uint16(m.Result)))
		}
		l := idx[laneOf(m.JobClass)]
		recs[l] = append(recs[l], m.Encode(make([]byte, 0, m.Size())))
	}
	s.stats.invalid.Add(uint64(invalid))
	for l, jc := range jobClasses {
		if len(recs[l]) > 0 {
			s.put(jc, recs[l])
		}
	}
}

// put stores recs on the lane of jc, retrying what a full "block" lane did
// not take until it is stored or sch stops.
func (s *Sch) put(jc byte, recs [][]byte) {
	q := s.opts.Lanes[jc]
	for len(recs) > 0 {
		n, err := q.PutBatch(recs, s.opts.PutTimeout)
		s.stats.queued.Add(uint64(n))
		if s.slot != nil {
			s.slot.AddOut(n)
		}
		recs = recs[n:]
		if len(recs) == 0 {
			return
		}
		if !errors.Is(err, queue.ErrFull) {
			s.stats.errors.Add(1)
			if s.slot != nil {
				s.slot.AddErr(1)
				s.slot.SetLastError(fmt.Sprintf("put %s: %v", q.Name(), err))
			}
			s.log.Error("lane put failed; retrying", zap.String("queue", q.Name()), zap.Int("left", len(recs)), zap.Error(err))
		}
		select {
		case <-s.stop:
			s.log.Warn("stopped with claimed rows not queued; they are claimed again after the reclaim time",
				zap.String("queue", q.Name()), zap.Int("rows", len(recs)), zap.Duration("reclaim_after", s.set.reclaim))
			return
		case <-time.After(s.opts.FullWait):
		}
	}
}

// reclaimAllowed says whether a claim may take rows claimed before and
// still in STATUS 2. Not during a database outage, nor until the database
// has been back for the reclaim time: dbx could not move accepted rows to
// T41_LOG either while it was down, and its backlog comes in first; a row
// whose Accept waits in that backlog is not abandoned, and claiming it
// again makes a second T41_LOG row ending 1201. A row a dead sch left is
// claimed again all the same, one reclaim time after the outage at most.
func (s *Sch) reclaimAllowed(now time.Time) bool {
	return s.outage.IsZero() && (s.upSince.IsZero() || now.Sub(s.upSince) >= s.set.reclaim || now.Before(s.upSince)) &&
		!s.dbxBehind(now)
}

// dbxBehindAfter is the age of DBX's oldest waiting event from which dbx
// counts as behind (or half the reclaim time, if shorter). dbx takes
// events as they come: in steady flow the oldest is milliseconds old.
const dbxBehindAfter = 10 * time.Second

// dbxBehind says whether dbx has a backlog: events spilled to DBX's file
// part, or its oldest waiting event older than dbxBehindAfter. The same
// reasoning as for an outage holds with the database up: a row whose
// Accept waits in that backlog looks abandoned and is not. A DBX that
// cannot be read holds nothing back.
func (s *Sch) dbxBehind(now time.Time) bool {
	if s.opts.DBX == nil {
		return false
	}
	st, err := s.opts.DBX.Stat()
	behind := err == nil && (st.FileLen > 0 ||
		!st.Oldest.IsZero() && now.Sub(st.Oldest) >= min(dbxBehindAfter, s.set.reclaim/2))
	if behind != s.heldForDBX {
		s.heldForDBX = behind
		if behind {
			s.log.Info("dbx is behind: rows claimed before are not claimed again until it catches up",
				zap.Int("dbx_file_backlog", st.FileLen), zap.Time("oldest_event", st.Oldest))
		} else {
			s.log.Info("dbx caught up: rows left by a dead sch are claimed again after the reclaim time")
		}
	}
	return behind
}

// storeFailed logs the first failure of an outage, once.
func (s *Sch) storeFailed(err error) {
	s.stats.errors.Add(1)
	if s.slot != nil {
		s.slot.AddErr(1)
		s.slot.SetLastError("claim: " + err.Error())
	}
	if !s.outage.IsZero() {
		return
	}
	s.outage = time.Now()
	if store.IsUnavailable(err) {
		s.log.Warn("database unavailable; claiming nothing until it is back", zap.Error(err))
	} else {
		s.log.Error("claim failed; retrying with backoff", zap.Error(err))
	}
}

// storeBack logs the end of an outage.
func (s *Sch) storeBack() {
	if s.outage.IsZero() {
		return
	}
	s.log.Info("database back; claiming again (rows claimed before it are reclaimed no sooner than reclaim_after from now)",
		zap.Duration("outage", time.Since(s.outage).Round(time.Millisecond)), zap.Duration("reclaim_after", s.set.reclaim))
	s.outage = time.Time{}
}
