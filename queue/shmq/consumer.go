package shmq

import (
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// consumerAlive tells whether the consumer word names a live process.
func consumerAlive(w uint64) bool {
	pid := consumerPID(w)
	if !ipc.Alive(pid, 0) {
		return false
	}
	st, err := ipc.ProcStart(pid)
	return err == nil && uint32(st) == uint32(w)
}

// claimConsumer makes this handle the queue's one consumer and re-derives
// what a previous consumer may have left: taken records are to be delivered
// again, and the semaphores are reset. Caller holds takeMu.
func (q *Queue) claimConsumer() error {
	pid := os.Getpid()
	start, err := ipc.ProcStart(pid)
	if err != nil {
		return fmt.Errorf("queue %s: own start time: %w", q.name, err)
	}
	me := consumerWord(pid, start)
	for {
		cur := q.h.consumer.Load()
		if cur != 0 && (cur == me || consumerAlive(cur)) {
			return fmt.Errorf("queue %s: consumer pid %d: %w", q.name, consumerPID(cur), queue.ErrConsumerBusy)
		}
		if q.h.consumer.CompareAndSwap(cur, me) {
			if cur != 0 {
				q.log.Warn("took over queue from a dead consumer", zap.String("queue", q.name), zap.Int("dead_pid", consumerPID(cur)))
			}
			break
		}
	}
	q.consumer = true
	// Whatever was taken and not committed goes out again, marked.
	head, commit := q.h.head.Load(), q.h.commit.Load()
	if head > commit {
		if head > q.h.redeliver.Load() {
			q.h.redeliver.Store(head)
		}
		q.h.head.Store(commit)
	}
	q.resetSemaphores()
	return nil
}

// resetSemaphores re-derives the semaphores from the header: no consumer
// sleeps (this one is awake), stale tokens are dropped, and a mutex whose
// holder is dead without the kernel's undo having run is given back.
func (q *Queue) resetSemaphores() {
	q.h.consWaiting.Store(0)
	if err := q.sems.SetVal(semNotEmpty, 0); err != nil {
		q.log.Warn("reset notEmpty", zap.String("queue", q.name), zap.Error(err))
	}
	if v, err := q.sems.Val(semMutex); err == nil && v == 0 {
		if holder, err := q.sems.LastPID(semMutex); err == nil && holder != 0 && !ipc.Alive(holder, 0) {
			q.log.Warn("mutex held by a dead process: released", zap.String("queue", q.name), zap.Int("pid", holder))
			_ = q.sems.SetVal(semMutex, 1)
		}
	}
	// Producers asleep on notFull wake by their bounded sleep; give them a
	// token now so that a full queue starts moving at once.
	q.wakeProducers()
}

// releaseConsumer clears the consumer word if it is still ours. Caller
// holds takeMu.
func (q *Queue) releaseConsumer() {
	pid := os.Getpid()
	if w := q.h.consumer.Load(); consumerPID(w) == pid {
		q.h.consumer.CompareAndSwap(w, 0)
	}
	q.consumer = false
}

// Claim makes this handle the queue's consumer now; Take and TakeBatch do
// it on first use. Records a previous consumer took and did not commit are
// then to be delivered again.
func (q *Queue) Claim() error {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed {
		return queue.ErrClosed
	}
	if q.consumer {
		return nil
	}
	return q.claimConsumer()
}
