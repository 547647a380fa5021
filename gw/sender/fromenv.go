package sender

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// OpenQueue opens a configured queue by name. It opens the shared-memory
// part only, until gw/queues (which knows spill and file queues) is
// there; cmd/sender then sets it to queues.Open.
var OpenQueue = func(c *config.Config, name string, log *zap.Logger) (queue.Queue, error) {
	qc, ok := c.Queue(name)
	if !ok {
		return nil, fmt.Errorf("queue %s is not configured", name)
	}
	key, err := qc.ResolveKey()
	if err != nil {
		return nil, err
	}
	return shmq.Open(shmq.Options{Name: qc.Name, Key: ipc.Key(key), Capacity: qc.Capacity, RecordSize: qc.RecordSize,
		Create: true, Log: log})
}

// FromEnv builds the sender of link id for daemon.Main: it reads the
// [[sender]] section, opens SND.<ID> (or the section's queue) and DBX.
func FromEnv(id string) func(*daemon.Env) (daemon.Daemon, error) {
	return func(env *daemon.Env) (daemon.Daemon, error) {
		c := env.Config.Get()
		sc, ok := c.Sender(id)
		if !ok {
			return nil, fmt.Errorf("no [[sender]] with id %q in etc/m1.toml", id)
		}
		o, err := OptionsFrom(sc)
		if err != nil {
			return nil, err
		}
		qname := sc.Queue
		if qname == "" {
			qname = "SND." + id
		}
		log := env.Log.Logger
		if o.Queue, err = OpenQueue(c, qname, log); err != nil {
			return nil, err
		}
		if o.DBX, err = OpenQueue(c, "DBX", log); err != nil {
			_ = o.Queue.Close()
			return nil, err
		}
		o.Log = log
		s, err := New(o)
		if err != nil {
			_ = o.Queue.Close()
			_ = o.DBX.Close()
			return nil, err
		}
		return &owned{Sender: s, closers: []queue.Queue{o.Queue, o.DBX}}, nil
	}
}

// owned is a Sender that closes the queues it was given when Main returns
// (stop order step 5: detach from shared memory).
type owned struct {
	*Sender
	closers []queue.Queue
}

func (o *owned) Main() error {
	err := o.Sender.Main()
	var cerr []error
	for _, q := range o.closers {
		cerr = append(cerr, q.Close())
	}
	return errors.Join(append([]error{err}, cerr...)...)
}
