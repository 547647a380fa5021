package shmq

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// Stat reads the header. It is a snapshot of words read one by one, not an
// atomic picture: counters may be a record apart.
func (q *Queue) Stat() (queue.Stat, error) {
	st := queue.Stat{
		Name:        q.name,
		Kind:        "shm",
		RecordSize:  q.recordSize,
		Capacity:    int(q.capacity),
		Commit:      q.h.commit.Load(),
		Head:        q.h.head.Load(),
		Tail:        q.h.tail.Load(),
		Puts:        q.h.puts.Load(),
		Gets:        q.h.gets.Load(),
		Commits:     q.h.commits.Load(),
		Redelivered: q.h.redelivered.Load(),
		FullEvents:  q.h.fullEvents.Load(),
		Corrupt:     q.h.corrupt.Load(),
		Created:     time.Unix(0, q.h.created.Load()),
	}
	if w := q.h.consumer.Load(); w != 0 {
		st.ConsumerPID = consumerPID(w)
		st.ConsumerAlive = q.consumerAliveCached(w)
	}
	if st.Tail > st.Commit {
		s := q.slotAt(st.Commit)
		if t := s.putTime.Load(); t != 0 && s.pos.Load() == st.Commit {
			st.Oldest = time.Unix(0, t)
		}
	}
	return st, nil
}

// StoredName is the name written in the segment's header.
func (q *Queue) StoredName() string {
	return string(bytes.TrimRight(q.mem[offName:offName+nameLen], "\x00"))
}

// Peek copies up to n uncommitted records from the oldest on, without taking
// them: the operator's look into a live queue. A record overwritten while it
// was copied (committed and reused meanwhile) is left out.
func (q *Queue) Peek(n int) []queue.Record {
	var out []queue.Record
	commit, tail := q.h.commit.Load(), q.h.tail.Load()
	redeliver := q.h.redeliver.Load()
	for p := commit; p < tail && len(out) < n; p++ {
		if data, ok := q.copySlot(p); ok {
			out = append(out, queue.Record{Pos: p, Data: data, Redelivered: p < redeliver})
		}
	}
	return out
}

// copySlot copies the record at position p without taking it; false when
// the slot no longer holds p whole (overwritten while it was copied, or
// corrupt).
func (q *Queue) copySlot(p uint64) ([]byte, bool) {
	s := q.slotAt(p)
	l := int(s.length.Load())
	if l > q.recordSize {
		return nil, false
	}
	data := append([]byte(nil), s.data[:l]...)
	if s.pos.Load() != p || crc32.Checksum(data, castagnoli) != s.crc.Load() {
		return nil, false
	}
	return data, true
}

// Purge drops every record, taken or not, and returns how many. It needs the
// consumer role (no live consumer may be attached) and the producers'
// mutex, so nothing is half-dropped.
func (q *Queue) Purge() (int, error) {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	if q.closed {
		return 0, queue.ErrClosed
	}
	if !q.consumer {
		if err := q.claimConsumer(); err != nil {
			return 0, err
		}
	}
	if err := q.sems.Op(5*time.Second, ipc.Sembuf{Num: semMutex, Op: -1, Flags: ipc.SemUndo}); err != nil {
		return 0, q.wrapIPC(err)
	}
	tail, commit := q.h.tail.Load(), q.h.commit.Load()
	q.h.head.Store(tail)
	q.h.commit.Store(tail)
	q.h.commits.Add(tail - commit)
	if err := q.sems.Op(-1, ipc.Sembuf{Num: semMutex, Op: 1, Flags: ipc.SemUndo}); err != nil {
		return int(tail - commit), q.wrapIPC(err)
	}
	q.wakeProducers()
	return int(tail - commit), nil
}

// SemValues returns the semaphores' values (mutex, notEmpty, notFull), for
// tests and for ipcq stat.
func (q *Queue) SemValues() ([semCount]int, error) {
	var v [semCount]int
	for i := range v {
		x, err := q.sems.Val(i)
		if err != nil {
			return v, fmt.Errorf("queue %s: %w", q.name, err)
		}
		v[i] = x
	}
	return v, nil
}

// aliveCacheFor is how long Stat trusts its last look at the consumer's
// liveness. The look reads /proc; callers such as dist's journal read Stat
// for every batch, and a status a second old is fresh enough for them and
// for operators.
const aliveCacheFor = time.Second

// consumerAliveCached is consumerAlive(w), looked up at most once a second
// per consumer word.
func (q *Queue) consumerAliveCached(w uint64) bool {
	q.aliveMu.Lock()
	defer q.aliveMu.Unlock()
	if w == q.aliveWord && time.Since(q.aliveAt) < aliveCacheFor {
		return q.alive
	}
	q.aliveWord, q.alive, q.aliveAt = w, consumerAlive(w), time.Now()
	return q.alive
}

// RemovedNow tells the consumer whether the segment was removed (ipcrm),
// looking at most every removalCheckEvery; queue/spill then moves what the
// orphaned ring still holds to its file part before anything can lose it.
func (q *Queue) RemovedNow() bool {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	removed, _ := q.takeWatch.check(q.seg.ID)
	return removed
}

// PeekUntaken copies the records not yet taken, [head, tail), oldest
// first, without taking them; end is tail, the position after the last
// (for SkipUntaken).
func (q *Queue) PeekUntaken() (recs []queue.Record, end uint64) {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	head, tail := q.h.head.Load(), q.h.tail.Load()
	for p := head; p < tail; p++ {
		if data, ok := q.copySlot(p); ok {
			recs = append(recs, queue.Record{Pos: p, Data: data})
		}
	}
	return recs, tail
}
