package dupindex

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edsrzf/mmap-go"
	"go.uber.org/zap"
)

// Defaults for Options fields left zero.
const (
	// DefaultCapacity is the default number of slots: 4 Mi entries,
	// 160 MiB of file.
	DefaultCapacity = 4 << 20
	// DefaultProbe is the default probe window.
	DefaultProbe = 64
	// DefaultLocks is the default number of stripe locks.
	DefaultLocks = 1 << 16
	// DefaultWindow is PROTOCOL.md's duplicate window.
	DefaultWindow = 24 * time.Hour
)

// ErrIndexFull is returned (wrapped) by CheckAndInsert when every slot of
// the key's probe window holds a live entry. Nothing was recorded: the
// caller must not accept the message as checked (the listener answers 2001).
var ErrIndexFull = errors.New("dupindex: index full")

// ErrGeometry is returned (wrapped) by Open when the file was created with a
// geometry other than the options ask for; the message names both.
var ErrGeometry = errors.New("dupindex: geometry mismatch")

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("dupindex: index closed")

// ErrBadTime is returned (wrapped) for a time before 1970 or after 2106,
// which the format's 32-bit seconds cannot hold.
var ErrBadTime = errors.New("dupindex: time out of range")

// Options configure Open.
type Options struct {
	// Path of the index file, e.g. var/dupindex.m1. Created when missing.
	Path string
	// Capacity in entries (slots); DefaultCapacity when 0. Keep it at
	// least 1.3 times the most keys recorded within one window.
	Capacity uint64
	// Probe is the probe window in slots; DefaultProbe when 0.
	Probe uint32
	// Locks is the number of stripe locks, a power of two; DefaultLocks when 0.
	Locks uint32
	// Window is the duplicate window in whole seconds; DefaultWindow when 0.
	Window time.Duration
	// FlushInterval, when > 0, msyncs the mapping that often (see the
	// package doc on durability). 0: only Flush and Close msync.
	FlushInterval time.Duration
	// Logger receives the rare events (file created, lock taken over from a
	// dead process, flush failures). zap.NewNop() when nil.
	Logger *zap.Logger
}

func (o Options) geometry() Geometry {
	g := Geometry{Slots: o.Capacity, Probe: o.Probe, Locks: o.Locks, Window: o.Window}
	if g.Slots == 0 {
		g.Slots = DefaultCapacity
	}
	if g.Probe == 0 {
		g.Probe = DefaultProbe
		if uint64(g.Probe) > g.Slots {
			g.Probe = uint32(g.Slots)
		}
	}
	if g.Locks == 0 {
		g.Locks = DefaultLocks
	}
	if g.Window == 0 {
		g.Window = DefaultWindow
	}
	return g
}

// Index is an open duplicate index. Its methods may be called from any
// number of goroutines; other processes may have the same file open.
type Index struct {
	path      string
	hdr       Header
	locksOff  int64
	statesOff int64
	keysOff   int64
	window    int64 // seconds
	log       *zap.Logger

	mu      sync.RWMutex // read-held by every operation; Close takes it to unmap
	closed  bool
	closing bool // Close has begun: a second Close returns ErrClosed
	f       *os.File
	m       mmap.MMap

	stop chan struct{}
	wg   sync.WaitGroup
}

// Open opens the index file at opts.Path, creating it with the options'
// geometry when it does not exist. Several processes may call Open on one
// path at once: exactly one creates the file, the others open it.
func Open(opts Options) (*Index, error) {
	g := opts.geometry()
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("dupindex: options: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	f, err := os.OpenFile(opts.Path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err = create(opts.Path, g, log); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(opts.Path, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("dupindex: open: %w", err)
	}
	x, err := mapFile(f, opts.Path, g, log)
	if err != nil {
		f.Close()
		return nil, err
	}
	if opts.FlushInterval > 0 {
		x.wg.Add(1)
		go x.flushLoop(opts.FlushInterval)
	}
	return x, nil
}

func mapFile(f *os.File, path string, g Geometry, log *zap.Logger) (*Index, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dupindex: %w", err)
	}
	buf := make([]byte, headerSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("dupindex: read header of %s: %w", path, err)
	}
	h, err := decodeHeader(buf[:n], fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if h.Geometry != g {
		return nil, fmt.Errorf("%w: %s was created with %s, the options ask for %s (keep the old settings, or move the file aside and lose the recorded keys)",
			ErrGeometry, path, h.Geometry, g)
	}
	if fi.Size() > math.MaxInt {
		return nil, fmt.Errorf("dupindex: %s: %d bytes do not fit this address space", path, fi.Size())
	}
	m, err := mmap.Map(f, mmap.RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("dupindex: mmap %s: %w", path, err)
	}
	if int64(len(m)) != fi.Size() {
		m.Unmap()
		return nil, fmt.Errorf("dupindex: %s: mapped %d bytes, file is %d", path, len(m), fi.Size())
	}
	return &Index{
		path:      path,
		hdr:       h,
		locksOff:  h.locksOffset(),
		statesOff: h.statesOffset(),
		keysOff:   h.keysOffset(),
		window:    int64(h.Window / time.Second),
		log:       log.With(zap.String("dupindex", path)),
		f:         f,
		m:         m,
		stop:      make(chan struct{}),
	}, nil
}

