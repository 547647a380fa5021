package shmq

import (
	"errors"
	"time"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// The spilling word tells every writer of a queue with a file part
// (queue/spill) to write there: set by the writer that first finds the ring
// full, cleared by the consumer once the ring and the file part are both
// empty and no writer is inside a file put. A writer counts itself in
// fileWriters before it looks at the word and out once its records are
// written to the file part (before their sync: the consumer can read them
// then, and a count held through every sync would rarely fall to zero under
// steady traffic). The consumer clears the word under the producers' mutex, then
// looks again: if a writer counted itself in meanwhile, or the file part is
// no longer empty, it sets the word back. With sequentially consistent
// atomics a writer either sees the cleared word (and goes to the ring) or
// is seen by the consumer (counted, or its record in the file part), and
// then the word stays set: no producer's later record, put in the ring, is
// taken before its earlier one in the file part.
//
// (The version before cleared the word while writers were still counted
// and had the consumer take the file part first until the count fell to
// zero; TestSpillOrderConcurrentWriters showed records taken out of order
// in about one run in twenty, and the race build in one in seven.)

// Spilling tells whether writers go to the file part.
func (q *Queue) Spilling() bool { return q.h.spilling.Load() == 1 }

// PutOrSpill stores recs in the ring unless the queue is spilling or the
// ring is full; then it marks the queue spilling and returns the number
// stored with spill true: the caller writes the rest to the file part and
// then calls SpillDone, whatever the outcome of that put.
func (q *Queue) PutOrSpill(recs [][]byte, timeout time.Duration) (n int, spill bool, err error) {
	q.h.fileWriters.Add(1)
	if q.h.spilling.Load() == 1 {
		q.h.lastSpill.Store(time.Now().UnixNano())
		return 0, true, nil
	}
	q.SpillDone()
	n, err = q.PutBatch(recs, timeout)
	if err == nil || !isFull(err) {
		return n, false, err
	}
	q.h.fileWriters.Add(1)
	q.h.lastSpill.Store(time.Now().UnixNano())
	q.h.spilling.Store(1)
	return n, true, nil
}

// SpillDone counts a writer out of the file part (after PutOrSpill said
// spill).
func (q *Queue) SpillDone() {
	for {
		v := q.h.fileWriters.Load()
		if v == 0 || q.h.fileWriters.CompareAndSwap(v, v-1) {
			return
		}
	}
}

// FileWriters is the number of writers inside a put into the file part.
func (q *Queue) FileWriters() int { return int(q.h.fileWriters.Load()) }

// ResetFileWriters zeroes the count of writers in the file part: for a
// count left standing by writers killed inside a file put, which the
// consumer gives up waiting for (queue/spill).
func (q *Queue) ResetFileWriters() { q.h.fileWriters.Store(0) }

// MarkSpilling sets the spilling word (a consumer that finds the file part
// not empty when it attaches).
func (q *Queue) MarkSpilling() {
	q.h.lastSpill.Store(time.Now().UnixNano())
	q.h.spilling.Store(1)
}

// ClearSpilling clears the spilling word when empty says so (the ring and
// the file part are empty) and no writer is inside a file put, asked under
// the producers' mutex so that no writer fills the ring meanwhile, and sets
// it back if a writer came as it did (see above). It returns whether the
// word is clear.
func (q *Queue) ClearSpilling(empty func() bool) (bool, error) {
	if q.h.spilling.Load() == 0 {
		return true, nil
	}
	if err := q.sems.Op(time.Second, ipc.Sembuf{Num: semMutex, Op: -1, Flags: ipc.SemUndo}); err != nil {
		return false, q.wrapIPC(err)
	}
	cleared := false
	if q.h.fileWriters.Load() == 0 && empty() {
		q.h.spilling.Store(0)
		cleared = true
		if q.h.fileWriters.Load() != 0 || !empty() {
			q.h.spilling.Store(1)
			cleared = false
		}
	}
	if err := q.sems.Op(-1, ipc.Sembuf{Num: semMutex, Op: 1, Flags: ipc.SemUndo}); err != nil {
		return cleared, q.wrapIPC(err)
	}
	return cleared, nil
}

func isFull(err error) bool { return err != nil && errors.Is(err, queue.ErrFull) }
