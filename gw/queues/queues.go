// Package queues opens M1's configured queues: the one place where a queue's
// settings in etc/m1.toml (key, capacity, record size, full policy,
// durability, file directory) become a queue/spill.Queue, and where the
// process table's segment is opened. Every daemon, ipcq and the scripts go
// through it, so that all of them agree on what a queue name means.
package queues

import (
	"errors"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/fileq"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/queue/spill"
)

// Options returns the spill options of the named queue.
func Options(cfg *config.Config, name string, consumer bool, log *zap.Logger) (spill.Options, error) {
	q, ok := cfg.Queue(name)
	if !ok {
		return spill.Options{}, fmt.Errorf("queue %s: not configured in %s", name, config.MainFile)
	}
	key, err := q.ResolveKey()
	if err != nil {
		return spill.Options{}, fmt.Errorf("queue %s: key: %w", name, err)
	}
	dur := fileq.SyncGroup
	switch q.Durability {
	case config.DurEvery:
		dur = fileq.SyncEvery
	case config.DurNone:
		dur = fileq.SyncNone
	}
	if log == nil {
		log = zap.NewNop()
	}
	return spill.Options{
		Shm: shmq.Options{
			Name:       q.Name,
			Key:        ipc.Key(int32(key)),
			Capacity:   q.Capacity,
			RecordSize: q.RecordSize,
		},
		Dir:      q.FileDir,
		File:     fileq.Options{Name: q.Name, RecordSize: q.RecordSize, Durability: dur},
		Policy:   spill.Policy(q.Full),
		Consumer: consumer,
		Log:      log,
	}, nil
}

// Open opens the named queue for a producer.
func Open(cfg *config.Config, name string, log *zap.Logger) (*spill.Queue, error) {
	return open(cfg, name, false, log)
}

// OpenConsumer opens the named queue as its one consumer (creating the
// segment when it is missing).
func OpenConsumer(cfg *config.Config, name string, log *zap.Logger) (*spill.Queue, error) {
	return open(cfg, name, true, log)
}

func open(cfg *config.Config, name string, consumer bool, log *zap.Logger) (*spill.Queue, error) {
	o, err := Options(cfg, name, consumer, log)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue %s: %w", name, err)
	}
	return spill.Open(o)
}

// Names lists the configured queues in the order of the configuration.
func Names(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Queues))
	for _, q := range cfg.Queues {
		names = append(names, q.Name)
	}
	return names
}

// Create creates the named queue's segment and semaphores when missing
// (ipcq create, m1start). It returns whether it created them.
func Create(cfg *config.Config, name string) (bool, error) {
	o, err := Options(cfg, name, false, nil)
	if err != nil {
		return false, err
	}
	if ok, err := shmq.Exists(o.Shm.Key); err != nil || ok {
		return false, err
	}
	o.Shm.Create = true
	s, err := shmq.Open(o.Shm)
	if err != nil {
		return false, err
	}
	return true, s.Close()
}

// OpenShm attaches to the named queue's ring only (ipcq), without its file
// part.
func OpenShm(cfg *config.Config, name string) (*shmq.Queue, error) {
	o, err := Options(cfg, name, false, nil)
	if err != nil {
		return nil, err
	}
	return shmq.Open(o.Shm)
}

// ProcTab opens the process table, creating it when asked.
func ProcTab(cfg *config.Config, create bool, log *zap.Logger) (*proctab.Table, error) {
	return proctab.Open(proctab.Options{
		Key:       ipc.Key(int32(cfg.ProcTab.Key.Value)),
		Slots:     cfg.ProcTab.Slots,
		Create:    create,
		DeadAfter: cfg.ProcTab.DeadAfter.D(),
		Log:       log,
	})
}

// LaneNames maps a JOB_CLASS to its distributor lane (DESIGN.md, "Job
// classes").
var LaneNames = map[byte]string{'R': config.QueueDistR, 'S': config.QueueDistS, 'B': config.QueueDistB}

// OpenLanes opens DIST.R, DIST.S and DIST.B for a producer, keyed by
// JOB_CLASS: what every intake (eai_lsnr, sch, tkm_files) writes to. Each
// opened lane's Close is passed to onClose (a daemon.Closers' Add); on an
// error the caller closes them.
func OpenLanes(cfg *config.Config, log *zap.Logger, onClose func(func() error)) (map[byte]queue.Queue, error) {
	lanes := make(map[byte]queue.Queue, len(LaneNames))
	for jc, name := range LaneNames {
		q, err := Open(cfg, name, log)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", name, err)
		}
		onClose(q.Close)
		lanes[jc] = q
	}
	return lanes, nil
}

// RemoveAll removes every configured queue's segment and semaphores and
// the process table, whichever exist: for tests and a decommissioned home.
// Records still in a ring are lost; ipcq rm --all asks first.
func RemoveAll(cfg *config.Config) error {
	var errs []error
	for _, n := range Names(cfg) {
		if o, err := Options(cfg, n, false, nil); err == nil {
			errs = append(errs, shmq.Remove(o.Shm.Key))
		}
	}
	errs = append(errs, proctab.Remove(ipc.Key(int32(cfg.ProcTab.Key.Value))))
	return errors.Join(errs...)
}
