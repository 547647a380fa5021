package spill

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// fileLookEvery is how often a consumer whose ring is not spilling still
// looks into the file part, for records written there while the ring was
// missing.
const fileLookEvery = 100 * time.Millisecond

// ringWait is the longest a consumer sleeps on the ring before it looks at
// the file part again.
const ringWait = 20 * time.Millisecond

// Take returns the next record.
func (q *Queue) Take(timeout time.Duration) (queue.Record, error) {
	recs, err := q.TakeBatch(nil, 1, timeout)
	if len(recs) == 0 {
		return queue.Record{}, err
	}
	return recs[0], nil
}

// TakeBatch takes from the ring first, then from the file part.
func (q *Queue) TakeBatch(dst []queue.Record, max int, timeout time.Duration) ([]queue.Record, error) {
	if !q.o.Consumer {
		return dst, fmt.Errorf("queue %s: opened as a producer: %w", q.Name(), queue.ErrConsumerBusy)
	}
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed.Load() {
		return dst, queue.ErrClosed
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		s := q.ring()
		if q.ringsDirty.Load() {
			q.writeRings(s)
		}
		if len(q.adopted) > 0 {
			// A removed ring a dead consumer left holds the oldest
			// records.
			n := len(dst)
			var err error
			if dst, err = q.takeAdopted(dst, max); len(dst) > n || err != nil {
				return dst, err
			}
		}
		if s != nil && s.RemovedNow() {
			var err error
			if s, err = q.leaveRemoved(s, false); err != nil {
				return dst, err
			}
		}
		if s != nil {
			n := len(dst)
			var err error
			dst, err = s.TakeBatch(dst, max, 0)
			if len(dst) > n {
				return q.note(dst, n, s), nil
			}
			if errors.Is(err, queue.ErrRemoved) {
				if s, err = q.leaveRemoved(s, true); err != nil {
					return dst, err
				}
			} else if err != nil && !errors.Is(err, queue.ErrEmpty) {
				return dst, err
			}
		}
		if s == nil || s.Spilling() || time.Since(q.fileChecked) > fileLookEvery {
			q.fileChecked = time.Now()
			n := len(dst)
			var err error
			dst, err = q.file.TakeBatch(dst, max, 0)
			if len(dst) > n {
				return q.note(dst, n, nil), nil
			}
			if err != nil && !errors.Is(err, queue.ErrEmpty) {
				return dst, err
			}
			if s != nil && s.Spilling() {
				cleared, err := s.ClearSpilling(func() bool { return s.Len() == 0 && q.file.Len() == 0 })
				if err != nil {
					q.log.Warn("clearing the spilling word", zap.Error(err))
				}
				q.watchStuckWriters(s, cleared)
			}
		}
		left := time.Duration(-1)
		if timeout >= 0 {
			left = time.Until(deadline)
			if timeout == 0 || left <= 0 {
				return dst, queue.ErrEmpty
			}
		}
		wait := ringWait
		if left > 0 && left < wait {
			wait = left
		}
		if s == nil || s.Spilling() {
			time.Sleep(min(wait, 2*time.Millisecond))
			continue
		}
		n := len(dst)
		var err error
		dst, err = s.TakeBatch(dst, max, wait)
		if len(dst) > n {
			return q.note(dst, n, s), nil
		}
		if errors.Is(err, queue.ErrRemoved) {
			if _, err = q.leaveRemoved(s, true); err != nil {
				return dst, err
			}
		} else if err != nil && !errors.Is(err, queue.ErrEmpty) {
			return dst, err
		}
	}
}

// watchStuckWriters resets the count of writers inside a file put when it
// has kept the spilling word from clearing, with the ring and the file part
// empty, for Grace: only writers killed inside a file put leave it
// standing, and until it is reset every put pays a file put.
func (q *Queue) watchStuckWriters(s *shmq.Queue, cleared bool) {
	if cleared || s.FileWriters() == 0 || s.Len() > 0 || q.file.Len() > 0 {
		q.stuckSince = time.Time{}
		return
	}
	if q.stuckSince.IsZero() {
		q.stuckSince = time.Now()
		return
	}
	if time.Since(q.stuckSince) > q.o.Grace {
		q.log.Warn("writers counted in the file part for too long, taken for killed; count reset",
			zap.Int("writers", s.FileWriters()), zap.Duration("after", q.o.Grace))
		s.ResetFileWriters()
		q.stuckSince = time.Time{}
	}
}

// note gives the records from dst[from:] this handle's positions; ring is
// the ring they came from, nil for the file part.
func (q *Queue) note(dst []queue.Record, from int, ring *shmq.Queue) []queue.Record {
	for i := from; i < len(dst); i++ {
		q.taken = append(q.taken, takenRef{pos: q.nextPos, ring: ring, part: dst[i].Pos})
		dst[i].Pos = q.nextPos
		q.nextPos++
	}
	return dst
}