// create makes the file at path: written under a temporary name, then linked
// into place so that a concurrent Open never sees a half-made file, and so
// that of two processes creating it at once one wins and both use its file.
func create(path string, g Geometry, log *zap.Logger) error {
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return fmt.Errorf("dupindex: seed: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".new*")
	if err != nil {
		return fmt.Errorf("dupindex: create: %w", err)
	}
	defer os.Remove(tmp.Name())
	buf := make([]byte, headerSize)
	encodeHeader(buf, Header{Geometry: g, Created: time.Now(), Seed: binary.LittleEndian.Uint64(seed[:])})
	err = allocate(tmp, g.fileSize())
	if err == nil {
		_, err = tmp.WriteAt(buf, 0)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dupindex: create %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another process created it first: use theirs
		}
		return fmt.Errorf("dupindex: create %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	log.Info("created duplicate index", zap.String("path", path), zap.Stringer("geometry", g),
		zap.Int64("bytes", g.fileSize()))
	return nil
}

// allocate gives f size bytes of disk now. A sparse file would take its
// blocks when a process first stores into a page of the mapping, and on a
// full disk that store would kill the process with SIGBUS.
func allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if !errors.Is(err, syscall.EOPNOTSUPP) {
		return err
	}
	// A file system without fallocate: write the zeros.
	zero := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zero)) {
		n := min(int64(len(zero)), size-off)
		if _, err := f.WriteAt(zero[:n], off); err != nil {
			return err
		}
	}
	return nil
}

// Header returns the file's header.
func (x *Index) Header() Header { return x.hdr }

// Path returns the file's path.
func (x *Index) Path() string { return x.path }

// Flush writes the mapping's dirty pages to disk (msync) and waits for them.
func (x *Index) Flush() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return ErrClosed
	}
	if err := x.m.Flush(); err != nil {
		return fmt.Errorf("dupindex: msync %s: %w", x.path, err)
	}
	return nil
}

func (x *Index) flushLoop(every time.Duration) {
	defer x.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-x.stop:
			return
		case <-t.C:
			if err := x.Flush(); err != nil && !errors.Is(err, ErrClosed) {
				x.log.Error("periodic flush of the duplicate index failed", zap.Error(err))
			}
		}
	}
}

// Close flushes and unmaps the index. Calls after Close return ErrClosed.
func (x *Index) Close() error {
	x.mu.Lock()
	if x.closed || x.closing {
		x.mu.Unlock()
		return ErrClosed
	}
	x.closing = true
	close(x.stop)
	x.mu.Unlock()
	x.wg.Wait() // the flush loop takes mu: wait for it outside
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	err := x.m.Flush()
	if uerr := x.m.Unmap(); err == nil {
		err = uerr
	}
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dupindex: close %s: %w", x.path, err)
	}
	return nil
}

// Stats are the file's counters, shared by every process using it, since
// the file was created.
type Stats struct {
	Inserted, Duplicates, Full, Removed uint64
	// ReusedExpired counts inserts that overwrote an entry older than the
	// window; ReclaimedWriting inserts that took a slot a killed writer
	// left half-written; LocksStolen stripe locks taken over from a dead
	// process.
	ReusedExpired, ReclaimedWriting, LocksStolen uint64
}

// Stats returns the counters.
func (x *Index) Stats() (Stats, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return Stats{}, ErrClosed
	}
	c := func(i int) uint64 { return x.counter(i).Load() }
	return Stats{
		Inserted: c(ctrInserted), Duplicates: c(ctrDuplicates), Full: c(ctrFull), Removed: c(ctrRemoved),
		ReusedExpired: c(ctrReusedExpired), ReclaimedWriting: c(ctrReclaimedWriting), LocksStolen: c(ctrLocksStolen),
	}, nil
}

// claimNonce makes each claim's state word distinct, so a slot claimed,
// released and claimed again is never mistaken for the first claim.
var claimNonce atomic.Uint32

func init() {
	var b [4]byte
	rand.Read(b[:])
	claimNonce.Store(binary.LittleEndian.Uint32(b[:]))
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		// The state and key words are accessed as native words and the
		// format is little-endian: a big-endian port needs byte swaps.
		panic("dupindex: big-endian hosts are not supported")
	}
}

func seconds(now time.Time) (uint32, error) {
	s := now.Unix()
	if s < 0 || s > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %s", ErrBadTime, now)
	}
	return uint32(s), nil
}
