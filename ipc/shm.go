package ipc

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Segment is a SysV shared-memory segment attached to this process.
type Segment struct {
	ID  int
	Key Key
	// Mem is the attached memory. It stays valid until Detach, even after
	// the segment is removed: the kernel destroys a removed segment only
	// when its last process detaches.
	Mem []byte
}

// ShmInfo is what shmctl(IPC_STAT) tells of a segment.
type ShmInfo struct {
	ID      int
	Key     Key // 0 once the segment is marked for removal
	UID     int
	Mode    os.FileMode // permission bits
	Size    int
	Nattch  int
	CPID    int // creator
	LPID    int // last shmat/shmdt
	Ctime   time.Time
	Removed bool // marked for destruction (SHM_DEST): gone from ipcs, alive while attached
}

// shmDest is SHM_DEST, the mode bit Linux sets on a segment removed while
// attached.
const shmDest = 0o1000

// CreateShm creates a segment of size bytes under key with the permission
// bits perm (0600 unless configured otherwise). It fails with ErrExist when
// the key is taken. Key Private always creates a new segment.
func CreateShm(key Key, size int, perm os.FileMode) (int, error) {
	id, err := retryInt(func() (int, error) {
		return unix.SysvShmGet(int(key), size, unix.IPC_CREAT|unix.IPC_EXCL|int(perm.Perm()))
	})
	if err != nil {
		return -1, wrapErrno("shmget(create)", key, -1, err, true)
	}
	return id, nil
}

// OpenShm finds the existing segment under key. size is the least size the
// caller needs: a smaller existing segment fails with ErrInvalid (its
// geometry changed: remove and recreate it).
func OpenShm(key Key, size int) (int, error) {
	id, err := retryInt(func() (int, error) { return unix.SysvShmGet(int(key), size, 0) })
	if err != nil {
		return -1, wrapErrno("shmget", key, -1, err, true)
	}
	return id, nil
}

// AttachShm maps the segment id into this process.
func AttachShm(id int, key Key) (*Segment, error) {
	var mem []byte
	err := retry(func() error {
		var err error
		mem, err = unix.SysvShmAttach(id, 0, 0)
		return err
	})
	if err != nil {
		return nil, wrapErrno("shmat", key, id, err, false)
	}
	return &Segment{ID: id, Key: key, Mem: mem}, nil
}

// Detach unmaps the segment. Detaching twice is harmless.
func (s *Segment) Detach() error {
	if s == nil || s.Mem == nil {
		return nil
	}
	mem := s.Mem
	s.Mem = nil
	if err := retry(func() error { return unix.SysvShmDetach(mem) }); err != nil {
		return wrapErrno("shmdt", s.Key, s.ID, err, false)
	}
	return nil
}

// StatShm reads the segment's kernel state. On a removed segment that this
// process still has attached it succeeds with Removed set; once the segment
// is destroyed it fails with ErrRemoved.
func StatShm(id int) (ShmInfo, error) {
	var d unix.SysvShmDesc
	if err := retry(func() error { _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &d); return err }); err != nil {
		return ShmInfo{}, wrapErrno("shmctl(IPC_STAT)", 0, id, err, false)
	}
	return ShmInfo{
		ID:      id,
		Key:     Key(d.Perm.Key),
		UID:     int(d.Perm.Uid),
		Mode:    os.FileMode(d.Perm.Mode & 0o777),
		Size:    int(d.Segsz),
		Nattch:  int(d.Nattch),
		CPID:    int(d.Cpid),
		LPID:    int(d.Lpid),
		Ctime:   time.Unix(d.Ctime, 0),
		Removed: d.Perm.Mode&shmDest != 0,
	}, nil
}

// RemoveShm marks the segment for removal (IPC_RMID). Processes still
// attached keep their mapping; the key is free at once.
func RemoveShm(id int) error {
	if err := retry(func() error { _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); return err }); err != nil {
		return wrapErrno("shmctl(IPC_RMID)", 0, id, err, false)
	}
	return nil
}

func retry(f func() error) error {
	for {
		err := f()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func retryInt(f func() (int, error)) (int, error) {
	for {
		v, err := f()
		if !errors.Is(err, unix.EINTR) {
			return v, err
		}
	}
}
