package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ProcStart returns an opaque start time of process pid (field 22 of
// /proc/PID/stat, in clock ticks since boot). A pid and its start time
// together name one process for ever: pids are reused, the pair is not.
// It returns 0 and an error when the process does not exist.
func ProcStart(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// procStat reads a process's state letter (field 3) and start time.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return fields[0][0], start, err
}

// Alive tells whether process pid exists and has not exited. A zombie (a
// process that exited and was not yet reaped, as happens to daemons whose
// parent is an init that reaps late) is not alive. When start is not 0 it
// must also be the same process (same start time), not a later one given
// the same pid.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := unix.Kill(pid, 0); err != nil && !errors.Is(err, unix.EPERM) {
		return false
	}
	state, st, err := procStat(pid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return start == 0 || st == start
}
