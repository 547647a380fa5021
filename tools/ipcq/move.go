package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
)

// moveBatch is how many records a move takes, puts and commits at a time.
// A move killed midway has put at most one batch it did not commit: those
// records are in the destination and, again, in the source.
const moveBatch = 256

// move takes up to limit records (all when limit ≤ 0) from src and puts them
// into dst, committing in src only what dst stored: nothing is lost if the
// move is killed, and at most one batch is then in both.
func move(src, dst queue.Queue, limit int) (int, error) {
	if dst.RecordSize() < src.RecordSize() {
		return 0, fmt.Errorf("%s takes records of up to %d bytes, %s holds up to %d: not compatible", dst.Name(), dst.RecordSize(), src.Name(), src.RecordSize())
	}
	moved := 0
	recs := make([]queue.Record, 0, moveBatch)
	data := make([][]byte, 0, moveBatch)
	for limit <= 0 || moved < limit {
		want := moveBatch
		if limit > 0 {
			want = min(want, limit-moved)
		}
		var err error
		recs, err = src.TakeBatch(recs[:0], want, 0)
		if errors.Is(err, queue.ErrEmpty) || len(recs) == 0 {
			return moved, nil
		}
		if err != nil {
			return moved, err
		}
		data = data[:0]
		for _, r := range recs {
			data = append(data, r.Data)
		}
		n, err := dst.PutBatch(data, 10*time.Second)
		if n > 0 {
			if cerr := src.Commit(recs[n-1].Pos); cerr != nil {
				return moved, cerr
			}
			moved += n
		}
		if err != nil {
			return moved, fmt.Errorf("%s: %w (moved %d)", dst.Name(), err, moved)
		}
	}
	return moved, nil
}

func busy(name string, err error) error {
	if errors.Is(err, queue.ErrConsumerBusy) {
		return fmt.Errorf("queue %s: its consumer is running; stop it first (%w)", name, err)
	}
	return err
}

func (c *cli) mv(from, to string) error {
	src, err := queues.OpenConsumer(c.cfg, from, nil)
	if err != nil {
		return busy(from, err)
	}
	defer src.Close()
	dst, err := queues.Open(c.cfg, to, nil)
	if err != nil {
		return err
	}
	defer dst.Close()
	n, err := move(src, dst, c.n)
	fmt.Fprintf(c.out, "moved %d records from %s to %s\n", n, from, to)
	return busy(from, err)
}

func (c *cli) purge(name string) error {
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return err
	}
	q, err := shmq.Open(o.Shm)
	if err != nil {
		return fmt.Errorf("queue %s: %w", name, err)
	}
	defer q.Close()
	if !c.confirm(fmt.Sprintf("drop all %d records of %s?", q.Len(), name)) {
		return fmt.Errorf("queue %s: not purged", name)
	}
	n, err := q.Purge()
	if err != nil {
		return busy(name, err)
	}
	fmt.Fprintf(c.out, "purged %d records from %s\n", n, name)
	return nil
}

func (c *cli) rm(name string) error {
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return err
	}
	if q, err := shmq.Open(o.Shm); err == nil {
		st, _ := q.Stat()
		q.Close()
		if st.ConsumerAlive && !c.force {
			return fmt.Errorf("queue %s: consumer pid %d is running; stop it or use --force", name, st.ConsumerPID)
		}
		if st.Len() > 0 && !c.force && !c.confirm(fmt.Sprintf("%s holds %d records that will be lost (ipcq save first); remove?", name, st.Len())) {
			return fmt.Errorf("queue %s: not removed", name)
		}
	} else if errors.Is(err, ipc.ErrNotExist) {
		return fmt.Errorf("queue %s: no segment under key %s", name, o.Shm.Key)
	} else if !errors.Is(err, shmq.ErrGeometry) {
		return fmt.Errorf("queue %s: %w", name, err)
	}
	if err := shmq.Remove(o.Shm.Key); err != nil {
		return fmt.Errorf("queue %s: %w", name, err)
	}
	fmt.Fprintf(c.out, "removed %s (key %s)\n", name, o.Shm.Key)
	return nil
}

