package ipc

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	ipcCreat = unix.IPC_CREAT
	ipcExcl  = unix.IPC_EXCL
)

// semidDS is struct semid64_ds as x86-64 and arm64 Linux lay it out: the
// 48-byte ipc64_perm, then times and the count as longs. The __unused words
// are where x86-64 puts them; on arm64 (asm-generic) sem_otime and sem_ctime
// are adjacent, but this code reads only fields whose offsets agree or are
// read on x86-64, which is what M1 runs on.
type semidDS struct {
	Perm    unix.SysvIpcPerm
	Otime   int64
	unused1 uint64
	Ctime   int64
	unused2 uint64
	Nsems   uint64
	unused3 uint64
	unused4 uint64
}

func semget(key Key, n, flags int) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_SEMGET, uintptr(key), uintptr(n), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// semop runs semtimedop, which with a nil timeout is the plain semop on
// 64-bit Linux. The kernel never restarts it after a signal, and Go's runtime
// signals threads (SIGURG) all the time, so EINTR loops with the time left.
func semop(id int, ops []Sembuf, timeout time.Duration) error {
	if len(ops) == 0 {
		return nil
	}
	if len(ops) > SemOpsMax {
		return unix.E2BIG
	}
	if timeout == 0 {
		for i := range ops {
			ops[i].Flags |= IPCNoWait
		}
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		var tsp *unix.Timespec
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return unix.EAGAIN
			}
			ts := unix.NsecToTimespec(left.Nanoseconds())
			tsp = &ts
		}
		_, _, e := unix.Syscall6(unix.SYS_SEMTIMEDOP, uintptr(id), uintptr(unsafe.Pointer(&ops[0])),
			uintptr(len(ops)), uintptr(unsafe.Pointer(tsp)), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func semctl(id, num, cmd int, arg uintptr) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), uintptr(cmd), arg, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// StatSem reads set id's kernel state (IPC_STAT).
func StatSem(id int) (SemInfo, error) {
	var d semidDS
	if _, err := semctl(id, 0, cmdStat, uintptr(unsafe.Pointer(&d))); err != nil {
		return SemInfo{}, wrapErrno("semctl(IPC_STAT)", 0, id, err, false)
	}
	return SemInfo{
		ID:    id,
		Key:   Key(d.Perm.Key),
		UID:   int(d.Perm.Uid),
		Mode:  os.FileMode(d.Perm.Mode & 0o777),
		NSems: int(d.Nsems),
		Otime: time.Unix(d.Otime, 0),
		Ctime: time.Unix(d.Ctime, 0),
	}, nil
}
