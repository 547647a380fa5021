package shmq

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// Options describe a queue. Name, Key, Capacity and RecordSize are its
// geometry; opening an existing segment checks them.
type Options struct {
	Name       string
	Key        ipc.Key
	Capacity   int         // slots
	RecordSize int         // largest record, bytes
	Perm       os.FileMode // permission bits of segment and semaphores; 0600 when zero
	// Create makes Open create the queue when its key names nothing.
	Create bool
	// Spin is how long a consumer polls the ring before it sleeps on the
	// semaphore; 50µs when zero, none when negative. Spinning keeps a busy
	// queue free of system calls; it costs at most this much CPU per wait.
	Spin time.Duration
	// Log receives warnings (corrupt slots, repairs). zap.NewNop when nil.
	Log *zap.Logger
}

// Limits of a queue's geometry.
const (
	MaxCapacity   = 1 << 24
	MaxRecordSize = 1 << 20
	maxNameLen    = nameLen - 1
)

// ErrGeometry means an existing segment's header differs from the options:
// another magic, version, record size or capacity. The message says what
// differs; the remedy is to remove the queue (ipcq rm) and create it again.
var ErrGeometry = errors.New("queue segment does not match its configuration")

// Validate checks the options without touching the system.
func (o *Options) Validate() error {
	switch {
	case o.Name == "" || len(o.Name) > maxNameLen:
		return fmt.Errorf("queue name %q: want 1 to %d bytes", o.Name, maxNameLen)
	case o.Capacity < 1 || o.Capacity > MaxCapacity:
		return fmt.Errorf("queue %s: capacity %d out of 1..%d", o.Name, o.Capacity, MaxCapacity)
	case o.RecordSize < 1 || o.RecordSize > MaxRecordSize:
		return fmt.Errorf("queue %s: record size %d out of 1..%d", o.Name, o.RecordSize, MaxRecordSize)
	}
	return nil
}

// Queue is one process's handle on a shared-memory queue.
type Queue struct {
	name       string
	key        ipc.Key
	seg        *ipc.Segment
	sems       *ipc.SemSet
	mem        []byte
	h          header
	capacity   uint64
	recordSize int
	slotSize   int
	spin       time.Duration
	log        *zap.Logger

	// putMu keeps this process's producers off the semaphore one at a
	// time, so that only one OS thread per process sleeps in semop.
	putMu sync.Mutex
	// takeMu serialises this handle's consumer operations.
	takeMu   sync.Mutex
	consumer bool // this handle holds the consumer word
	closed   bool
	// privateSems: the semaphore set is this handle's own (OpenRemoved),
	// removed by Close.
	privateSems bool
	// Each side watches for the segment's removal on its own, under its
	// own mutex.
	putWatch, takeWatch removalWatch
	// orphanEmpty is when the consumer first found a removed ring empty.
	orphanEmpty time.Time

	// Stat's cached look at the consumer's liveness.
	aliveMu   sync.Mutex
	aliveWord uint64
	alive     bool
	aliveAt   time.Time
}

// removalWatch rations the IPC_STAT calls that detect a removed segment.
type removalWatch struct {
	next time.Time
	seen bool
}

