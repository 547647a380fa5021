package sender

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
)

// FromEnv builds the sender of link id for daemon.Main: the [[sender]]
// section, SND.<ID> (or the section's queue) as its one consumer, DBX as a
// producer, and a slot in the process table named sender.<ID>.
func FromEnv(id string) func(*daemon.Env) (daemon.Daemon, error) {
	return func(env *daemon.Env) (daemon.Daemon, error) {
		c := env.Config.Get()
		log := env.Log.Logger
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
		d := &owned{cfg: c, qname: qname, log: log}
		fail := func(err error) (daemon.Daemon, error) { d.close(); return nil, err }
		q, err := queues.OpenConsumer(c, qname, log)
		if err != nil {
			return fail(fmt.Errorf("sender %s: open %s: %w", id, qname, err))
		}
		// The queue the sender reads at the end: it may have given this
		// one up and opened another (release.go).
		d.closers = append(d.closers, func() error {
			if d.Sender == nil {
				return q.Close()
			}
			if cur := d.Sender.Queue(); cur != nil {
				return cur.Close()
			}
			return nil
		})
		o.Queue = q
		o.ReleaseAfter = c.Timeouts.SenderDownReroute.D()
		o.PutBack = d.putBack
		o.Reopen = func() (queue.Queue, error) {
			q, err := queues.OpenConsumer(c, qname, log)
			if err != nil {
				return nil, err
			}
			return q, nil
		}
		dbx, err := queues.Open(c, config.QueueDBX, log)
		if err != nil {
			return fail(fmt.Errorf("sender %s: open %s: %w", id, config.QueueDBX, err))
		}
		d.closers = append(d.closers, dbx.Close)
		o.DBX = dbx
		tab, err := queues.ProcTab(c, true, log)
		if err != nil {
			return fail(fmt.Errorf("sender %s: process table: %w", id, err))
		}
		d.closers = append(d.closers, tab.Close)
		slot, err := tab.Register(config.SenderProcess(id), "sender")
		if err != nil {
			return fail(fmt.Errorf("sender %s: process table: %w", id, err))
		}
		d.slot = slot
		o.State = slot
		o.Log = log
		if d.Sender, err = New(o); err != nil {
			return fail(err)
		}
		return d, nil
	}
}

// owned is a Sender with what FromEnv opened for it: it marks the slot,
// beats its heartbeat, saves SND's ring on a clean stop when the queue's
// save_on_stop says so (the sender is the queue's owner), and closes the
// rest when Main returns (stop order steps 4 and 5).
type owned struct {
	*Sender
	cfg     *config.Config
	qname   string
	log     *zap.Logger
	slot    *proctab.Slot
	closers []func() error
	once    sync.Once
	lanes   map[byte]queue.Queue // DIST lanes, opened at the first release
}

// putBack hands records back to dist on the DIST lane of their
// JOB_CLASS (release.go), in order, opening the lanes the first time.
func (d *owned) putBack(recs [][]byte) (int, error) {
	if d.lanes == nil {
		lanes, err := queues.OpenLanes(d.cfg, d.log, func(c func() error) { d.closers = append(d.closers, c) })
		if err != nil {
			return 0, err
		}
		d.lanes = lanes
	}
	laneOf := func(r []byte) byte {
		if m, err := msg.DecodeMessage(r); err == nil {
			if _, ok := d.lanes[m.JobClass]; ok {
				return m.JobClass
			}
		}
		return 'S'
	}
	done := 0
	for done < len(recs) {
		jc := laneOf(recs[done])
		end := done + 1
		for end < len(recs) && laneOf(recs[end]) == jc {
			end++
		}
		n, err := d.lanes[jc].PutBatch(recs[done:end], time.Second)
		done += n
		if err != nil {
			return done, fmt.Errorf("putting back on %s: %w", d.lanes[jc].Name(), err)
		}
	}
	return done, nil
}

func (d *owned) Main() error {
	defer d.close()
	hbStop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.slot.HeartbeatLoop(hbStop, d.cfg.ProcTab.Heartbeat.D())
	}()
	d.slot.SetState(proctab.Running)
	err := d.Sender.Main()
	d.slot.SetState(proctab.Stopping)
	close(hbStop)
	wg.Wait()
	if err == nil {
		queues.SaveOnStop(d.cfg, d.o.Queue, d.log)
	}
	return err
}

func (d *owned) Exit() {
	d.slot.SetState(proctab.Stopping)
	d.Sender.Exit()
}

func (d *owned) close() {
	d.once.Do(func() {
		var errs []error
		if d.slot != nil {
			d.slot.Release()
		}
		for i := len(d.closers) - 1; i >= 0; i-- {
			errs = append(errs, d.closers[i]())
		}
		if err := errors.Join(errs...); err != nil {
			d.log.Warn("closing", zap.Error(err))
		}
	})
}