func (c *cli) create(names []string) error {
	if len(names) == 0 {
		names = queues.Names(c.cfg)
	}
	var errs []error
	for _, name := range names {
		created, err := queues.Create(c.cfg, name)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("queue %s: %w", name, err))
		case created:
			fmt.Fprintf(c.out, "created %s\n", name)
		default:
			fmt.Fprintf(c.out, "exists  %s\n", name)
		}
	}
	return errors.Join(errs...)
}

// ringConsumer opens only the ring of a queue, as its consumer on first take.
func (c *cli) ring(name string) (*shmq.Queue, error) {
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return nil, err
	}
	q, err := shmq.Open(o.Shm)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", name, err)
	}
	return q, nil
}

func (c *cli) save(name, dir string) error {
	q, err := c.ring(name)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := fileq.Open(dir, fileq.Options{Name: name, RecordSize: q.RecordSize(), Durability: fileq.SyncGroup}, nil)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := move(q, f, c.n)
	fmt.Fprintf(c.out, "saved %d records of %s to %s\n", n, name, dir)
	return busy(name, err)
}

func (c *cli) loadDir(name, dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return err
	}
	f, err := fileq.Open(dir, fileq.Options{Name: name + ".saved", RecordSize: o.Shm.RecordSize, Consumer: true}, nil)
	if err != nil {
		return err
	}
	defer f.Close()
	q, err := queues.Open(c.cfg, name, nil)
	if err != nil {
		return err
	}
	defer q.Close()
	n, err := move(f, q, c.n)
	fmt.Fprintf(c.out, "loaded %d records from %s into %s\n", n, dir, name)
	return err
}

// rmAll removes every configured queue's ring and the process table, after
// the suite has stopped: what a demo or a decommissioning leaves behind.
// Records still in a ring are lost unless saved, so it asks unless --yes.
func (c *cli) rmAll() error {
	if tab, err := queues.ProcTab(c.cfg, false, nil); err == nil {
		var live []string
		for _, e := range tab.List() {
			if e.Alive {
				live = append(live, fmt.Sprintf("%s (pid %d)", e.Name, e.PID))
			}
		}
		tab.Close()
		if len(live) > 0 && !c.force {
			return fmt.Errorf("M1 processes are running: %v; stop them first (m1stop)", live)
		}
	}
	held := 0
	for _, name := range queues.Names(c.cfg) {
		if q, err := c.ring(name); err == nil {
			held += q.Len()
			q.Close()
		}
	}
	if held > 0 && !c.confirm(fmt.Sprintf("the rings hold %d records that will be lost; remove everything?", held)) {
		return errors.New("nothing removed")
	}
	var errs []error
	for _, name := range queues.Names(c.cfg) {
		o, err := queues.Options(c.cfg, name, false, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		shmOK, _ := shmq.Exists(o.Shm.Key)
		_, semErr := ipc.OpenSem(o.Shm.Key, 0)
		if !shmOK && semErr != nil {
			continue // neither: nothing to remove
		}
		// Either may exist alone: a segment removed with ipcrm -M leaves
		// its semaphore set behind.
		if err := shmq.Remove(o.Shm.Key); err != nil {
			errs = append(errs, fmt.Errorf("queue %s: %w", name, err))
			continue
		}
		fmt.Fprintf(c.out, "removed %s (key %s)\n", name, o.Shm.Key)
	}
	key := ipc.Key(int32(c.cfg.ProcTab.Key.Value))
	if ok, _ := shmq.Exists(key); ok {
		if err := proctab.Remove(key); err != nil {
			errs = append(errs, fmt.Errorf("process table: %w", err))
		} else {
			fmt.Fprintf(c.out, "removed the process table (key %s)\n", key)
		}
	}
	return errors.Join(errs...)
}