// Open attaches to the queue under opts.Key, creating it when it does not
// exist and opts.Create is set.
func Open(opts Options) (*Queue, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Perm == 0 {
		opts.Perm = 0o600
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Spin == 0 {
		opts.Spin = 50 * time.Microsecond
	}
	size := SegmentSize(opts.Capacity, opts.RecordSize)
	created := false
	var id int
	var err error
	if opts.Key != ipc.Private {
		id, err = ipc.OpenShm(opts.Key, 0)
	}
	if opts.Key == ipc.Private || errors.Is(err, ipc.ErrNotExist) && opts.Create {
		id, err = ipc.CreateShm(opts.Key, size, opts.Perm)
		created = err == nil
		if errors.Is(err, ipc.ErrExist) { // another process created it first
			id, err = ipc.OpenShm(opts.Key, 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", opts.Name, err)
	}
	seg, err := ipc.AttachShm(id, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", opts.Name, err)
	}
	q := &Queue{
		name: opts.Name, key: opts.Key, seg: seg, mem: seg.Mem,
		capacity: uint64(opts.Capacity), recordSize: opts.RecordSize,
		slotSize: SlotSize(opts.RecordSize), spin: opts.Spin, log: opts.Log,
	}
	if len(q.mem) < headerSize {
		_ = seg.Detach()
		return nil, fmt.Errorf("queue %s: segment %d is %d bytes, smaller than a header: %w", opts.Name, id, len(q.mem), ErrGeometry)
	}
	q.h = mapHeader(q.mem)
	if created {
		err = q.initialize(opts)
	} else {
		err = q.attachExisting(opts)
	}
	if err != nil {
		_ = seg.Detach()
		if created {
			_ = ipc.RemoveShm(id)
		}
		return nil, err
	}
	return q, nil
}

// initialize writes a new header and the semaphore set, magic last: an
// opener that sees the magic sees a complete queue.
func (q *Queue) initialize(opts Options) error {
	sems, err := ipc.CreateSem(opts.Key, semCount, opts.Perm)
	if errors.Is(err, ipc.ErrExist) && opts.Key != ipc.Private {
		// A set left behind by a segment removed on its own (ipcrm -m):
		// take it over; its values are reset below.
		sems, err = ipc.OpenSem(opts.Key, semCount)
	}
	if err != nil {
		return fmt.Errorf("queue %s: %w", q.name, err)
	}
	q.sems = sems
	for num, v := range [semCount]int{semMutex: 1} {
		if err := sems.SetVal(num, v); err != nil {
			return fmt.Errorf("queue %s: %w", q.name, err)
		}
	}
	q.h.version.Store(formatVersion)
	q.h.recordSize.Store(uint32(q.recordSize))
	q.h.slotSize.Store(uint32(q.slotSize))
	q.h.capacity.Store(uint32(q.capacity))
	q.h.created.Store(time.Now().UnixNano())
	copy(q.mem[offName:offName+nameLen], q.name)
	q.h.magic.Store(magic)
	return nil
}

// attachExisting waits for a creator racing with us to publish the header,
// then checks that the segment is the queue the options describe.
func (q *Queue) attachExisting(opts Options) error {
	deadline := time.Now().Add(2 * time.Second)
	for q.h.magic.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := q.checkGeometry(opts); err != nil {
		return err
	}
	sems, err := ipc.OpenSem(opts.Key, semCount)
	if err != nil {
		return fmt.Errorf("queue %s: semaphores: %w", q.name, err)
	}
	q.sems = sems
	return nil
}

func (q *Queue) checkGeometry(opts Options) error {
	var diffs []string
	if m := q.h.magic.Load(); m != magic {
		diffs = append(diffs, fmt.Sprintf("magic %#x is not an M1 queue's", m))
	} else {
		if v := q.h.version.Load(); v != formatVersion {
			diffs = append(diffs, fmt.Sprintf("format version %d, this build reads %d", v, formatVersion))
		}
		if rs := int(q.h.recordSize.Load()); rs != opts.RecordSize {
			diffs = append(diffs, fmt.Sprintf("record size %d, configured %d", rs, opts.RecordSize))
		}
		if c := int(q.h.capacity.Load()); c != opts.Capacity {
			diffs = append(diffs, fmt.Sprintf("capacity %d, configured %d", c, opts.Capacity))
		}
		if ss := int(q.h.slotSize.Load()); ss != q.slotSize {
			diffs = append(diffs, fmt.Sprintf("slot size %d, expected %d", ss, q.slotSize))
		}
	}
	if len(diffs) == 0 && len(q.mem) < SegmentSize(opts.Capacity, opts.RecordSize) {
		diffs = append(diffs, fmt.Sprintf("segment is %d bytes, geometry needs %d", len(q.mem), SegmentSize(opts.Capacity, opts.RecordSize)))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("queue %s (key %s, shmid %d): %v; remove it (ipcq rm %s) and create it again: %w",
			q.name, q.key, q.seg.ID, diffs, q.name, ErrGeometry)
	}
	return nil
}

// Name is the queue's name.
func (q *Queue) Name() string { return q.name }

// RecordSize is the largest record the queue takes.
func (q *Queue) RecordSize() int { return q.recordSize }

// Capacity is the number of slots.
func (q *Queue) Capacity() int { return int(q.capacity) }

// IDs returns the segment's and the semaphore set's ids, as ipcs shows them.
func (q *Queue) IDs() (shmid, semid int) { return q.seg.ID, q.sems.ID }

// Key returns the queue's key.
func (q *Queue) Key() ipc.Key { return q.key }

// Close gives up the consumer role if this handle holds it, leaving taken but
// uncommitted records to be delivered again, and detaches. Closing twice is
// harmless.
func (q *Queue) Close() error {
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	q.putMu.Lock()
	defer q.putMu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	if q.consumer {
		q.releaseConsumer()
	}
	if q.privateSems {
		_ = q.sems.Remove()
	}
	if err := q.seg.Detach(); err != nil {
		return fmt.Errorf("queue %s: %w", q.name, err)
	}
	return nil
}

// Remove removes the queue's segment and semaphore set. Processes attached
// keep the orphaned segment until they detach (see the package doc).
func Remove(key ipc.Key) error {
	var errs []error
	if id, err := ipc.OpenShm(key, 0); err == nil {
		errs = append(errs, ipc.RemoveShm(id))
	} else if !errors.Is(err, ipc.ErrNotExist) {
		errs = append(errs, err)
	}
	if s, err := ipc.OpenSem(key, 0); err == nil {
		errs = append(errs, s.Remove())
	} else if !errors.Is(err, ipc.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Exists tells whether a segment exists under key.
func Exists(key ipc.Key) (bool, error) {
	_, err := ipc.OpenShm(key, 0)
	if errors.Is(err, ipc.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// wrapIPC turns a removed semaphore set into queue.ErrRemoved, keeping the
// detail.
func (q *Queue) wrapIPC(err error) error {
	if errors.Is(err, ipc.ErrRemoved) {
		return fmt.Errorf("queue %s: %w: %w", q.name, queue.ErrRemoved, err)
	}
	return fmt.Errorf("queue %s: %w", q.name, err)
}
