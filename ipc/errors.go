package ipc

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrExist means an object with the key already exists (EEXIST on create).
var ErrExist = errors.New("ipc object already exists")

// ErrNotExist means no object has the key (ENOENT).
var ErrNotExist = errors.New("no ipc object with that key")

// ErrPermission means the object's mode does not let this user use it (EACCES, EPERM).
var ErrPermission = errors.New("permission denied on ipc object")

// ErrRemoved means the object was removed while in use (EIDRM, or EINVAL on an
// id that no longer names an object): someone ran ipcrm under a running process.
var ErrRemoved = errors.New("ipc object removed")

// ErrInvalid means the kernel refused the arguments (EINVAL on get): most often
// an existing segment smaller than the size asked for, i.e. a change of
// geometry, which needs the old object removed first.
var ErrInvalid = errors.New("invalid ipc argument or geometry")

// ErrTimeout means a timed semaphore wait ran out (EAGAIN from semtimedop).
var ErrTimeout = errors.New("ipc wait timed out")

// Error is a failed IPC call: which operation, on which object, and why.
type Error struct {
	Op  string // shmget, shmat, semop, ...
	Key Key    // the key, when known
	ID  int    // the shmid or semid, when known (-1 otherwise)
	Err error  // a sentinel of this package wrapping the errno, or the errno
}

func (e *Error) Error() string {
	switch {
	case e.ID >= 0 && e.Key != 0:
		return fmt.Sprintf("%s key %s id %d: %v", e.Op, e.Key, e.ID, e.Err)
	case e.ID >= 0:
		return fmt.Sprintf("%s id %d: %v", e.Op, e.ID, e.Err)
	default:
		return fmt.Sprintf("%s key %s: %v", e.Op, e.Key, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// wrapErrno turns an errno from op into an *Error wrapping the matching
// sentinel. get tells whether op looks an object up by key: there EINVAL
// means a geometry mismatch, while on an id it means the object is gone.
func wrapErrno(op string, key Key, id int, errno error, get bool) error {
	var sentinel error
	switch {
	case errors.Is(errno, unix.EEXIST):
		sentinel = ErrExist
	case errors.Is(errno, unix.ENOENT):
		sentinel = ErrNotExist
	case errors.Is(errno, unix.EACCES), errors.Is(errno, unix.EPERM):
		sentinel = ErrPermission
	case errors.Is(errno, unix.EIDRM):
		sentinel = ErrRemoved
	case errors.Is(errno, unix.EINVAL) && !get:
		sentinel = ErrRemoved
	case errors.Is(errno, unix.EINVAL):
		sentinel = ErrInvalid
	case errors.Is(errno, unix.EAGAIN):
		sentinel = ErrTimeout
	}
	if sentinel == nil {
		return &Error{Op: op, Key: key, ID: id, Err: errno}
	}
	return &Error{Op: op, Key: key, ID: id, Err: fmt.Errorf("%w (%v)", sentinel, errno)}
}
