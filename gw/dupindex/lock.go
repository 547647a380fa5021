package dupindex

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// A stripe lock word is 0 when free, or the holder's identity: pid in the
// high 32 bits, the low 32 bits of the process's start time (clock ticks
// since boot, /proc/<pid>/stat field 22) in the low 32 bits. The start time
// tells a holder that died from a new process that was given its pid.
//
// Lock words live in the shared mapping, so one process's goroutines and
// other processes contend on the same word. A holder that dies leaves its
// word set; a waiter that has waited lockCheckAfter looks the holder up in
// /proc and, when the holder is gone, takes the lock over with a CAS. The
// critical sections are written so that a half-done one is harmless (see
// the slot protocol in the package doc), so taking over is safe.

// lockCheckAfter is how long a waiter waits before it checks whether the
// holder is alive. Critical sections take about a microsecond, so a lock
// held this long belongs to a preempted, stopped or dead holder.
const lockCheckAfter = 2 * time.Millisecond

// identity is this process's lock word.
var identity = func() uint64 {
	pid := os.Getpid()
	start, _, err := procStart(pid)
	if err != nil {
		start = 0 // no /proc: liveness falls back to kill(pid, 0)
	}
	return uint64(uint32(pid))<<32 | uint64(uint32(start))
}()

// procStart reads the start time and state of pid from /proc.
func procStart(pid int) (start uint64, state byte, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// "pid (comm) S ppid ...": comm may hold spaces and parentheses, so
	// fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("dupindex: unexpected /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("dupindex: unexpected /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("dupindex: /proc/%d/stat start time: %w", pid, err)
	}
	return start, f[0][0], nil
}

// holderDead reports whether the process named by lock word w is gone. It
// answers false when unsure: waiting longer is safe, taking a lock from a
// live holder is not.
func holderDead(w uint64) bool {
	if w == identity {
		return false // this process: another goroutine holds it
	}
	pid := int(w >> 32)
	if pid <= 0 {
		return true // not a word any process writes: garbage
	}
	start, state, err := procStart(pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true
	case err == nil:
		// Z zombie and X dead: killed, not yet reaped.
		return state == 'Z' || state == 'X' || uint32(start) != uint32(w)
	}
	// No usable /proc: ESRCH means no such process.
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// lockWord returns stripe lock i.
func (x *Index) lockWord(i uint32) *atomic.Uint64 {
	return x.word(x.locksOff + int64(i)*lockSize)
}

// lock takes stripe lock i, taking it over from a dead holder.
func (x *Index) lock(i uint32) {
	w := x.lockWord(i)
	if w.CompareAndSwap(0, identity) {
		return
	}
	var (
		start   time.Time
		checked time.Time
		sleep   = time.Microsecond
	)
	for spin := 0; ; spin++ {
		cur := w.Load()
		if cur == 0 {
			if w.CompareAndSwap(0, identity) {
				return
			}
			continue
		}
		if spin < 50 {
			runtime.Gosched()
			continue
		}
		now := time.Now()
		if start.IsZero() {
			start, checked = now, now
		}
		if now.Sub(checked) >= lockCheckAfter {
			checked = now
			if holderDead(cur) && w.CompareAndSwap(cur, identity) {
				x.bump(ctrLocksStolen)
				x.log.Warn("took over a duplicate-index stripe lock from a dead process",
					logLock(i, cur, now.Sub(start))...)
				return
			}
		}
		time.Sleep(sleep)
		if sleep < time.Millisecond {
			sleep *= 2
		}
	}
}

// unlock releases stripe lock i.
func (x *Index) unlock(i uint32) {
	// CAS, not Store: if the word is not ours (it never should be), do not
	// release somebody else's lock.
	if !x.lockWord(i).CompareAndSwap(identity, 0) {
		x.log.Error("duplicate-index stripe lock was not held by this process at unlock", logLock(i, x.lockWord(i).Load(), 0)...)
	}
}
