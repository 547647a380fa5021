package shmq

import (
	"errors"
	"time"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// The spilling word tells every writer of a queue with a file part
// (queue/spill) to write there: set by the writer that first finds the ring
// full, cleared by the consumer once the file part has been empty for a
// grace time after the last writer chose it. The grace time stands in for
// writers still inside a file put, so that no producer's later record can
// reach the ring while its earlier one is still on its way into the file.

// Spilling tells whether writers go to the file part.
func (q *Queue) Spilling() bool { return q.h.spilling.Load() == 1 }

// PutOrSpill stores recs in the ring unless the queue is spilling or the
// ring is full within timeout; then it marks the queue spilling and returns
// the number stored with spill true, and the caller writes the rest to the
// file part.
func (q *Queue) PutOrSpill(recs [][]byte, timeout time.Duration) (n int, spill bool, err error) {
	if q.h.spilling.Load() == 1 {
		q.h.lastSpill.Store(time.Now().UnixNano())
		return 0, true, nil
	}
	n, err = q.PutBatch(recs, timeout)
	if err == nil || !isFull(err) {
		return n, false, err
	}
	q.h.lastSpill.Store(time.Now().UnixNano())
	q.h.spilling.Store(1)
	return n, true, nil
}

// MarkSpilling sets the spilling word (a consumer that finds the file part
// not empty when it attaches).
func (q *Queue) MarkSpilling() {
	q.h.lastSpill.Store(time.Now().UnixNano())
	q.h.spilling.Store(1)
}

// ClearSpilling clears the spilling word when no writer chose the file part
// within grace, under the producers' mutex so that no writer decides
// meanwhile. fileEmpty is asked under the mutex too. It returns whether the
// word is clear.
func (q *Queue) ClearSpilling(grace time.Duration, fileEmpty func() bool) (bool, error) {
	if q.h.spilling.Load() == 0 {
		return true, nil
	}
	if time.Since(time.Unix(0, q.h.lastSpill.Load())) < grace {
		return false, nil
	}
	if err := q.sems.Op(time.Second, ipc.Sembuf{Num: semMutex, Op: -1, Flags: ipc.SemUndo}); err != nil {
		return false, q.wrapIPC(err)
	}
	cleared := false
	if time.Since(time.Unix(0, q.h.lastSpill.Load())) >= grace && fileEmpty() {
		q.h.spilling.Store(0)
		cleared = true
	}
	if err := q.sems.Op(-1, ipc.Sembuf{Num: semMutex, Op: 1, Flags: ipc.SemUndo}); err != nil {
		return cleared, q.wrapIPC(err)
	}
	return cleared, nil
}

func isFull(err error) bool { return err != nil && errors.Is(err, queue.ErrFull) }
