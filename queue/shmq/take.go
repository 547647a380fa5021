package shmq

import (
	"fmt"
	"hash/crc32"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// Take returns the next record; it stays in the queue until committed.
func (q *Queue) Take(timeout time.Duration) (queue.Record, error) {
	recs, err := q.TakeBatch(nil, 1, timeout)
	if len(recs) == 0 {
		return queue.Record{}, err
	}
	return recs[0], nil
}

// TakeBatch appends up to max records to dst, waiting up to timeout for the
// first.
func (q *Queue) TakeBatch(dst []queue.Record, max int, timeout time.Duration) ([]queue.Record, error) {
	if max < 1 {
		return dst, nil
	}
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed {
		return dst, queue.ErrClosed
	}
	if !q.consumer {
		if err := q.claimConsumer(); err != nil {
			return dst, err
		}
	}
	deadline := deadlineOf(timeout)
	for {
		head := q.h.head.Load()
		tail := q.h.tail.Load()
		if tail > head {
			n := len(dst)
			dst = q.takeRange(dst, head, min(tail-head, uint64(max)))
			if len(dst) > n {
				return dst, nil
			}
			continue // only corrupt slots: look further
		}
		if err := q.waitNotEmpty(timeout, deadline); err != nil {
			return dst, err
		}
	}
}

// takeRange copies k records from head on and moves head past them.
func (q *Queue) takeRange(dst []queue.Record, head, k uint64) []queue.Record {
	redeliver := q.h.redeliver.Load()
	var redelivered uint64
	for p := head; p < head+k; p++ {
		s := q.slotAt(p)
		n := int(s.length.Load())
		if s.pos.Load() != p || n > q.recordSize || crc32.Checksum(s.data[:n], castagnoli) != s.crc.Load() {
			// Only a stray write into the segment does this: the
			// protocol never publishes a half-written slot. The
			// record cannot be trusted; it is counted and logged,
			// and its position is still committed in order.
			q.h.corrupt.Add(1)
			q.log.Warn("corrupt slot skipped", zap.String("queue", q.name), zap.Uint64("pos", p),
				zap.Uint64("slot_pos", s.pos.Load()), zap.Int("length", n))
			continue
		}
		buf := queue.ReuseData(dst, n)
		copy(buf, s.data[:n])
		rec := queue.Record{Pos: p, Data: buf}
		if p < redeliver {
			rec.Redelivered = true
			redelivered++
		}
		dst = append(dst, rec)
	}
	q.h.head.Store(head + k)
	q.h.gets.Add(k)
	if redelivered > 0 {
		q.h.redelivered.Add(redelivered)
	}
	return dst
}

// waitNotEmpty spins a little, then sleeps on notEmpty for at most maxSleep.
// It returns nil when the caller should look again, queue.ErrEmpty when the
// timeout passed, queue.ErrRemoved when the queue is gone.
func (q *Queue) waitNotEmpty(timeout time.Duration, deadline time.Time) error {
	if timeout == 0 {
		return queue.ErrEmpty
	}
	if q.spin > 0 {
		end := time.Now().Add(q.spin)
		for i := 0; ; i++ {
			if q.h.tail.Load() > q.h.head.Load() {
				return nil
			}
			if i%64 == 63 {
				if time.Now().After(end) {
					break
				}
				runtime.Gosched()
			}
		}
	}
	left := remaining(timeout, deadline)
	if left == 0 {
		return queue.ErrEmpty
	}
	if err := q.orphanDrained(); err != nil {
		return err
	}
	q.h.consWaiting.Store(1)
	if q.h.tail.Load() > q.h.head.Load() {
		q.h.consWaiting.Store(0)
		return nil
	}
	sleep := maxSleep
	if left > 0 && left < sleep {
		sleep = left
	}
	err := q.sems.Op(sleep, ipc.Sembuf{Num: semNotEmpty, Op: -1})
	q.h.consWaiting.Store(0)
	if err != nil && !errorsIsTimeout(err) {
		return q.wrapIPC(err)
	}
	return nil
}

// orphanGrace is how long a removed ring must stay empty before its
// consumer leaves it. A producer looks for the removal before a put at most
// removalCheckEvery after its last look, so after this long no producer can
// still be putting into the orphan without having noticed.
const orphanGrace = 4 * removalCheckEvery

// orphanDrained returns queue.ErrRemoved when the segment was removed and
// the ring has been empty for orphanGrace. Producers still attached but
// idle do not hold the consumer back: their next put looks for the removal
// first, and goes elsewhere (queue/spill: the file part, or the new ring).
func (q *Queue) orphanDrained() error {
	removed, _ := q.takeWatch.check(q.seg.ID)
	if !removed {
		return nil
	}
	if q.h.tail.Load() > q.h.head.Load() {
		q.orphanEmpty = time.Time{}
		return nil
	}
	if q.orphanEmpty.IsZero() {
		q.orphanEmpty = time.Now()
		return nil
	}
	if time.Since(q.orphanEmpty) < orphanGrace {
		return nil
	}
	return fmt.Errorf("queue %s: segment %d removed and drained: %w", q.name, q.seg.ID, queue.ErrRemoved)
}

// Commit commits every taken record up to and including pos.
func (q *Queue) Commit(pos uint64) error {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed {
		return queue.ErrClosed
	}
	if !q.consumer || pos >= q.h.head.Load() {
		return fmt.Errorf("queue %s: commit of position %d, taken up to %d: %w", q.name, pos, q.h.head.Load(), queue.ErrNotTaken)
	}
	commit := q.h.commit.Load()
	if pos < commit {
		return nil // committed before: commits are idempotent
	}
	q.h.commit.Store(pos + 1)
	q.h.commits.Add(pos + 1 - commit)
	q.wakeProducers()
	return nil
}

// wakeProducers gives one token per sleeping producer.
func (q *Queue) wakeProducers() {
	if q.h.prodWaiting.Load() == 0 {
		return
	}
	n := q.h.prodWaiting.Swap(0)
	if n == 0 {
		return
	}
	n = min(n, ipc.SemValueMax/2)
	_ = q.sems.Op(-1, ipc.Sembuf{Num: semNotFull, Op: int16(n)})
}

// Len is the number of uncommitted records.
func (q *Queue) Len() int { return int(q.h.tail.Load() - q.h.commit.Load()) }

// RingLen is Len: the ring is all a shmq holds. It lets a reader of queue
// depths (eai_lsnr's intake brake) treat shmq and queue/spill alike.
func (q *Queue) RingLen() int { return q.Len() }
