package proctab

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/ipc"
)

// Slot is the slot this process registered; its methods are safe for
// concurrent use and make no system calls.
type Slot struct {
	t   *Table
	off int
	me  uint64
}

func ownerWord(pid int, start uint64) uint64 { return uint64(uint32(pid))<<32 | uint64(uint32(start)) }

func ownerAlive(w uint64) bool {
	pid := int(w >> 32)
	if !ipc.Alive(pid, 0) {
		return false
	}
	st, err := ipc.ProcStart(pid)
	return err == nil && uint32(st) == uint32(w)
}

// Register claims a slot for this process under name, reusing the slot of a
// dead process of that name first, and marks it Starting.
func (t *Table) Register(name, role string) (*Slot, error) {
	if name == "" || len(name) >= nameLen || len(role) >= roleLen {
		return nil, fmt.Errorf("process table: name %q or role %q too long (%d/%d bytes)", name, role, nameLen-1, roleLen-1)
	}
	pid := os.Getpid()
	start, err := ipc.ProcStart(pid)
	if err != nil {
		return nil, fmt.Errorf("process table: own start time: %w", err)
	}
	me := ownerWord(pid, start)
	claim := func(i int) bool {
		off := t.slotOff(i)
		w := ipc.Uint64At(t.mem, off+sOwner)
		cur := w.Load()
		if cur != 0 && ownerAlive(cur) {
			return false
		}
		if !w.CompareAndSwap(cur, me) {
			return false
		}
		if cur != 0 {
			t.log.Info("process table slot of a dead process reused", zap.Int("slot", i), zap.String("name", t.str(off+sName, nameLen)), zap.Int("dead_pid", int(cur>>32)))
		}
		return true
	}
	// A live holder of the name refuses; a dead one's slot is taken first.
	same := -1
	for i := 0; i < t.slots; i++ {
		off := t.slotOff(i)
		if t.str(off+sName, nameLen) != name {
			continue
		}
		if w := ipc.Uint64At(t.mem, off+sOwner).Load(); w != 0 && ownerAlive(w) {
			return nil, fmt.Errorf("process table: %s is pid %d: %w", name, int(w>>32), ErrNameTaken)
		}
		same = i
	}
	slot := -1
	if same >= 0 && claim(same) {
		slot = same
	}
	for i := 0; slot < 0 && i < t.slots; i++ {
		if claim(i) {
			slot = i
		}
	}
	if slot < 0 {
		return nil, fmt.Errorf("process table: %d slots: %w", t.slots, ErrTableFull)
	}
	s := &Slot{t: t, off: t.slotOff(slot), me: me}
	now := time.Now().UnixNano()
	for _, o := range []int{sIn, sOut, sErrors} {
		ipc.Uint64At(t.mem, s.off+o).Store(0)
	}
	ipc.Uint32At(t.mem, s.off+sWinUsed).Store(0)
	ipc.Uint32At(t.mem, s.off+sWinSize).Store(0)
	ipc.Uint32At(t.mem, s.off+sLink).Store(linkNone)
	ipc.Int64At(t.mem, s.off+sStarted).Store(now)
	ipc.Int64At(t.mem, s.off+sHeartbeat).Store(now)
	t.putStr(s.off+sName, nameLen, name)
	t.putStr(s.off+sRole, roleLen, role)
	s.SetLastError("")
	s.SetState(Starting)
	return s, nil
}

func (s *Slot) u64(o int) *uint64Word { return (*uint64Word)(ipc.Uint64At(s.t.mem, s.off+o)) }

// SetState sets the process's state and stamps its heartbeat.
func (s *Slot) SetState(st State) {
	ipc.Uint32At(s.t.mem, s.off+sState).Store(uint32(st))
	s.Heartbeat()
}

// Heartbeat stamps the slot: the process is alive and not stuck.
func (s *Slot) Heartbeat() { ipc.Int64At(s.t.mem, s.off+sHeartbeat).Store(time.Now().UnixNano()) }

// HeartbeatLoop stamps the slot every interval until stop is closed. The
// caller runs it in a goroutine it waits for.
func (s *Slot) HeartbeatLoop(stop <-chan struct{}, every time.Duration) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
			s.Heartbeat()
		}
	}
}

// AddIn counts records taken in.
func (s *Slot) AddIn(n int) { s.u64(sIn).Add(uint64(n)) }

// AddOut counts records passed on.
func (s *Slot) AddOut(n int) { s.u64(sOut).Add(uint64(n)) }

// AddErr counts errors.
func (s *Slot) AddErr(n int) { s.u64(sErrors).Add(uint64(n)) }

// SetLink publishes a sender's link state.
func (s *Slot) SetLink(up bool) {
	v := uint32(linkDown)
	if up {
		v = linkUp
	}
	ipc.Uint32At(s.t.mem, s.off+sLink).Store(v)
}

// SetWindow publishes a sender's window use.
func (s *Slot) SetWindow(used, size int) {
	ipc.Uint32At(s.t.mem, s.off+sWinUsed).Store(uint32(used))
	ipc.Uint32At(s.t.mem, s.off+sWinSize).Store(uint32(size))
}

// SetLastError publishes the last error's text (cut at 127 bytes) and time.
// Writers of one slot are one process; a reader sees either text whole
// (errSeq is a sequence lock).
func (s *Slot) SetLastError(msg string) {
	seq := ipc.Uint32At(s.t.mem, s.off+sErrSeq)
	seq.Add(1)
	s.t.putStr(s.off+sLastError, lastErrLen, msg)
	t := int64(0)
	if msg != "" {
		t = time.Now().UnixNano()
	}
	ipc.Int64At(s.t.mem, s.off+sErrTime).Store(t)
	seq.Add(1)
}

// Release marks the slot stopped and gives it up. The name stays visible as
// stopped until another process takes the slot.
func (s *Slot) Release() {
	s.SetState(Stopped)
	ipc.Uint64At(s.t.mem, s.off+sOwner).CompareAndSwap(s.me, 0)
}
