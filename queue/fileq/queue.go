package fileq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// Queue is a durable file queue in one directory. It implements
// queue.Queue. Its methods are safe for concurrent use.
type Queue struct {
	dir  string
	opts Options
	log  *zap.Logger

	amu   sync.Mutex // orders this process's appends before the append lock
	lockf *os.File   // append.lock
	a     appender

	c *consumer // nil for a producer-only open

	closeMu sync.RWMutex // held shared by calls, exclusively by Close
	closed  bool
	reqs    chan *putReq
	closing chan struct{}
	wg      sync.WaitGroup
	inPut   atomic.Int64 // group-commit requests entered and not answered

	puts, gets, commits, redelivered, corrupt, fullEvents, syncs atomic.Uint64
}

var _ queue.Queue = (*Queue)(nil)

// Open opens (creating when needed) the file queue in dir. With
// opts.Consumer it becomes the queue's one consumer and recovers the
// queue: see the package doc.
func Open(dir string, opts Options, log *zap.Logger) (*Queue, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(dir, opts.Mode|(opts.Mode&0o444)>>2|0o700); err != nil {
		return nil, fmt.Errorf("fileq: create %s: %w", dir, err)
	}
	q := &Queue{dir: dir, opts: opts, log: log.With(zap.String("queue", opts.Name)), closing: make(chan struct{})}
	q.a.q = q
	q.lockf, err = os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, opts.Mode)
	if err != nil {
		return nil, fmt.Errorf("fileq: open lock: %w", err)
	}
	if err := q.open(); err != nil {
		q.a.close()
		q.lockf.Close()
		return nil, err
	}
	if opts.Durability == SyncGroup {
		q.reqs = make(chan *putReq, 1024)
		q.wg.Add(1)
		go q.commitLoop()
	}
	return q, nil
}

func (q *Queue) open() error {
	q.amu.Lock()
	defer q.amu.Unlock()
	if err := flock(q.lockf, true); err != nil {
		return fmt.Errorf("fileq: lock %s: %w", q.dir, err)
	}
	defer funlock(q.lockf)
	if !q.opts.Consumer {
		return q.a.reload()
	}
	c, err := q.openConsumer()
	if err != nil {
		return err
	}
	q.c = c
	return nil
}

// locked runs fn under this process's append mutex and the append lock.
func (q *Queue) locked(fn func() error) error {
	q.amu.Lock()
	defer q.amu.Unlock()
	if err := flock(q.lockf, true); err != nil {
		return fmt.Errorf("fileq: lock %s: %w", q.dir, err)
	}
	defer funlock(q.lockf)
	return fn()
}

// Name returns the queue's configured name.
func (q *Queue) Name() string { return q.opts.Name }

// RecordSize returns the largest record the queue accepts.
func (q *Queue) RecordSize() int { return q.opts.RecordSize }

// Dir returns the queue's directory.
func (q *Queue) Dir() string { return q.dir }

// Put stores one record as durably as the queue's Durability says. The
// timeout is not used: a file queue is never full (a full disk is
// ErrDiskFull at once).
func (q *Queue) Put(data []byte, timeout time.Duration) error {
	_, err := q.PutBatch([][]byte{data}, timeout)
	return err
}

// PutBatch stores recs in order under one hold of the append lock. With
// SyncGroup and SyncEvery the records counted are synced.
func (q *Queue) PutBatch(recs [][]byte, timeout time.Duration) (int, error) {
	return q.PutBatchWritten(recs, timeout, nil)
}

// PutBatchWritten is PutBatch, calling written (when not nil) once the
// records are written, where the consumer can read them, and before they
// are synced: queue/spill counts a writer out of the file part then, not a
// sync later, so that the spilling word can clear under steady traffic.
// written is not called when the write fails.
func (q *Queue) PutBatchWritten(recs [][]byte, _ time.Duration, written func()) (int, error) {
	for _, r := range recs {
		if len(r) > q.opts.RecordSize {
			return 0, queue.ErrTooLarge
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return 0, queue.ErrClosed
	}
	var n int
	var err error
	if q.opts.Durability == SyncGroup {
		n, err = q.groupPut(recs, written)
	} else {
		err = q.locked(func() error {
			var aerr error
			n, aerr = q.a.append(recs, written)
			return aerr
		})
	}
	q.puts.Add(uint64(n))
	return n, err
}

// Syncs is the number of fdatasync calls this Queue made on segments
// since Open. Puts divided by Syncs is the mean group-commit batch.
func (q *Queue) Syncs() uint64 { return q.syncs.Load() }

// Len is the number of uncommitted records. Positions skipped when a
// corrupt segment was set aside count until the consumer passes them.
func (q *Queue) Len() int {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return 0
	}
	st, err := q.positions()
	if err != nil {
		// Len has no error to return: say why it reports 0.
		q.log.Warn("fileq: Len cannot read the queue's positions; reporting 0", zap.Error(err))
		return 0
	}
	return st.Len()
}

