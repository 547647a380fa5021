package shmq

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// ErrNotOrphan means OpenRemoved found no removed segment of this queue
// under the shmid it was given: the segment is gone (its last process
// detached), was not removed, or is another queue's or another
// generation's (shmids are reused).
var ErrNotOrphan = errors.New("no removed segment of this queue under that shmid")

// OpenRemoved attaches to a segment of this queue that was removed (ipcrm)
// while processes still had it attached, by its shmid: Linux lets a process
// attach a segment marked for destruction for as long as it exists. The
// segment must carry the queue's name, geometry and the creation time
// created (the shmid may have been reused since it was recorded).
//
// The key's semaphore set belongs to the queue's new segment, if any, so
// the handle gets a private set of its own, removed by Close: nobody else
// signals an orphan anyway. The handle is meant for a consumer that drains
// what a dead consumer left there; see queue/spill.
func OpenRemoved(shmid int, created int64, opts Options) (*Queue, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	info, err := ipc.StatShm(shmid)
	if err != nil {
		return nil, fmt.Errorf("queue %s: shmid %d: %w: %w", opts.Name, shmid, ErrNotOrphan, err)
	}
	if !info.Removed {
		return nil, fmt.Errorf("queue %s: shmid %d is not removed: %w", opts.Name, shmid, ErrNotOrphan)
	}
	seg, err := ipc.AttachShm(shmid, ipc.Private)
	if err != nil {
		return nil, fmt.Errorf("queue %s: shmid %d: %w: %w", opts.Name, shmid, ErrNotOrphan, err)
	}
	q := &Queue{
		name: opts.Name, key: opts.Key, seg: seg, mem: seg.Mem,
		capacity: uint64(opts.Capacity), recordSize: opts.RecordSize,
		slotSize: SlotSize(opts.RecordSize), spin: -1, log: opts.Log,
		privateSems: true,
	}
	fail := func(err error) (*Queue, error) {
		_ = seg.Detach()
		return nil, err
	}
	if len(q.mem) < headerSize {
		return fail(fmt.Errorf("queue %s: shmid %d is %d bytes: %w", opts.Name, shmid, len(q.mem), ErrNotOrphan))
	}
	q.h = mapHeader(q.mem)
	if err := q.checkGeometry(opts); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrNotOrphan, err))
	}
	if got := q.StoredName(); got != opts.Name || q.h.created.Load() != created {
		return fail(fmt.Errorf("queue %s: shmid %d holds %q created %d, not the one recorded (created %d): %w",
			opts.Name, shmid, got, q.h.created.Load(), created, ErrNotOrphan))
	}
	sems, err := ipc.CreateSem(ipc.Private, semCount, 0o600)
	if err != nil {
		return fail(fmt.Errorf("queue %s: semaphores for an orphan: %w", opts.Name, err))
	}
	q.sems = sems
	q.takeWatch.seen = true // removed, by definition
	q.putWatch.seen = true
	return q, nil
}

// Created is the segment's creation time, Unix nanoseconds: with the
// shmid, what names one generation of the queue.
func (q *Queue) Created() int64 { return q.h.created.Load() }

// Untaken is the number of records put and not yet taken by any consumer.
func (q *Queue) Untaken() int { return int(q.h.tail.Load() - q.h.head.Load()) }

// Drained tells whether every record put was committed. A producer that
// finds its segment removed keeps it attached until then, so that a
// consumer that was dead at the removal can still find it (OpenRemoved).
func (q *Queue) Drained() bool { return q.h.commit.Load() >= q.h.tail.Load() }

// Redelivering tells whether records a previous consumer took and did not
// commit are still to be taken again (they are marked Redelivered): they
// must not leave the ring unmarked.
func (q *Queue) Redelivering() bool {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	return q.h.head.Load() < q.h.redeliver.Load()
}

// SkipUntaken marks the records PeekUntaken returned, up to end (the
// position after the last), as taken, for a consumer that has put copies of
// them elsewhere; CommitTaken commits them with the rest.
func (q *Queue) SkipUntaken(end uint64) error {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if !q.consumer {
		return fmt.Errorf("queue %s: skip without being the consumer: %w", q.name, queue.ErrNotTaken)
	}
	if head := q.h.head.Load(); end > head && end <= q.h.tail.Load() {
		q.h.gets.Add(end - head)
		q.h.head.Store(end)
	}
	return nil
}

// CommitTaken commits every record taken.
func (q *Queue) CommitTaken() error {
	q.takeMu.Lock()
	head := q.h.head.Load()
	q.takeMu.Unlock()
	if head == 0 || head <= q.h.commit.Load() {
		return nil
	}
	return q.Commit(head - 1)
}
