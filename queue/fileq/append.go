package fileq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/m1gw/m1/queue"
)

// appender is this process's view of the tail segment. Every field is
// valid only under Queue.amu and the append lock, and is checked against
// the files (refresh) each time the lock is taken, because producers in
// other processes append too.
type appender struct {
	q      *Queue
	seg    *os.File
	first  uint64 // first position of seg
	ino    uint64
	end    int64  // offset just past the last data frame
	next   uint64 // position of the next record
	loaded bool
	buf    []byte
}

func (a *appender) segPath(first uint64) string { return filepath.Join(a.q.dir, segName(first)) }

// refresh brings the appender up to date with the files: another producer
// may have appended, sealed, or died mid-append leaving a torn frame.
func (a *appender) refresh() error {
	if !a.loaded {
		return a.reload()
	}
	fi, err := os.Stat(a.segPath(a.first))
	if err != nil || inode(fi) != a.ino || fi.Size() < a.end {
		return a.reload()
	}
	if fi.Size() == a.end {
		return nil
	}
	return a.follow(a.end, a.next)
}

// reload finds the tail segment from the directory and scans it whole.
func (a *appender) reload() error {
	for tries := 0; ; tries++ {
		if tries > 100 {
			return fmt.Errorf("fileq: %s: tail segment keeps changing", a.q.dir)
		}
		segs, err := listSegments(a.q.dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("fileq: %s: %w", a.q.dir, queue.ErrRemoved)
			}
			return fmt.Errorf("fileq: list %s: %w", a.q.dir, err)
		}
		if len(segs) == 0 {
			pf, err := a.q.ensurePosFile()
			if err != nil {
				return err
			}
			if err := a.q.createSegment(pf.commit); err != nil {
				return err
			}
			continue
		}
		first := segs[len(segs)-1]
		ok, err := a.open(first)
		if err != nil {
			return err
		}
		if !ok {
			if err := a.q.setAside(first, 0, first, "segment header checksum"); err != nil {
				return err
			}
			continue
		}
		a.loaded = true
		return a.follow(segHeaderSize, first)
	}
}

// open makes first the current segment. ok is false when its header is bad.
func (a *appender) open(first uint64) (ok bool, err error) {
	a.close()
	a.loaded = false
	path := a.segPath(first)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("fileq: open %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false, fmt.Errorf("fileq: stat %s: %w", path, err)
	}
	hdr := make([]byte, segHeaderSize)
	n, _ := f.ReadAt(hdr, 0)
	if h, err := decodeSegHeader(hdr[:n]); err != nil || h.firstPos != first {
		f.Close()
		return false, nil
	}
	a.seg, a.first, a.ino, a.end, a.next = f, first, inode(fi), segHeaderSize, first
	return true, nil
}

func (a *appender) close() {
	if a.seg != nil {
		a.seg.Close()
		a.seg = nil
	}
}

// follow scans the current segment from off (where position next must be)
// and moves on through seals to the real tail, cutting a torn tail frame.
func (a *appender) follow(off int64, next uint64) error {
	for hops := 0; ; hops++ {
		if hops > 1000 {
			return fmt.Errorf("fileq: %s: too many segments to follow", a.q.dir)
		}
		r, err := scanSegment(a.seg, off, next, 0, nil)
		if err != nil {
			return err
		}
		a.end, a.next = r.end, r.next
		switch r.how {
		case scanEOF:
			return nil
		case scanTorn:
			return a.cutTorn(r.size)
		case scanCorrupt:
			if err := a.q.setAside(a.first, r.end, r.next, r.why); err != nil {
				return err
			}
			return a.reload()
		case scanSeal:
			// The consumer deletes committed segments without the append
			// lock, so a missing next segment is either deleted (a later
			// one is the tail: find it) or never created (this producer's
			// predecessor died between sealing and creating: create it).
			if _, err := os.Stat(a.segPath(r.sealPos)); errors.Is(err, fs.ErrNotExist) {
				segs, err := listSegments(a.q.dir)
				if err != nil {
					return fmt.Errorf("fileq: list %s: %w", a.q.dir, err)
				}
				if len(segs) == 0 || segs[len(segs)-1] != a.first {
					return a.reload()
				}
				if err := a.q.createSegment(r.sealPos); err != nil {
					return err
				}
			}
			ok, err := a.open(r.sealPos)
			if errors.Is(err, fs.ErrNotExist) {
				return a.reload()
			}
			if err != nil {
				return err
			}
			if !ok {
				return a.reload()
			}
			a.loaded = true
			off, next = segHeaderSize, r.sealPos
		}
	}
}

