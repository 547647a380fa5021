package spill

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
)

// Policy says what a Put does when the ring is full.
type Policy string

// Policies, as etc/m1.toml names them.
const (
	Block  Policy = "block"
	Spill  Policy = "spill"
	Reject Policy = "reject"
)

// Options describe a queue with a file part.
type Options struct {
	Shm    shmq.Options // Name, Key, Capacity, RecordSize, Perm
	Dir    string       // the file part's directory
	File   fileq.Options
	Policy Policy
	// Consumer opens the queue as its one consumer: it may create the
	// segment, and it holds the file part's consumer lock.
	Consumer bool
	// Grace is how long the consumer lets writers counted inside a file
	// put keep the spilling word set, with both parts empty, before it
	// takes them for killed and resets the count; 10 s when zero.
	Grace time.Duration
	Log   *zap.Logger
}

// Queue is one process's handle on a queue with a file part.
type Queue struct {
	o   Options
	log *zap.Logger

	shmMu       sync.Mutex
	shm         *shmq.Queue // nil while missing or removed
	shmRetry    time.Time
	shmMissing  bool // logged once per absence
	fileMu      sync.Mutex
	file        *fileq.Queue
	fileChecked time.Time

	// stuckSince: the spilling word could not be cleared, with both
	// parts empty, because writers were counted inside a file put.
	stuckSince time.Time

	// A ring removed under the consumer (ipcrm): when it was first seen,
	// and the removed rings kept only to commit what was taken from them.
	removedSeen time.Time
	orphans     []*shmq.Queue
	// Removed rings a dead consumer left, adopted at Open and taken
	// first (orphans.go); when the first was found empty.
	adopted      []*shmq.Queue
	adoptedEmpty time.Time
	// ringsDirty: the consumer's ring changed and the rings file is to be
	// written again (by TakeBatch, which holds takeMu).
	ringsDirty atomic.Bool

	// A producer's removed rings, held attached until drained (under
	// shmMu).
	held        []*shmq.Queue
	heldChecked time.Time

	takeMu  sync.Mutex
	taken   []takenRef
	nextPos uint64
	closed  atomic.Bool
}

type takenRef struct {
	pos  uint64      // this handle's position
	ring *shmq.Queue // the ring it came from; nil: the file part
	part uint64      // the part's position
}

// Open opens the queue. A missing segment is not an error: writers go to
// the file part until it exists.
func Open(o Options) (*Queue, error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	switch o.Policy {
	case Block, Spill, Reject:
	default:
		return nil, fmt.Errorf("queue %s: full policy %q: want block, spill or reject", o.Shm.Name, o.Policy)
	}
	if err := o.Shm.Validate(); err != nil {
		return nil, err
	}
	o.Shm.Log = o.Log
	o.Shm.Create = o.Consumer
	o.File.Name = o.Shm.Name
	o.File.RecordSize = o.Shm.RecordSize
	o.File.Consumer = o.Consumer
	q := &Queue{o: o, log: o.Log.With(zap.String("queue", o.Shm.Name))}
	if o.Consumer {
		f, err := fileq.Open(o.Dir, o.File, o.Log)
		if err != nil {
			return nil, err
		}
		q.file = f
	}
	if err := q.openShm(); err != nil && !errors.Is(err, ipc.ErrNotExist) {
		q.Close()
		return nil, err
	}
	if o.Consumer {
		q.adoptOrphans()
	}
	if o.Consumer && q.shm != nil && (q.file.Len() > 0 || len(q.adopted) > 0) {
		// Records saved at a planned stop, spilled before a crash, or
		// left in a removed ring: writers go to the file part until they
		// are drained.
		q.shm.MarkSpilling()
	}
	return q, nil
}

