package shmq

import (
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxSleep bounds every semaphore sleep: after it a side looks at the
// positions again, so a wake-up lost to a killed process costs no more.
const maxSleep = 100 * time.Millisecond

// removalCheckEvery is how often a producer asks the kernel whether the
// segment was removed under it.
const removalCheckEvery = 250 * time.Millisecond

// Put stores one record.
func (q *Queue) Put(data []byte, timeout time.Duration) error {
	one := [1][]byte{data}
	_, err := q.PutBatch(one[:], timeout)
	return err
}

// PutBatch stores recs in order, as many as fit per taking of the mutex.
// Records too large for the queue are refused before any is stored.
func (q *Queue) PutBatch(recs [][]byte, timeout time.Duration) (int, error) {
	for i, r := range recs {
		if len(r) > q.recordSize {
			return 0, fmt.Errorf("queue %s: record %d is %d bytes, the queue takes %d: %w", q.name, i, len(r), q.recordSize, queue.ErrTooLarge)
		}
	}
	q.putMu.Lock()
	defer q.putMu.Unlock()
	if q.closed {
		return 0, queue.ErrClosed
	}
	if err := q.checkRemoved(); err != nil {
		return 0, err
	}
	deadline := deadlineOf(timeout)
	n := 0
	countedFull := false
	for n < len(recs) {
		if err := q.sems.Op(mutexWait(timeout, deadline), ipc.Sembuf{Num: semMutex, Op: -1, Flags: ipc.SemUndo}); err != nil {
			if errorsIsTimeout(err) {
				return n, fmt.Errorf("queue %s: mutex not free within %v: %w", q.name, timeout, queue.ErrFull)
			}
			return n, q.wrapIPC(err)
		}
		tail := q.h.tail.Load()
		free := q.capacity - (tail - q.h.commit.Load())
		k := min(uint64(len(recs)-n), free)
		if k > 0 {
			now := time.Now().UnixNano()
			for i := uint64(0); i < k; i++ {
				q.writeSlot(tail+i, recs[n+int(i)], now)
			}
			// Publishing: the records exist from this store on.
			q.h.tail.Store(tail + k)
			q.h.puts.Add(k)
		}
		if err := q.sems.Op(-1, ipc.Sembuf{Num: semMutex, Op: 1, Flags: ipc.SemUndo}); err != nil {
			return n + int(k), q.wrapIPC(err)
		}
		n += int(k)
		if k > 0 {
			q.wakeConsumer()
			continue
		}
		if !countedFull {
			q.h.fullEvents.Add(1)
			countedFull = true
		}
		if err := q.waitNotFull(timeout, deadline); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (q *Queue) writeSlot(p uint64, data []byte, now int64) {
	s := q.slotAt(p)
	copy(s.data, data)
	s.length.Store(uint32(len(data)))
	s.crc.Store(crc32.Checksum(data, castagnoli))
	s.putTime.Store(now)
	s.pos.Store(p)
}

// wakeConsumer signals notEmpty only when the consumer said it sleeps, and
// only once per sleep (the CAS).
func (q *Queue) wakeConsumer() {
	if q.h.consWaiting.Load() == 1 && q.h.consWaiting.CompareAndSwap(1, 0) {
		// A failed signal only delays the consumer until its bounded
		// sleep ends.
		_ = q.sems.Op(-1, ipc.Sembuf{Num: semNotEmpty, Op: 1})
	}
}

// waitNotFull sleeps until the consumer commits, the timeout passes (ErrFull),
// or the semaphores are removed (ErrRemoved).
func (q *Queue) waitNotFull(timeout time.Duration, deadline time.Time) error {
	left := remaining(timeout, deadline)
	if left == 0 {
		return fmt.Errorf("queue %s: %d records: %w", q.name, q.capacity, queue.ErrFull)
	}
	q.h.prodWaiting.Add(1)
	if q.capacity-(q.h.tail.Load()-q.h.commit.Load()) > 0 {
		q.decProdWaiting()
		return nil
	}
	sleep := maxSleep
	if left > 0 && left < sleep {
		sleep = left
	}
	err := q.sems.Op(sleep, ipc.Sembuf{Num: semNotFull, Op: -1})
	if err != nil && !errorsIsTimeout(err) {
		return q.wrapIPC(err)
	}
	if err != nil {
		q.decProdWaiting()
	}
	return nil
}

// decProdWaiting takes back this producer's count unless the consumer
// already zeroed it when it signalled.
func (q *Queue) decProdWaiting() {
	for {
		v := q.h.prodWaiting.Load()
		if v == 0 || q.h.prodWaiting.CompareAndSwap(v, v-1) {
			return
		}
	}
}

// checkRemoved asks the kernel, at most every removalCheckEvery, whether the
// segment was removed (ipcrm) under this process. Caller holds putMu.
func (q *Queue) checkRemoved() error {
	if removed, _ := q.putWatch.check(q.seg.ID); removed {
		return fmt.Errorf("queue %s: segment %d: %w", q.name, q.seg.ID, queue.ErrRemoved)
	}
	return nil
}

// check returns whether the segment is removed and how many processes are
// attached, asking the kernel at most every removalCheckEvery.
func (w *removalWatch) check(shmid int) (removed bool, nattch int) {
	if w.seen {
		return true, -1
	}
	now := time.Now()
	if now.Before(w.next) {
		return false, -1
	}
	w.next = now.Add(removalCheckEvery)
	info, err := ipc.StatShm(shmid)
	if err == nil && !info.Removed {
		return false, info.Nattch
	}
	w.seen = true
	if err != nil {
		return true, 0
	}
	return true, info.Nattch
}

// RemovedLately tells whether the segment was removed under this process,
// asking the kernel at most every removalCheckEvery (Removed asks every
// time): cheap enough for a handle that only reads the header, and so never
// meets the removal in a put (eai_lsnr's view of DBX).
func (q *Queue) RemovedLately() bool {
	q.putMu.Lock()
	defer q.putMu.Unlock()
	return q.checkRemoved() != nil
}

// Removed tells whether the segment was removed under this process.
func (q *Queue) Removed() bool {
	q.putMu.Lock()
	defer q.putMu.Unlock()
	q.putWatch.next = time.Time{}
	return q.checkRemoved() != nil
}

func deadlineOf(timeout time.Duration) time.Time {
	if timeout > 0 {
		return time.Now().Add(timeout)
	}
	return time.Time{}
}

// remaining is the time left: negative for ever, 0 when none is left.
func remaining(timeout time.Duration, deadline time.Time) time.Duration {
	switch {
	case timeout < 0:
		return -1
	case timeout == 0:
		return 0
	}
	if left := time.Until(deadline); left > 0 {
		return left
	}
	return 0
}

// mutexWait is how long to wait for the producers' mutex. Another producer
// holds it for microseconds, so even a try-once Put waits a little for it
// rather than report a queue full that is not.
func mutexWait(timeout time.Duration, deadline time.Time) time.Duration {
	if timeout < 0 {
		return -1
	}
	return max(remaining(timeout, deadline), 50*time.Millisecond)
}

func errorsIsTimeout(err error) bool { return errors.Is(err, ipc.ErrTimeout) }
