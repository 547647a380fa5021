package ipc

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MsgQueue is a SysV message queue. M1 does not carry its records in message
// queues (a queue holds 16 KB by default here, and every record costs two
// system calls); it exists as the baseline M1's queue is measured against.
type MsgQueue struct {
	ID int
}

// msqidDS is struct msqid64_ds on x86-64.
type msqidDS struct {
	Perm   unix.SysvIpcPerm
	Stime  int64
	Rtime  int64
	Ctime  int64
	Cbytes uint64
	Qnum   uint64
	Qbytes uint64
	Lspid  int32
	Lrpid  int32
	unused [2]uint64
}

// CreateMsgQueue creates a private message queue and raises its byte limit
// to qbytes where permitted (CAP_SYS_RESOURCE may exceed kernel.msgmnb).
func CreateMsgQueue(qbytes int) (*MsgQueue, error) {
	r, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(Private), uintptr(ipcCreat|0o600), 0)
	if e != 0 {
		return nil, wrapErrno("msgget", Private, -1, e, true)
	}
	q := &MsgQueue{ID: int(r)}
	if qbytes > 0 {
		var d msqidDS
		err := q.ctl(unix.IPC_STAT, &d)
		if err == nil {
			d.Qbytes = uint64(qbytes)
			err = q.ctl(unix.IPC_SET, &d)
		}
		// Without CAP_SYS_RESOURCE the limit stays kernel.msgmnb: the
		// queue works, smaller; Qbytes tells the caller what it got.
		if err != nil && !errors.Is(err, ErrPermission) {
			_ = q.Remove()
			return nil, err
		}
	}
	return q, nil
}

// Qbytes returns the queue's byte limit.
func (q *MsgQueue) Qbytes() (int, error) {
	var d msqidDS
	if err := q.ctl(unix.IPC_STAT, &d); err != nil {
		return 0, err
	}
	return int(d.Qbytes), nil
}

func (q *MsgQueue) ctl(cmd int, d *msqidDS) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(q.ID), uintptr(cmd), uintptr(unsafe.Pointer(d)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return wrapErrno("msgctl", 0, q.ID, e, false)
		}
		return nil
	}
}

// Send sends msg, whose first 8 bytes are the message type (mtype, > 0),
// blocking while the queue is full.
func (q *MsgQueue) Send(msg []byte) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_MSGSND, uintptr(q.ID), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)-8), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return wrapErrno("msgsnd", 0, q.ID, e, false)
		}
		return nil
	}
}

// Receive receives the next message into buf (mtype in its first 8 bytes)
// and returns its text length.
func (q *MsgQueue) Receive(buf []byte) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_MSGRCV, uintptr(q.ID), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)-8), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, wrapErrno("msgrcv", 0, q.ID, e, false)
		}
		return int(r), nil
	}
}

// Remove removes the queue.
func (q *MsgQueue) Remove() error {
	_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(q.ID), uintptr(unix.IPC_RMID), 0)
	if e != 0 {
		return wrapErrno("msgctl(IPC_RMID)", 0, q.ID, e, false)
	}
	return nil
}
