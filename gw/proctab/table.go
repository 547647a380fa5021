package proctab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
)

// Layout: part of the format (see the package doc).
const (
	magic         uint64 = 0x0100_4241_5450_314d // "M1PTAB\x00\x01"
	formatVersion uint32 = 1
	headerSize           = 64
	slotSize             = 256

	offMagic    = 0
	offVersion  = 8
	offSlots    = 12
	offSlotSize = 16
	offCreated  = 24

	sOwner     = 0
	sState     = 8
	sLink      = 12
	sStarted   = 16
	sHeartbeat = 24
	sIn        = 32
	sOut       = 40
	sErrors    = 48
	sWinUsed   = 56
	sWinSize   = 60
	sErrSeq    = 64
	sErrTime   = 72
	sName      = 80
	nameLen    = 32
	sRole      = 112
	roleLen    = 16
	sLastError = 128
	lastErrLen = 128
)

// State is a process's state in its slot.
type State uint32

// States, part of the format.
const (
	Free State = iota
	Starting
	Running
	Stopping
	Stopped
)

func (s State) String() string {
	switch s {
	case Free:
		return "free"
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Stopping:
		return "stopping"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// Link states of a sender's slot, part of the format.
const (
	linkNone = 0
	linkDown = 1
	linkUp   = 2
)

// ErrNameTaken means a live process already holds a slot under that name.
var ErrNameTaken = errors.New("process name held by a live process")

// ErrTableFull means every slot is held by a live process.
var ErrTableFull = errors.New("process table full")

// ErrGeometry means the segment under the key is not a process table of the
// configured size; remove it (ipcrm, when no M1 process runs) to recreate it.
var ErrGeometry = errors.New("process table segment does not match its configuration")

// Options describe the table.
type Options struct {
	Key       ipc.Key
	Slots     int
	Perm      os.FileMode // 0600 when zero
	Create    bool        // create when missing
	DeadAfter time.Duration
	Log       *zap.Logger
}

// Table is this process's view of the process table.
type Table struct {
	seg       *ipc.Segment
	mem       []byte
	slots     int
	deadAfter time.Duration
	log       *zap.Logger
}

// Open attaches to the table, creating it when asked and missing.
func Open(o Options) (*Table, error) {
	if o.Slots < 1 || o.Slots > 4096 {
		return nil, fmt.Errorf("process table: %d slots out of 1..4096", o.Slots)
	}
	if o.Perm == 0 {
		o.Perm = 0o600
	}
	if o.DeadAfter <= 0 {
		o.DeadAfter = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	size := headerSize + o.Slots*slotSize
	created := false
	var id int
	var err error
	if o.Key != ipc.Private {
		id, err = ipc.OpenShm(o.Key, 0)
	}
	if o.Key == ipc.Private || errors.Is(err, ipc.ErrNotExist) && o.Create {
		id, err = ipc.CreateShm(o.Key, size, o.Perm)
		created = err == nil
		if errors.Is(err, ipc.ErrExist) {
			id, err = ipc.OpenShm(o.Key, 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("process table: %w", err)
	}
	seg, err := ipc.AttachShm(id, o.Key)
	if err != nil {
		return nil, fmt.Errorf("process table: %w", err)
	}
	t := &Table{seg: seg, mem: seg.Mem, slots: o.Slots, deadAfter: o.DeadAfter, log: o.Log}
	if created {
		ipc.Uint32At(t.mem, offVersion).Store(formatVersion)
		ipc.Uint32At(t.mem, offSlots).Store(uint32(o.Slots))
		ipc.Uint32At(t.mem, offSlotSize).Store(slotSize)
		ipc.Int64At(t.mem, offCreated).Store(time.Now().UnixNano())
		ipc.Uint64At(t.mem, offMagic).Store(magic)
		return t, nil
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(t.mem) >= headerSize && ipc.Uint64At(t.mem, offMagic).Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := t.check(o); err != nil {
		_ = seg.Detach()
		return nil, err
	}
	return t, nil
}

func (t *Table) check(o Options) error {
	if len(t.mem) < headerSize {
		return fmt.Errorf("process table key %s: segment of %d bytes: %w", o.Key, len(t.mem), ErrGeometry)
	}
	m := ipc.Uint64At(t.mem, offMagic).Load()
	v := ipc.Uint32At(t.mem, offVersion).Load()
	n := int(ipc.Uint32At(t.mem, offSlots).Load())
	ss := ipc.Uint32At(t.mem, offSlotSize).Load()
	switch {
	case m != magic:
		return fmt.Errorf("process table key %s: magic %#x is not a process table's: %w", o.Key, m, ErrGeometry)
	case v != formatVersion || ss != slotSize:
		return fmt.Errorf("process table key %s: format version %d slot size %d, this build reads %d/%d: %w", o.Key, v, ss, formatVersion, slotSize, ErrGeometry)
	case n != o.Slots:
		return fmt.Errorf("process table key %s: %d slots, configured %d (takes effect once it is removed and recreated): %w", o.Key, n, o.Slots, ErrGeometry)
	case len(t.mem) < headerSize+n*slotSize:
		return fmt.Errorf("process table key %s: segment of %d bytes for %d slots: %w", o.Key, len(t.mem), n, ErrGeometry)
	}
	return nil
}

// ID returns the segment's shmid.
func (t *Table) ID() int { return t.seg.ID }

// Close detaches. Slots registered through this table stay as they are;
// Release them first.
func (t *Table) Close() error { return t.seg.Detach() }

// Remove removes the table's segment (for tests and ipcq).
func Remove(key ipc.Key) error {
	id, err := ipc.OpenShm(key, 0)
	if errors.Is(err, ipc.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return ipc.RemoveShm(id)
}

func (t *Table) slotOff(i int) int { return headerSize + i*slotSize }

func (t *Table) str(off, n int) string {
	return string(bytes.TrimRight(t.mem[off:off+n], "\x00"))
}

func (t *Table) putStr(off, n int, s string) {
	b := t.mem[off : off+n]
	clear(b)
	copy(b[:n-1], s)
}
