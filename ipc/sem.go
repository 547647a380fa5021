package ipc

import (
	"os"
	"time"
)

// Sembuf is one semaphore operation (struct sembuf): add Op to semaphore Num;
// Op 0 waits for zero. Flags take SemUndo and IPCNoWait.
type Sembuf struct {
	Num   uint16
	Op    int16
	Flags int16
}

// Semaphore operation flags, as in <sys/sem.h>.
const (
	// SemUndo makes the kernel reverse the operation when the process
	// exits, however it exits: a mutex taken with it is released when its
	// holder is killed with SIGKILL.
	SemUndo = 0x1000
	// IPCNoWait makes an operation that would block fail with ErrTimeout.
	IPCNoWait = 0x800
)

// Limits of the Linux semaphore implementation that callers must respect.
const (
	// SemValueMax is SEMVMX: a semaphore's value never exceeds it.
	SemValueMax = 32767
	// SemOpsMax is SEMOPM: one semop takes at most this many operations.
	SemOpsMax = 500
)

// semctl commands, as in <linux/sem.h>.
const (
	cmdGetPID  = 11
	cmdGetVal  = 12
	cmdGetNcnt = 14
	cmdSetVal  = 16
	cmdRmid    = 0
	cmdStat    = 2
)

// SemSet is a SysV semaphore set.
type SemSet struct {
	ID  int
	Key Key
	N   int
}

// SemInfo is what semctl(IPC_STAT) tells of a set.
type SemInfo struct {
	ID    int
	Key   Key
	UID   int
	Mode  os.FileMode
	NSems int
	Otime time.Time // last semop
	Ctime time.Time
}

// CreateSem creates a set of n semaphores under key, all zero. It fails with
// ErrExist when the key is taken.
func CreateSem(key Key, n int, perm os.FileMode) (*SemSet, error) {
	id, err := semget(key, n, ipcCreat|ipcExcl|int(perm.Perm()))
	if err != nil {
		return nil, wrapErrno("semget(create)", key, -1, err, true)
	}
	return &SemSet{ID: id, Key: key, N: n}, nil
}

// OpenSem finds the existing set under key, which must have at least n
// semaphores (ErrInvalid otherwise).
func OpenSem(key Key, n int) (*SemSet, error) {
	id, err := semget(key, n, 0)
	if err != nil {
		return nil, wrapErrno("semget", key, -1, err, true)
	}
	return &SemSet{ID: id, Key: key, N: n}, nil
}

// Op performs ops atomically, waiting at most timeout (negative: for ever;
// zero: not at all, as IPC_NOWAIT). A wait that runs out is ErrTimeout.
// EINTR is retried with the remaining time.
func (s *SemSet) Op(timeout time.Duration, ops ...Sembuf) error {
	if err := semop(s.ID, ops, timeout); err != nil {
		return wrapErrno("semop", s.Key, s.ID, err, false)
	}
	return nil
}

// SetVal sets semaphore num to val.
func (s *SemSet) SetVal(num, val int) error {
	if _, err := semctl(s.ID, num, cmdSetVal, uintptr(val)); err != nil {
		return wrapErrno("semctl(SETVAL)", s.Key, s.ID, err, false)
	}
	return nil
}

// Val returns semaphore num's value.
func (s *SemSet) Val(num int) (int, error) {
	v, err := semctl(s.ID, num, cmdGetVal, 0)
	if err != nil {
		return 0, wrapErrno("semctl(GETVAL)", s.Key, s.ID, err, false)
	}
	return v, nil
}

// LastPID returns the pid of the last process that operated on semaphore num
// (GETPID): for a mutex at 0, the holder.
func (s *SemSet) LastPID(num int) (int, error) {
	v, err := semctl(s.ID, num, cmdGetPID, 0)
	if err != nil {
		return 0, wrapErrno("semctl(GETPID)", s.Key, s.ID, err, false)
	}
	return v, nil
}

// Waiters returns how many processes wait for semaphore num to increase (GETNCNT).
func (s *SemSet) Waiters(num int) (int, error) {
	v, err := semctl(s.ID, num, cmdGetNcnt, 0)
	if err != nil {
		return 0, wrapErrno("semctl(GETNCNT)", s.Key, s.ID, err, false)
	}
	return v, nil
}

// Stat reads the set's kernel state.
func (s *SemSet) Stat() (SemInfo, error) { return StatSem(s.ID) }

// Remove removes the set at once: processes waiting on it wake with ErrRemoved.
func (s *SemSet) Remove() error { return RemoveSem(s.ID) }

// RemoveSem removes the set id.
func RemoveSem(id int) error {
	if _, err := semctl(id, 0, cmdRmid, 0); err != nil {
		return wrapErrno("semctl(IPC_RMID)", 0, id, err, false)
	}
	return nil
}
