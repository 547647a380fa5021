package fileq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// File names in the queue directory. Part of the format.
const (
	lockName     = "append.lock"    // flock'd around every append
	consumerName = "consumer.lock"  // flock'd by the consumer; holds consFile
	positionName = "position"       // posFile, replaced atomically
	spareName    = "position.spare" // room for a commit on a full disk (spare.go)
	segSuffix    = ".seg"           // segments: <first position, 20 digits>.seg
	badSuffix    = ".bad"           // segments set aside
	tmpSuffix    = ".tmp"           // files being written; removed on open
)

func segName(first uint64) string { return fmt.Sprintf("%020d%s", first, segSuffix) }

// listSegments returns the first positions of the segments in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		n := e.Name()
		if len(n) != 20+len(segSuffix) || !strings.HasSuffix(n, segSuffix) {
			continue
		}
		v, err := strconv.ParseUint(n[:20], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// isDiskFull says whether err means the disk (or the file-size limit) is full.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT)
}

// wrapWrite turns a write error into ErrDiskFull when it is one.
func wrapWrite(op, path string, err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("%w: %s %s: %w", ErrDiskFull, op, path, err)
	}
	return fmt.Errorf("fileq: %s %s: %w", op, path, err)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileAtomic writes b to path via path.tmp: write, fsync, rename, fsync
// the directory. With sync false it skips both fsyncs (SyncNone).
func writeFileAtomic(path string, b []byte, mode fs.FileMode, sync bool) error {
	tmp := fmt.Sprintf("%s.%d%s", path, os.Getpid(), tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return wrapWrite("create", tmp, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return wrapWrite("write", tmp, err)
	}
	if sync {
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			f.Close()
			os.Remove(tmp)
			return wrapWrite("sync", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return wrapWrite("close", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fileq: rename %s: %w", tmp, err)
	}
	if sync {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fmt.Errorf("fileq: sync dir of %s: %w", path, err)
		}
	}
	return nil
}

// flock locks f exclusively, waiting when block is set.
func flock(f *os.File, block bool) error {
	how := unix.LOCK_EX
	if !block {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

func funlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
