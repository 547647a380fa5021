// Package ipc is M1's thin layer over System V IPC: shared-memory segments and
// semaphore sets, the keys that name them, and atomic views of segment memory.
//
// Everything that makes a system call lives here, so that the queue and the
// process table above it are plain Go over a []byte. golang.org/x/sys/unix
// wraps shmget/shmat/shmdt/shmctl; it has no wrappers for semaphores, so
// semget, semtimedop and semctl are called through syscall numbers in
// sem_unsafe.go, with sembuf and SEM_UNDO defined here.
//
// Two rules hold for every call:
//
//   - EINTR is retried. Go's runtime preempts goroutines with SIGURG, and the
//     kernel never restarts semop/semtimedop after a signal, so an unretried
//     call fails at random. A timed wait recomputes its remaining time before
//     retrying.
//   - Errors name the operation and the object, and wrap one of this package's
//     sentinels (ErrExist, ErrNotExist, ErrPermission, ErrRemoved, ErrInvalid,
//     ErrTimeout) so that callers test with errors.Is and operators read what
//     happened.
//
// Keys are written in hexadecimal as ipcs prints them (0x4d310001), or derived
// from a path in the manner of ftok(3).
package ipc
