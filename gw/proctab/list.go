package proctab

import (
	"sync/atomic"
	"time"

	"github.com/m1gw/m1/ipc"
)

type uint64Word = atomic.Uint64

// Entry is one slot as a reader sees it.
type Entry struct {
	Slot       int
	Name       string
	Role       string
	PID        int
	State      State
	Started    time.Time
	Heartbeat  time.Time
	In         uint64
	Out        uint64
	Errors     uint64
	HasLink    bool // the process has a carrier link (a sender)
	LinkUp     bool
	WindowUsed int
	WindowSize int
	LastError  string
	ErrorTime  time.Time
	// Alive is true when the slot's pid names the process that claimed it
	// and its heartbeat is younger than the dead-after time.
	Alive bool
}

// Up tells whether the process can do its work: alive and running, and for
// a sender its link up.
func (e Entry) Up() bool {
	return e.Alive && e.State == Running && (!e.HasLink || e.LinkUp)
}

// List returns every slot that has ever held a process (free slots left
// out). Dead processes are listed with Alive false.
func (t *Table) List() []Entry {
	var out []Entry
	for i := 0; i < t.slots; i++ {
		if e, ok := t.entry(i); ok {
			out = append(out, e)
		}
	}
	return out
}

// Lookup returns the entry of a process by name.
func (t *Table) Lookup(name string) (Entry, bool) {
	var found Entry
	ok := false
	for i := 0; i < t.slots; i++ {
		off := t.slotOff(i)
		if t.str(off+sName, nameLen) != name {
			continue
		}
		e, present := t.entry(i)
		// A live holder beats a stale slot of the same name.
		if present && (!ok || e.Alive && !found.Alive) {
			found, ok = e, true
		}
	}
	return found, ok
}

func (t *Table) entry(i int) (Entry, bool) {
	off := t.slotOff(i)
	st := State(ipc.Uint32At(t.mem, off+sState).Load())
	if st == Free {
		return Entry{}, false
	}
	w := ipc.Uint64At(t.mem, off+sOwner).Load()
	e := Entry{
		Slot:       i,
		Name:       t.str(off+sName, nameLen),
		Role:       t.str(off+sRole, roleLen),
		PID:        int(w >> 32),
		State:      st,
		Started:    time.Unix(0, ipc.Int64At(t.mem, off+sStarted).Load()),
		Heartbeat:  time.Unix(0, ipc.Int64At(t.mem, off+sHeartbeat).Load()),
		In:         ipc.Uint64At(t.mem, off+sIn).Load(),
		Out:        ipc.Uint64At(t.mem, off+sOut).Load(),
		Errors:     ipc.Uint64At(t.mem, off+sErrors).Load(),
		WindowUsed: int(ipc.Uint32At(t.mem, off+sWinUsed).Load()),
		WindowSize: int(ipc.Uint32At(t.mem, off+sWinSize).Load()),
	}
	switch ipc.Uint32At(t.mem, off+sLink).Load() {
	case linkUp:
		e.HasLink, e.LinkUp = true, true
	case linkDown:
		e.HasLink = true
	}
	seq := ipc.Uint32At(t.mem, off+sErrSeq)
	for tries := 0; tries < 100; tries++ {
		s1 := seq.Load()
		if s1%2 == 1 {
			continue
		}
		msg := t.str(off+sLastError, lastErrLen)
		et := ipc.Int64At(t.mem, off+sErrTime).Load()
		if seq.Load() == s1 {
			e.LastError = msg
			if et != 0 {
				e.ErrorTime = time.Unix(0, et)
			}
			break
		}
	}
	e.Alive = w != 0 && ownerAlive(w) && time.Since(e.Heartbeat) < t.deadAfter
	if w == 0 && st != Stopped {
		e.Alive = false
	}
	return e, true
}
