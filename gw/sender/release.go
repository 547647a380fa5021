package sender

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// A sender whose link has been down for Options.ReleaseAfter
// (timeouts.sender_down_reroute) gives its queue up, so that dist takes the
// backlog as the queue's consumer and routes it to another sender (DESIGN:
// a sender down longer than a set time has the records in its queue routed
// again; gw/dist maybeReroute). While the sender holds the queue dist
// cannot: one consumer at a time.
//
// Records it had taken must not come out twice. Those whose Ack is stored
// (done) may sit behind one still unanswered, and the queue commits only a
// prefix: closing would deliver them again and a second carrier would get
// them. So the records not done are handed back to the distributor first
// (Options.PutBack: the DIST lane of their JOB_CLASS, which spills rather
// than fills; the queue's own tail would need room the taken records
// themselves hold when it is full), and then everything the sender took is
// committed. The ones handed back were submitted at most once without an
// answer: sending them again elsewhere is the at-least-once DESIGN allows.
// What the take loop held and had not
// handed over is left taken and uncommitted: dist gets it, marked
// Redelivered. When the link is back the sender opens its queue again
// (Options.Reopen), waiting while dist holds it. A sender killed between
// the hand-back and the commit leaves the records handed back in both
// places: at most Window records, the bound any kill of a sender has.

// closed tells whether c is closed.
func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// maybeRelease releases the queue when the link has been down since
// downSince for ReleaseAfter. A release that fails is logged and tried
// again at the next failed connect; only a queue that cannot be committed
// is fatal (as it is to a session).
func (s *Sender) maybeRelease(downSince time.Time) error {
	if s.released || s.o.ReleaseAfter <= 0 || s.o.Reopen == nil || time.Since(downSince) < s.o.ReleaseAfter {
		return nil
	}
	err := s.release()
	var fe *fatalError
	if errors.As(err, &fe) {
		return fe.err
	}
	if err != nil {
		s.log.Warn("giving the queue up to dist failed; trying again", zap.Error(err))
	}
	return nil
}

func (s *Sender) release() error {
	q := s.o.Queue
	var back [][]byte
	var backed []*entry
	for _, e := range s.tr.taken {
		if !e.done {
			back = append(back, e.m.Encode(nil))
			backed = append(backed, e)
		}
	}
	if len(back) > 0 {
		put := s.o.PutBack
		if put == nil {
			put = func(recs [][]byte) (int, error) { return q.PutBatch(recs, time.Second) }
		}
		n, err := put(back)
		// Those stored are dist's now: done here, and out of the ready
		// list, so that this sender does not submit them too.
		for _, e := range backed[:n] {
			e.done = true
		}
		s.tr.ready = slices.DeleteFunc(s.tr.ready, func(e *entry) bool { return e.done })
		if err != nil {
			// A full disk under the lanes: the release waits.
			return fmt.Errorf("handing %d unanswered records back (%d stored): %w", len(back), n, err)
		}
	}
	if err := s.advance(); err != nil {
		return err
	}
	// What the take loop holds when it stops stays taken and uncommitted:
	// dist gets it, marked Redelivered.
	s.stopTaking()
	if err := q.Close(); err != nil {
		s.log.Warn("closing the queue given up", zap.Error(err))
	}
	s.o.Queue, s.released = nil, true
	s.tr = newTracker()
	s.credit = make(chan struct{}, s.o.Window)
	for range s.o.Window {
		s.credit <- struct{}{}
	}
	s.o.State.SetWindow(0, s.o.Window)
	s.log.Warn("link down too long: queue given up for dist to route elsewhere",
		zap.Duration("after", s.o.ReleaseAfter), zap.Int("put_back", len(back)))
	return nil
}

// reacquire opens the queue again once the link is back; queue's
// ErrConsumerBusy while dist is taking the backlog.
func (s *Sender) reacquire() error {
	q, err := s.o.Reopen()
	if err != nil {
		return err
	}
	s.o.Queue, s.released = q, false
	s.startTaking()
	s.log.Info("queue taken back: the link is up")
	return nil
}

// Queue is the queue the sender reads now: nil while it has given it up.
// Read it only when Main is not running (the owner closes it after Main).
func (s *Sender) Queue() queue.Queue { return s.o.Queue }