// cutTorn truncates the frame a dead producer (or a full disk) left
// unfinished at the end of the tail segment. It was never acknowledged.
func (a *appender) cutTorn(size int64) error {
	a.q.log.Info("fileq: cutting torn frame at tail",
		zap.String("segment", a.seg.Name()), zap.Int64("offset", a.end), zap.Int64("bytes", size-a.end))
	if err := a.seg.Truncate(a.end); err != nil {
		return fmt.Errorf("fileq: truncate %s: %w", a.seg.Name(), err)
	}
	if a.q.opts.Durability != SyncNone {
		if err := a.sync(); err != nil {
			return wrapWrite("sync", a.seg.Name(), err)
		}
	}
	return nil
}

// append writes recs at the tail, rotating as segments fill, and syncs as
// the durability asks. It returns how many records are stored (and, when
// syncing, synced); the rest are not, and err says why. written, when not
// nil, is called once every record is written (a consumer can read them)
// and before the group's sync.
func (a *appender) append(recs [][]byte, written func()) (int, error) {
	if err := a.refresh(); err != nil {
		return 0, err
	}
	d := a.q.opts.Durability
	now := time.Now().UnixNano()
	stored := 0
	synced := 0
	for stored < len(recs) {
		a.buf = a.buf[:0]
		i := stored
		for i < len(recs) {
			fsz := int64(frameHeaderSize + len(recs[i]))
			if a.end+int64(len(a.buf))+fsz > a.q.opts.SegmentSize && (a.end > segHeaderSize || len(a.buf) > 0) {
				break
			}
			a.buf = appendFrame(a.buf, a.next+uint64(i-stored), now, recs[i])
			i++
			if d == SyncEvery {
				break
			}
		}
		if len(a.buf) == 0 {
			if err := a.rotate(now); err != nil {
				// What was written before stays; sync it so it counts.
				if d == SyncNone {
					return stored, err
				}
				if stored > synced && a.sync() == nil {
					synced = stored
				}
				return synced, err
			}
			continue
		}
		if n, err := a.seg.WriteAt(a.buf, a.end); err != nil {
			k, good := completeFrames(a.buf[:n])
			a.end += good
			a.next += uint64(k)
			stored += k
			if terr := a.seg.Truncate(a.end); terr != nil {
				a.q.log.Warn("fileq: cannot cut partial frame; the next append will", zap.Error(terr))
			}
			werr := wrapWrite("append to", a.seg.Name(), err)
			if isDiskFull(err) {
				a.q.fullEvents.Add(1)
			}
			if d != SyncNone && stored > synced {
				if serr := a.sync(); serr != nil {
					return synced, werr
				}
			}
			return stored, werr
		}
		a.end += int64(len(a.buf))
		a.next += uint64(i - stored)
		stored = i
		if d == SyncEvery {
			if err := a.sync(); err != nil {
				return synced, wrapWrite("sync", a.seg.Name(), err)
			}
			synced = stored
		}
	}
	if written != nil {
		written()
	}
	if d == SyncGroup {
		if err := a.sync(); err != nil {
			return synced, wrapWrite("sync", a.seg.Name(), err)
		}
	}
	return stored, nil
}

// rotate seals the current segment and begins the next. The seal is synced
// before the next segment exists, so no reader ever sees a segment follow
// one that does not say so.
func (a *appender) rotate(now int64) error {
	seal := appendSeal(nil, a.next, now)
	if _, err := a.seg.WriteAt(seal, a.end); err != nil {
		if terr := a.seg.Truncate(a.end); terr != nil {
			a.q.log.Warn("fileq: cannot cut partial seal; the next append will", zap.Error(terr))
		}
		return wrapWrite("seal", a.seg.Name(), err)
	}
	if a.q.opts.Durability != SyncNone {
		if err := a.sync(); err != nil {
			return wrapWrite("sync", a.seg.Name(), err)
		}
	}
	next := a.next
	if err := a.q.createSegment(next); err != nil {
		return err
	}
	ok, err := a.open(next)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("fileq: new segment %s has a bad header", a.segPath(next))
	}
	a.loaded = true
	return nil
}

// completeFrames counts the whole frames at the start of b and their bytes.
func completeFrames(b []byte) (n int, size int64) {
	for {
		f, err := decodeFrameHeader(b[size:], 0)
		if err != nil || f.seal() || int64(len(b))-size < f.size() {
			return n, size
		}
		size += f.size()
		n++
	}
}

// sync fdatasyncs the current segment, counting it for Syncs.
func (a *appender) sync() error {
	a.q.syncs.Add(1)
	return unix.Fdatasync(int(a.seg.Fd()))
}
