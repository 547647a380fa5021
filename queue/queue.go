// Package queue defines the contract every M1 queue keeps, whatever holds its
// records: the shared-memory ring (queue/shmq), the durable file queue
// (queue/fileq), and the composite that spills from the first to the second
// (queue/spill).
//
// A queue carries opaque records of at most a fixed size. Any number of
// producers (in any number of processes) Put records; exactly one consumer at a
// time Takes them. A taken record stays in the queue until the consumer
// Commits it; if the consumer dies first, the next consumer is given the
// record again with Redelivered set. That is the whole delivery promise M1's
// processes build on: at least once, in order, nothing acknowledged lost.
//
// Commit is positional: Commit(pos) commits every taken record up to and
// including the one at pos. A consumer that finishes records out of order
// (a sender whose carrier answers out of order) commits the lowest position
// below which everything is finished; what it had finished above that
// position is delivered again after a crash, which bounds duplicates by the
// consumer's window.
package queue

import (
	"errors"
	"time"
)

// Record is one record taken from a queue.
type Record struct {
	// Pos is the record's position in its queue; pass it to Commit.
	// Positions increase by one per record and are never reused.
	Pos uint64
	// Data is a copy of the record's bytes, owned by the caller (but see
	// TakeBatch on reuse).
	Data []byte
	// Redelivered is set when the record was taken before by a consumer
	// that did not commit it (it died, or it was stopped uncleanly).
	Redelivered bool
}

// Queue is what every M1 queue implements. Timeouts: 0 tries once and returns
// at once; a negative timeout waits for ever.
type Queue interface {
	// Name is the queue's configured name (DIST.R, SND.KT1, DBX, ...).
	Name() string
	// RecordSize is the largest record the queue accepts, in bytes.
	RecordSize() int

	// Put stores one record. It returns only once the record is stored as
	// durably as the queue promises; ErrFull when there is no room within
	// the timeout.
	Put(data []byte, timeout time.Duration) error
	// PutBatch stores recs in order and returns how many were stored. The
	// records are stored under one lock; when fewer than all were stored
	// the error says why (ErrFull after the timeout).
	PutBatch(recs [][]byte, timeout time.Duration) (int, error)

	// Take returns the next record without removing it. ErrEmpty when none
	// came within the timeout.
	Take(timeout time.Duration) (Record, error)
	// TakeBatch appends up to max records to dst. It waits up to timeout
	// for the first record only and returns what is there then. The Data
	// buffers of records between len(dst) and cap(dst) may be reused for
	// the new records: a consumer that calls TakeBatch(recs[:0], ...) in a
	// loop allocates nothing, and must not keep those buffers.
	TakeBatch(dst []Record, max int, timeout time.Duration) ([]Record, error)
	// Commit removes every taken record with a position up to and including
	// pos. Committing a position not yet taken is ErrNotTaken.
	Commit(pos uint64) error

	// Len is the number of records in the queue, taken ones included.
	Len() int
	// Stat reports the queue's positions and counters.
	Stat() (Stat, error)
	// Close releases the queue's resources in this process. A consumer
	// that closes without committing leaves its taken records to be
	// delivered again.
	Close() error
}

// Get takes one record and commits it at once: for consumers whose work
// cannot fail after the record leaves the queue.
func Get(q Queue, timeout time.Duration) ([]byte, error) {
	r, err := q.Take(timeout)
	if err != nil {
		return nil, err
	}
	if err := q.Commit(r.Pos); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// GetBatch takes up to max records and commits them at once.
func GetBatch(q Queue, max int, timeout time.Duration) ([][]byte, error) {
	recs, err := q.TakeBatch(nil, max, timeout)
	if len(recs) == 0 {
		return nil, err
	}
	if cerr := q.Commit(recs[len(recs)-1].Pos); cerr != nil {
		return nil, cerr
	}
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i] = recs[i].Data
	}
	return out, err
}

// Stat is a queue's state as its header (or its files) hold it.
type Stat struct {
	Name       string
	Kind       string // "shm", "file" or "spill"
	RecordSize int
	Capacity   int // records; 0 for a file queue (bounded by the disk)

	Head   uint64 // next position to take
	Tail   uint64 // next position to put
	Commit uint64 // every position below this is committed

	Puts        uint64 // records put, ever
	Gets        uint64 // records taken, ever (redeliveries included)
	Commits     uint64 // records committed, ever
	Redelivered uint64 // records delivered again after a consumer died
	FullEvents  uint64 // puts that found the queue full
	Corrupt     uint64 // records found corrupt (checksum) and set aside

	ConsumerPID   int  // 0 when no consumer is attached
	ConsumerAlive bool // whether ConsumerPID is a live process
	Created       time.Time
	Oldest        time.Time // put time of the oldest uncommitted record; zero when empty

	// Spill only: the part of Len held by the file queue.
	FileLen int
}

// Len is the number of uncommitted records (taken or not).
func (s Stat) Len() int { return int(s.Tail - s.Commit) }

// InFlight is the number of records taken and not yet committed.
func (s Stat) InFlight() int { return int(s.Head - s.Commit) }

// ErrFull is returned by Put when the queue has no room within the timeout.
// Listeners turn it into result 2001; sch stops claiming while it persists.
var ErrFull = errors.New("queue full")

// ErrEmpty is returned by Take when no record came within the timeout.
var ErrEmpty = errors.New("queue empty")

// ErrTooLarge is returned by Put for a record longer than the queue's
// record size. The record is not stored.
var ErrTooLarge = errors.New("record larger than the queue's record size")

// ErrNotTaken is returned by Commit for a position that was not taken.
var ErrNotTaken = errors.New("commit of a position not taken")

// ErrClosed is returned by operations on a queue closed in this process.
var ErrClosed = errors.New("queue closed")

// ErrConsumerBusy is returned when a second consumer tries to take from a
// queue whose consumer is alive. One consumer at a time is part of M1's
// delivery promise.
var ErrConsumerBusy = errors.New("queue has a live consumer")

// ErrRemoved is returned when the queue's storage disappeared under the
// process: the shared-memory segment was removed (ipcrm), or the directory of
// a file queue was deleted.
var ErrRemoved = errors.New("queue storage removed")

// ReuseData returns a buffer of n bytes for the next record appended to dst,
// reusing the Data of the record beyond len(dst) when it is large enough.
// Queue implementations call it from TakeBatch.
func ReuseData(dst []Record, n int) []byte {
	if len(dst) < cap(dst) {
		if old := dst[: len(dst)+1 : cap(dst)][len(dst)].Data; cap(old) >= n {
			return old[:n]
		}
	}
	return make([]byte, n)
}
