package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// RunningError is returned when another live process holds the pid file:
// a second instance of the same name refuses to start.
type RunningError struct {
	Name string
	PID  int // 0 when the running process had not written its pid yet
	Path string
}

func (e *RunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is already running (%s is locked)", e.Name, e.Path)
	}
	return fmt.Sprintf("%s is already running as pid %d (%s)", e.Name, e.PID, e.Path)
}

// PIDFile is a held pid file: var/run/NAME.pid, containing the pid and a
// newline, with an exclusive flock(2) held for the life of the process.
// The lock, not the file, says whether the process runs: a file left by a
// process killed with SIGKILL is unlocked and does not block a restart.
type PIDFile struct {
	path string
	f    *os.File
}

// AcquirePIDFile creates dir/name.pid and locks it, or returns a
// *RunningError naming the pid of the process that holds it.
func AcquirePIDFile(dir, name string) (*PIDFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	path := filepath.Join(dir, name+".pid")
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("pid file: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b, _ := os.ReadFile(path)
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				pid, _ := strconv.Atoi(string(bytes.TrimSpace(b)))
				return nil, &RunningError{Name: name, PID: pid, Path: path}
			}
			return nil, fmt.Errorf("pid file %s: lock: %w", path, err)
		}
		// The holder may have removed the file between our open and our
		// lock: then we hold a lock on a file nobody else will see. Take
		// the lock only if it is on the file at path.
		var a, b syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &a) != nil || syscall.Stat(path, &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
			_ = f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("pid file: %w", err)
		}
		if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("pid file: %w", err)
		}
		return &PIDFile{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("pid file %s: replaced while locking, repeatedly", path)
}

// Path is the pid file's path.
func (p *PIDFile) Path() string { return p.path }

// Release removes the pid file and drops the lock. The file is removed
// while the lock is still held, so no other process can see it stale.
func (p *PIDFile) Release() error {
	if p == nil || p.f == nil {
		return nil
	}
	err := os.Remove(p.path)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	return err
}

// ReadPID returns the pid written in dir/name.pid and whether a live
// process holds its lock, for scripts and status tools.
func ReadPID(dir, name string) (pid int, running bool, err error) {
	path := filepath.Join(dir, name+".pid")
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	pid, _ = strconv.Atoi(string(bytes.TrimSpace(b)))
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return pid, true, nil
		}
		return pid, false, err
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return pid, false, nil
}