// Commit commits, in each part, every record taken up to pos.
func (q *Queue) Commit(pos uint64) error {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed.Load() {
		return queue.ErrClosed
	}
	if len(q.taken) == 0 || pos < q.taken[0].pos {
		if pos < q.nextPos {
			return nil // committed before
		}
		return fmt.Errorf("queue %s: commit of position %d not taken: %w", q.Name(), pos, queue.ErrNotTaken)
	}
	if pos >= q.nextPos {
		return fmt.Errorf("queue %s: commit of position %d, taken up to %d: %w", q.Name(), pos, q.nextPos, queue.ErrNotTaken)
	}
	var filePos uint64
	file := false
	ringPos := map[*shmq.Queue]uint64{}
	k := 0
	for ; k < len(q.taken) && q.taken[k].pos <= pos; k++ {
		t := q.taken[k]
		if t.ring == nil {
			filePos, file = t.part, true
		} else {
			ringPos[t.ring] = t.part
		}
	}
	if file {
		if err := q.file.Commit(filePos); err != nil {
			return err
		}
	}
	for ring, p := range ringPos {
		// A ring dropped as removed took its records with it (they were
		// delivered, and nobody else can commit them); a ring kept as an
		// orphan is committed as usual.
		if err := ring.Commit(p); err != nil && !errors.Is(err, queue.ErrNotTaken) && !errors.Is(err, queue.ErrClosed) {
			return err
		}
	}
	q.taken = append(q.taken[:0], q.taken[k:]...)
	q.closeCommittedOrphans()
	return nil
}

// rescueAfter is how long after first seeing its ring removed the consumer
// goes on taking from it before it moves the rest to the file part: a
// producer puts into a removed ring unawares at most 250 ms after the
// removal (shmq looks before a put at most that often).
const rescueAfter = 300 * time.Millisecond

// leaveRemoved handles a ring removed under the consumer (ipcrm). For
// rescueAfter it goes on taking from it (and for as long as records a dead
// consumer left are still to be redelivered, which must keep their mark);
// then it copies the records not yet taken into the file part (synced),
// marks them taken, keeps the ring only to commit what was taken from it,
// and returns the new ring, if one is there (or made). force skips the
// wait: the ring said it was removed and drained. Without this, a consumer
// killed while draining an orphaned ring lost what it still held: the
// segment dies with its last detach. Producers hold the ring until it is
// committed (holdRemoved), so if this consumer dies meanwhile the next one
// adopts it (adoptOrphans).
func (q *Queue) leaveRemoved(s *shmq.Queue, force bool) (*shmq.Queue, error) {
	if force && !s.RemovedNow() {
		// Only its semaphore set was removed (ipcrm -s): the segment is
		// the key's still. Let go of it and open it again; what was taken
		// from it and not committed is delivered again.
		q.shmMu.Lock()
		if q.shm == s {
			q.shm, q.shmRetry = nil, time.Now()
		}
		q.shmMu.Unlock()
		_ = s.Close()
		return q.ring(), nil
	}
	if q.removedSeen.IsZero() {
		q.removedSeen = time.Now()
	}
	if !force && (time.Since(q.removedSeen) < rescueAfter || s.Redelivering()) {
		return s, nil
	}
	recs, end := s.PeekUntaken()
	if len(recs) > 0 {
		data := make([][]byte, len(recs))
		for i := range recs {
			data[i] = recs[i].Data
		}
		if _, err := q.file.PutBatch(data, 10*time.Second); err != nil {
			return s, fmt.Errorf("queue %s: moving %d records out of a removed ring: %w", q.Name(), len(recs), err)
		}
	}
	if err := s.SkipUntaken(end); err != nil {
		return s, err
	}
	q.log.Warn("shared-memory segment removed: its untaken records moved to the file queue",
		zap.Int("records", len(recs)))
	q.removedSeen = time.Time{}
	q.shmMu.Lock()
	if q.shm == s {
		q.shm = nil
		q.shmRetry = time.Now()
		q.shmMissing = true
	}
	q.shmMu.Unlock()
	q.orphans = append(q.orphans, s)
	q.closeCommittedOrphans()
	next := q.ring()
	if next != nil && q.file.Len() > 0 {
		// The moved records are older than anything put in the new ring:
		// writers go to the file part until it is drained.
		next.MarkSpilling()
	}
	q.writeRings(next)
	return next, nil
}

// closeCommittedOrphans closes removed rings nothing taken from is still
// uncommitted. Caller holds takeMu.
func (q *Queue) closeCommittedOrphans() {
	kept := q.orphans[:0]
	for _, o := range q.orphans {
		inFlight := false
		for _, t := range q.taken {
			if t.ring == o {
				inFlight = true
				break
			}
		}
		if inFlight {
			kept = append(kept, o)
			continue
		}
		// Everything taken from it is committed or was copied to the file
		// part: commit it all, so that producers holding it let go.
		if err := o.CommitTaken(); err != nil {
			q.log.Warn("committing a removed ring", zap.Error(err))
		}
		_ = o.Close()
		q.ringsDirty.Store(true)
	}
	q.orphans = kept
}
