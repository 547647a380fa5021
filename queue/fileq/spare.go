package fileq

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// The consumer keeps a spare position file, allocated while the disk has
// room, so that it can commit on a full disk. Committing writes a new
// position file through a temporary file, which needs a free block; on a
// full disk it cannot, the consumer cannot commit, the committed segments
// are never removed, and the disk never frees. With the spare, a commit
// that meets a full disk writes the position into the spare's block (in
// place: no new block), syncs it and renames it over the position file;
// the segments it then removes free the disk, and the spare is made again
// at the next commit that has room.
//
// A crash between the write into the spare and the rename leaves the old
// position in force: records are delivered again, never lost. The spare
// is not read on open.

// writePosition persists pf for Commit: atomically through a temporary
// file, or through the spare when the disk is full.
func (c *consumer) writePosition(pf posFile) error {
	q := c.q
	err := q.writePosFile(pf)
	if err == nil {
		if !c.spare {
			c.makeSpare()
		}
		return nil
	}
	if !isDiskFull(err) || !c.spare {
		return err
	}
	if serr := c.writeViaSpare(pf); serr != nil {
		return errors.Join(err, fmt.Errorf("fileq: commit through the spare position file: %w", serr))
	}
	q.log.Warn("fileq: disk full: commit written through the spare position file",
		zap.String("queue", q.opts.Name), zap.Uint64("commit", pf.commit))
	return nil
}

// makeSpare allocates the spare: the size of a position file, synced. A
// failure (a full disk) is left for the next commit to try again.
func (c *consumer) makeSpare() {
	q := c.q
	path := filepath.Join(q.dir, spareName)
	b := make([]byte, posFileSize)
	if err := writeFileAtomic(path, b, q.opts.Mode, q.opts.Durability != SyncNone); err != nil {
		return
	}
	c.spare = true
}

// writeViaSpare writes pf into the spare in place and renames it over the
// position file. The spare is used up.
func (c *consumer) writeViaSpare(pf posFile) error {
	q := c.q
	path := filepath.Join(q.dir, spareName)
	f, err := os.OpenFile(path, os.O_WRONLY, q.opts.Mode)
	if err != nil {
		c.spare = false
		return err
	}
	_, err = f.WriteAt(pf.encode(), 0)
	if err == nil && q.opts.Durability != SyncNone {
		err = unix.Fdatasync(int(f.Fd()))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(path, filepath.Join(q.dir, positionName)); err != nil {
		return err
	}
	c.spare = false
	if q.opts.Durability != SyncNone {
		return syncDir(q.dir)
	}
	return nil
}