// openShm attaches to the ring; caller holds shmMu or is Open.
func (q *Queue) openShm() error {
	s, err := shmq.Open(q.o.Shm)
	if err != nil {
		if !q.shmMissing {
			q.shmMissing = true
			q.log.Warn("shared-memory segment not available: records go to the file queue", zap.String("dir", q.o.Dir), zap.Error(err))
		}
		q.shmRetry = time.Now().Add(time.Second)
		return err
	}
	if q.shmMissing {
		q.log.Info("shared-memory segment available again")
		q.shmMissing = false
	}
	q.shm = s
	if q.o.Consumer {
		q.ringsDirty.Store(true)
	}
	return nil
}

// ring returns the ring, looking for it again at most every second while
// it is missing.
func (q *Queue) ring() *shmq.Queue {
	q.shmMu.Lock()
	defer q.shmMu.Unlock()
	q.releaseHeld(false)
	if q.shm == nil && !q.closed.Load() && time.Now().After(q.shmRetry) {
		_ = q.openShm()
	}
	return q.shm
}

// dropRing forgets a removed ring; the next look may find a new one. A
// producer keeps it attached until it is drained (holdRemoved). The
// consumer leaves it to TakeBatch, which drains it or moves what it holds
// (leaveRemoved); meanwhile its own puts go to the file part.
func (q *Queue) dropRing(s *shmq.Queue, cause error) {
	q.shmMu.Lock()
	defer q.shmMu.Unlock()
	if q.shm != s || q.o.Consumer {
		return
	}
	q.holdRemoved(s)
	q.shm = nil
	// The consumer looks for (or makes) the new ring at once: producers
	// that reopened may already be writing into it. Producers look again
	// in a second; until then they write to the file part.
	q.shmRetry = time.Now().Add(time.Second)
	if q.o.Consumer {
		q.shmRetry = time.Now()
	}
	if !q.shmMissing {
		q.shmMissing = true
		q.log.Warn("shared-memory segment removed: records go to the file queue", zap.String("dir", q.o.Dir), zap.Error(cause))
	}
}

// filePart returns the file part, opening it for a producer on first use.
func (q *Queue) filePart() (*fileq.Queue, error) {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	if q.file != nil {
		return q.file, nil
	}
	f, err := fileq.Open(q.o.Dir, q.o.File, q.o.Log)
	if err != nil {
		return nil, err
	}
	q.file = f
	return f, nil
}

// Name is the queue's name.
func (q *Queue) Name() string { return q.o.Shm.Name }

// RecordSize is the largest record the queue takes.
func (q *Queue) RecordSize() int { return q.o.Shm.RecordSize }

// Put stores one record.
func (q *Queue) Put(data []byte, timeout time.Duration) error {
	one := [1][]byte{data}
	_, err := q.PutBatch(one[:], timeout)
	return err
}

// PutBatch stores recs in the ring, or in the file part as the policy and
// the ring's state say.
func (q *Queue) PutBatch(recs [][]byte, timeout time.Duration) (int, error) {
	n := 0
	var written func()
	if s := q.ring(); s != nil {
		var err error
		switch q.o.Policy {
		case Spill:
			var spill bool
			n, spill, err = s.PutOrSpill(recs, 0)
			if err == nil && !spill {
				return n, nil
			}
			if spill {
				// Counted out as soon as the records are written (the
				// consumer can see them), not after the sync: the spilling
				// word clears only while no writer is counted in.
				written = sync.OnceFunc(s.SpillDone)
				defer written()
			}
		case Block:
			n, err = s.PutBatch(recs, timeout)
			if !errors.Is(err, queue.ErrRemoved) {
				return n, err
			}
		case Reject:
			n, err = s.PutBatch(recs, 0)
			if !errors.Is(err, queue.ErrRemoved) {
				return n, err
			}
		}
		if errors.Is(err, queue.ErrRemoved) {
			q.dropRing(s, err)
		} else if err != nil {
			return n, err
		}
	}
	f, err := q.filePart()
	if err != nil {
		return n, err
	}
	m, err := f.PutBatchWritten(recs[n:], timeout, written)
	return n + m, err
}
