package sender

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// store puts the session's pending events on DBX, then marks their
// records done, commits what that allows, and answers the reports: the
// order that makes a sender killed at any instant lose nothing (a record
// is committed, a report answered, only once its event is stored).
func (s *Sender) store(ss *session) error {
	if len(ss.events) > 0 {
		recs := make([][]byte, len(ss.events))
		for i := range ss.events {
			recs[i] = ss.events[i].Encode(make([]byte, 0, 128))
		}
		if err := s.putAll(recs); err != nil {
			// Nothing is marked done: the records are submitted again and
			// the reports come again.
			return &fatalError{err}
		}
		ss.events = ss.events[:0]
	}
	for i, e := range ss.doneAfter {
		e.done = true
		ss.doneAfter[i] = nil
	}
	if n := len(ss.doneAfter); n > 0 {
		s.o.State.AddOut(n)
		ss.doneAfter = ss.doneAfter[:0]
		if err := s.advance(); err != nil {
			return err
		}
	}
	for i := range ss.reportResp {
		if err := s.write(ss, &ss.reportResp[i]); err != nil {
			return err
		}
	}
	ss.reportResp = ss.reportResp[:0]
	return nil
}

// putAll stores recs on DBX, waiting while it is full. It gives up only
// when the sender is stopping and DBX stayed full for DrainTimeout.
func (s *Sender) putAll(recs [][]byte) error {
	var fullSince time.Time
	for len(recs) > 0 {
		n, err := s.o.DBX.PutBatch(recs, time.Second)
		recs = recs[n:]
		switch {
		case err == nil:
		case errors.Is(err, queue.ErrFull):
			if fullSince.IsZero() {
				fullSince = time.Now()
				s.log.Warn("DBX queue full: waiting to store events", zap.Int("events", len(recs)))
				s.o.State.SetLastError("DBX queue full")
			}
			if s.stopping() && time.Since(fullSince) > s.o.DrainTimeout {
				return fmt.Errorf("sender: DBX full for %v while stopping: %w", s.o.DrainTimeout, err)
			}
		default:
			return fmt.Errorf("sender: storing events on %s: %w", s.o.DBX.Name(), err)
		}
	}
	return nil
}

// advance commits SND.<ID> up to the highest position below which every
// record is done, and gives their credit back to the take loop.
func (s *Sender) advance() error {
	pos, n := s.tr.advance()
	if n == 0 {
		return nil
	}
	if err := s.o.Queue.Commit(pos); err != nil {
		return &fatalError{fmt.Errorf("sender: commit %s up to %d: %w", s.o.Queue.Name(), pos, err)}
	}
	for i := 0; i < n; i++ {
		s.credit <- struct{}{}
	}
	return nil
}
