package fileq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/m1gw/m1/queue"
)

// Polling of the tail while Take waits: the first sleep is pollMin, each
// next one doubles, up to pollMax.
const (
	pollMin = time.Millisecond
	pollMax = 20 * time.Millisecond
)

// consumer is the consumer's state. Guarded by mu.
type consumer struct {
	mu     sync.Mutex
	q      *Queue
	lockf  *os.File // consumer.lock, flock'd while open
	cbuf   []byte
	commit uint64 // every position below is committed (and persisted)
	head   uint64 // next position to take
	redel  uint64 // positions below were taken by an earlier consumer
	taken  uint64 // last taken mark written to consumer.lock
	create int64
	segs   []uint64 // segments from the commit's to the reader's
	inflt  []uint64 // positions taken and not committed, ascending
	spare  bool     // position.spare is allocated (spare.go)
	r      reader
}

// openConsumer takes the consumer lock and recovers the queue. Called under
// the append lock.
func (q *Queue) openConsumer() (*consumer, error) {
	path := filepath.Join(q.dir, consumerName)
	lf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, q.opts.Mode)
	if err != nil {
		return nil, fmt.Errorf("fileq: open %s: %w", path, err)
	}
	if err := flock(lf, false); err != nil {
		lf.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("fileq: %s: %w", q.dir, queue.ErrConsumerBusy)
		}
		return nil, fmt.Errorf("fileq: lock %s: %w", path, err)
	}
	c := &consumer{q: q, lockf: lf}
	if err := c.recover(); err != nil {
		lf.Close()
		c.r.close()
		return nil, err
	}
	return c, nil
}

func (c *consumer) recover() error {
	q := c.q
	q.removeTemps()
	pf, err := q.readPosFile()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("fileq: position file unreadable; delivering from the oldest segment again", zap.Error(err))
	}
	if err != nil {
		segs, lerr := listSegments(q.dir)
		if lerr != nil {
			return fmt.Errorf("fileq: list %s: %w", q.dir, lerr)
		}
		pf = posFile{created: time.Now().UnixNano()}
		if len(segs) > 0 {
			pf.commit = segs[0]
		}
		if err := q.writePosFile(pf); err != nil {
			return err
		}
	}
	c.commit, c.head, c.create = pf.commit, pf.commit, pf.created
	c.redel = c.commit
	b := make([]byte, consFileSize)
	if n, _ := c.lockf.ReadAt(b, 0); n == consFileSize {
		if cf, ok := decodeConsFile(b); ok && cf.taken > c.commit {
			c.redel = cf.taken
		}
	}
	if err := c.writeConsFile(uint32(os.Getpid()), max(c.redel, c.commit)); err != nil {
		return err
	}
	if fi, err := os.Stat(filepath.Join(q.dir, spareName)); err == nil && fi.Size() == posFileSize {
		c.spare = true
	} else {
		c.makeSpare()
	}
	// Drop segments a crash left behind between the position write and
	// their removal.
	segs, err := listSegments(q.dir)
	if err != nil {
		return fmt.Errorf("fileq: list %s: %w", q.dir, err)
	}
	for len(segs) >= 2 && segs[1] <= c.commit {
		os.Remove(filepath.Join(q.dir, segName(segs[0])))
		segs = segs[1:]
	}
	if err := q.verify(c.commit); err != nil {
		return err
	}
	q.a.loaded = false
	if err := q.a.reload(); err != nil {
		return err
	}
	if segs, err = listSegments(q.dir); err != nil {
		return fmt.Errorf("fileq: list %s: %w", q.dir, err)
	}
	start := segs[0]
	for _, s := range segs {
		if s <= c.commit {
			start = s
		}
	}
	c.segs = []uint64{start}
	// Any length the format allows is read: a producer configured with a
	// larger record size than this consumer must not get its records set
	// aside as corrupt.
	c.r.maxLen = 0
	if err := c.r.open(q.dir, start); err != nil {
		return err
	}
	if c.redel > c.commit {
		q.log.Info("fileq: records taken by the previous consumer and not committed will be delivered again",
			zap.Uint64("from", c.commit), zap.Uint64("to", c.redel))
	}
	return nil
}

// writeConsFile records the consumer's pid and taken mark. It is written in
// place without fsync: it only decides the Redelivered flag and survives a
// process crash; a machine crash may lose it (see the package doc).
func (c *consumer) writeConsFile(pid uint32, taken uint64) error {
	c.cbuf = consFile{pid: pid, taken: taken}.encode(c.cbuf)
	if _, err := c.lockf.WriteAt(c.cbuf, 0); err != nil {
		return wrapWrite("write", c.lockf.Name(), err)
	}
	c.taken = taken
	return nil
}

func (c *consumer) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.writeConsFile(0, max(c.taken, c.head))
	c.r.close()
	return errors.Join(err, c.lockf.Close())
}

// Take returns the next record; see queue.Queue.
func (q *Queue) Take(timeout time.Duration) (queue.Record, error) {
	recs, err := q.TakeBatch(nil, 1, timeout)
	if len(recs) == 0 {
		return queue.Record{}, err
	}
	return recs[0], nil
}