// positions fills Tail, Commit, Head, Created and ConsumerPID from the
// files (and, for the consumer, from memory).
func (q *Queue) positions() (queue.Stat, error) {
	var st queue.Stat
	if err := q.locked(func() error {
		if err := q.a.refresh(); err != nil {
			return err
		}
		st.Tail = q.a.next
		return nil
	}); err != nil {
		return st, err
	}
	if q.c != nil {
		q.c.mu.Lock()
		st.Head, st.Commit, st.Created = q.c.head, q.c.commit, time.Unix(0, q.c.create)
		q.c.mu.Unlock()
		st.ConsumerPID = os.Getpid()
		return st, nil
	}
	pf, err := q.readPosFile()
	if err != nil {
		return st, err
	}
	st.Commit, st.Created = pf.commit, time.Unix(0, pf.created)
	st.Head = st.Commit
	if b, err := os.ReadFile(filepath.Join(q.dir, consumerName)); err == nil {
		if cf, ok := decodeConsFile(b); ok {
			st.ConsumerPID = int(cf.pid)
			st.Head = max(st.Head, min(cf.taken, st.Tail))
		}
	}
	return st, nil
}

// Stat reports positions and counters. The counters count this process's
// operations on this Queue since Open: the files keep none, which would
// cost a write per operation. Oldest is found by reading the segment that
// holds the committed position, so Stat costs more than Len.
func (q *Queue) Stat() (queue.Stat, error) {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return queue.Stat{}, queue.ErrClosed
	}
	st, err := q.positions()
	if err != nil {
		return st, err
	}
	st.Name, st.Kind, st.RecordSize = q.opts.Name, "file", q.opts.RecordSize
	st.Puts, st.Gets, st.Commits = q.puts.Load(), q.gets.Load(), q.commits.Load()
	st.Redelivered, st.FullEvents, st.Corrupt = q.redelivered.Load(), q.fullEvents.Load(), q.corrupt.Load()
	if st.ConsumerPID != 0 {
		st.ConsumerAlive = ipc.Alive(st.ConsumerPID, 0)
	}
	if st.Tail > st.Commit {
		st.Oldest = q.oldest(st.Commit)
	}
	return st, nil
}

// oldest finds the put time of the first record at or after pos by reading
// the segments; zero when there is none. It reads at most the segment
// holding pos and the one after.
func (q *Queue) oldest(pos uint64) time.Time {
	segs, err := listSegments(q.dir)
	if err != nil {
		return time.Time{}
	}
	start := 0
	for i, s := range segs {
		if s <= pos {
			start = i
		}
	}
	for i := start; i < len(segs) && i < start+2; i++ {
		f, err := os.Open(filepath.Join(q.dir, segName(segs[i])))
		if err != nil {
			continue
		}
		var t int64
		_, _ = scanSegment(f, segHeaderSize, segs[i], 0, func(fr frame) bool {
			if fr.pos >= pos {
				t = fr.time
				return false
			}
			return true
		})
		f.Close()
		if t != 0 {
			return time.Unix(0, t)
		}
	}
	return time.Time{}
}

// Close stops this process's use of the queue. A consumer's taken but
// uncommitted records are delivered again to the next consumer.
func (q *Queue) Close() error {
	q.closeMu.Lock()
	if q.closed {
		q.closeMu.Unlock()
		return queue.ErrClosed
	}
	q.closed = true
	close(q.closing)
	q.closeMu.Unlock()
	q.wg.Wait()
	var errs []error
	if q.c != nil {
		errs = append(errs, q.c.close())
	}
	q.amu.Lock()
	q.a.close()
	q.amu.Unlock()
	errs = append(errs, q.lockf.Close())
	return errors.Join(errs...)
}

// createSegment creates the empty segment whose first position is first,
// unless it exists. Called under the append lock.
func (q *Queue) createSegment(first uint64) error {
	path := filepath.Join(q.dir, segName(first))
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fileq: stat %s: %w", path, err)
	}
	h := segHeader{maxRecord: uint32(q.opts.RecordSize), firstPos: first}
	return writeFileAtomic(path, h.encode(), q.opts.Mode, q.opts.Durability != SyncNone)
}

func (q *Queue) readPosFile() (posFile, error) {
	path := filepath.Join(q.dir, positionName)
	b, err := os.ReadFile(path)
	if err != nil {
		return posFile{}, fmt.Errorf("fileq: read %s: %w", path, err)
	}
	pf, err := decodePosFile(b)
	if err != nil {
		return posFile{}, fmt.Errorf("fileq: %s: %w", path, err)
	}
	return pf, nil
}

// ensurePosFile reads the position file, creating it for a new queue.
// Called under the append lock.
func (q *Queue) ensurePosFile() (posFile, error) {
	pf, err := q.readPosFile()
	if err == nil {
		return pf, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return pf, err
	}
	pf = posFile{created: time.Now().UnixNano()}
	if segs, lerr := listSegments(q.dir); lerr == nil && len(segs) > 0 {
		pf.commit = segs[0]
	}
	return pf, q.writePosFile(pf)
}

func (q *Queue) writePosFile(pf posFile) error {
	return writeFileAtomic(filepath.Join(q.dir, positionName), pf.encode(), q.opts.Mode, q.opts.Durability != SyncNone)
}