// TakeBatch appends up to max records to dst, waiting up to timeout for the
// first. While it waits it polls the tail, sleeping 1ms, then doubling up to
// 20ms between looks.
func (q *Queue) TakeBatch(dst []queue.Record, max int, timeout time.Duration) ([]queue.Record, error) {
	if q.c == nil {
		return dst, ErrNotConsumer
	}
	if max <= 0 {
		return dst, nil
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	sleep := pollMin
	for {
		n := len(dst)
		var err error
		dst, err = q.takeSome(dst, max)
		if len(dst) > n || err != nil {
			return dst, err
		}
		if timeout == 0 {
			return dst, queue.ErrEmpty
		}
		wait := sleep
		if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return dst, queue.ErrEmpty
			}
			wait = min(wait, left)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.closing:
			t.Stop()
			return dst, queue.ErrClosed
		}
		sleep = min(2*sleep, pollMax)
	}
}

// takeSome takes what is there now, up to max records.
func (q *Queue) takeSome(dst []queue.Record, max int) ([]queue.Record, error) {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return dst, queue.ErrClosed
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	got := 0
	for got < max {
		fr, data, st, err := c.r.read()
		if err != nil {
			return dst, err
		}
		switch st {
		case readFrame:
			if fr.pos < c.head {
				continue // before the commit position: skipped on open
			}
			rec := queue.Record{Pos: fr.pos, Data: append([]byte(nil), data...), Redelivered: fr.pos < c.redel}
			dst = append(dst, rec)
			c.head = fr.pos + 1
			c.inflt = append(c.inflt, fr.pos)
			q.gets.Add(1)
			if rec.Redelivered {
				q.redelivered.Add(1)
			}
			got++
			continue
		case readSeal:
			moved, err := c.nextSegment(fr.pos)
			if err != nil {
				return dst, err
			}
			if moved {
				continue
			}
		case readBad:
			if err := c.repair(); err != nil {
				return dst, err
			}
			continue
		case readWait:
			if got == 0 {
				if err := c.checkReplaced(); err != nil {
					return dst, err
				}
			}
		}
		break
	}
	if got > 0 && c.head > c.taken {
		if err := c.writeConsFile(uint32(os.Getpid()), c.head); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// nextSegment moves the reader to the segment a seal names. moved is false
// when that segment does not exist yet (a producer died between sealing
// and creating it; the next producer creates it).
func (c *consumer) nextSegment(first uint64) (moved bool, err error) {
	path := filepath.Join(c.q.dir, segName(first))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	err = c.r.open(c.q.dir, first)
	if err != nil && !errors.Is(err, errCorrupt) {
		return false, err
	}
	c.segs = append(c.segs, first)
	if err != nil {
		return true, c.repair()
	}
	return true, nil
}

// repair handles a bad frame (or header) under the reader: under the
// append lock, so no producer is writing, it reads again and sets the
// segment aside if the frame is still bad.
func (c *consumer) repair() error {
	q := c.q
	return q.locked(func() error {
		first, off, next := c.r.first, c.r.off, c.r.npos
		if err := c.r.reopen(q.dir); err != nil && !errors.Is(err, errCorrupt) {
			return err
		} else if err == nil {
			c.r.off, c.r.npos = off, next
			_, _, st, err := c.r.read()
			if err != nil {
				return err
			}
			c.r.off, c.r.npos = off, next
			if st != readBad {
				return nil
			}
		}
		if err := q.setAside(first, off, next, "bad frame found while taking"); err != nil {
			return err
		}
		q.a.loaded = false
		if err := c.r.reopen(q.dir); err != nil {
			return err
		}
		if off >= segHeaderSize {
			c.r.off, c.r.npos = off, next
		}
		return nil
	})
}

// checkReplaced reopens the reader's segment when a producer set it aside
// (its file was replaced) while the reader waited at its end.
func (c *consumer) checkReplaced() error {
	fi, err := os.Stat(c.r.path)
	if err != nil {
		if _, derr := os.Stat(c.q.dir); errors.Is(derr, fs.ErrNotExist) {
			return fmt.Errorf("fileq: %s: %w", c.q.dir, queue.ErrRemoved)
		}
		return nil
	}
	if inode(fi) == c.r.ino {
		return nil
	}
	off, next := c.r.off, c.r.npos
	if err := c.r.reopen(c.q.dir); err != nil {
		return err
	}
	if off <= fi.Size() {
		c.r.off, c.r.npos = off, next
		return nil
	}
	// The replacement is shorter than what was read: go to its seal.
	r, err := scanSegment(c.r.f, segHeaderSize, c.r.first, 0, nil)
	if err != nil {
		return err
	}
	c.r.off, c.r.npos = r.end, max(r.next, next)
	return nil
}

// Commit commits every taken record up to and including pos, persisting
// the position atomically, and deletes segments wholly committed.
func (q *Queue) Commit(pos uint64) error {
	if q.c == nil {
		return ErrNotConsumer
	}
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return queue.ErrClosed
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos < c.commit {
		return nil
	}
	if pos >= c.head {
		return queue.ErrNotTaken
	}
	if err := c.writePosition(posFile{commit: pos + 1, created: c.create}); err != nil {
		return err
	}
	c.commit = pos + 1
	n := 0
	for n < len(c.inflt) && c.inflt[n] <= pos {
		n++
	}
	c.inflt = c.inflt[n:]
	q.commits.Add(uint64(n))
	for len(c.segs) >= 2 && c.segs[1] <= c.commit {
		path := filepath.Join(q.dir, segName(c.segs[0]))
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			q.log.Warn("fileq: cannot remove committed segment; the next consumer will", zap.String("segment", path), zap.Error(err))
		}
		c.segs = c.segs[1:]
	}
	return nil
}
