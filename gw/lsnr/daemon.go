package lsnr

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// Process is eai_lsnr as cmd/eai_lsnr runs it: a Listener with the
// configured queues, the duplicate index and the store opened for it, and
// closed after it stopped (stop order steps 4-5 of gw/daemon).
type Process struct {
	*Listener
	closers *daemon.Closers

	// The process table slot: scripts wait for "running" there, and
	// m1status shows it.
	slot      *proctab.Slot
	heartbeat time.Duration
	hbStop    chan struct{}
	hbWG      sync.WaitGroup
	hbOnce    sync.Once

	// RPT is saved to its file part on a clean stop (save_on_stop), once,
	// by whichever of Main and Exit gets there first.
	rpt      queue.Queue
	cfg      *config.Config
	log      *zap.Logger
	saveOnce sync.Once
}

// FromEnv builds the eai_lsnr daemon from its configuration:
// DIST.R/S/B through gw/queues (with their spill/reject policies), RPT as
// its consumer, DBX as a producer (read by the intake brake), the
// duplicate index at eai_lsnr.dup_index, and the store for future
// RESERVE_TIMEs.
func FromEnv(env *daemon.Env) (daemon.Daemon, error) {
	cfg := env.Config.Get()
	log := env.Log.Logger
	p := &Process{closers: daemon.NewClosers("queues, index, store and process table", log)}
	fail := func(err error) (daemon.Daemon, error) {
		p.closers.Close()
		return nil, err
	}
	lanes, err := queues.OpenLanes(cfg, log, p.closers.Add)
	if err != nil {
		return fail(err)
	}
	rpt, err := queues.OpenConsumer(cfg, config.QueueRPT, log)
	if err != nil {
		return fail(fmt.Errorf("queue %s: %w", config.QueueRPT, err))
	}
	p.closers.Add(rpt.Close)
	p.rpt, p.cfg, p.log = rpt, cfg, log
	// DBX as a producer, only to read its depth (the intake brake). The
	// brake is not worth refusing to listen for: a DBX that cannot be
	// opened (say its geometry changed in m1.toml and the old segment is
	// still there; dbx will refuse it loudly) turns the brake off.
	var dbx queue.Queue
	if q, err := queues.Open(cfg, config.QueueDBX, log); err != nil {
		log.Warn("intake brake off: DBX cannot be opened", zap.Error(err))
	} else {
		dbx = q
		p.closers.Add(q.Close)
	}
	dup, err := dupindex.Open(dupindex.Options{Path: cfg.Path(cfg.Listener.DupIndex),
		Window: cfg.Timeouts.DuplicateWindow.D(), Logger: log})
	if err != nil {
		return fail(fmt.Errorf("duplicate index: %w", err))
	}
	p.closers.Add(dup.Close)
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, Logger: log})
	if err != nil {
		return fail(fmt.Errorf("store: %w", err))
	}
	p.closers.Add(st.Close)
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		return fail(fmt.Errorf("process table: %w", err))
	}
	p.closers.Add(tab.Close)
	slot, err := tab.Register("eai_lsnr", "eai_lsnr")
	if err != nil {
		return fail(fmt.Errorf("process table: %w", err))
	}
	p.closers.Add(func() error { slot.Release(); return nil })
	p.slot, p.heartbeat, p.hbStop = slot, cfg.ProcTab.Heartbeat.D(), make(chan struct{})
	l, err := New(Options{Config: cfg, Log: log, Lanes: lanes, RPT: rpt, DBX: dbx, Dup: dup, Future: st,
		Node: cfg.GWIDNode(config.SlotListener)})
	if err != nil {
		return fail(err)
	}
	p.Listener = l
	return p, nil
}

// Exit stops the listener, then closes what FromEnv opened.
func (p *Process) Exit() {
	p.slot.SetState(proctab.Stopping)
	p.Listener.Exit()
	p.stopHeartbeat()
	p.saveRPT()
	p.closers.Close()
}

// Main serves until Exit. The ports are bound by New, so the process is
// running in the table from the start of Main.
func (p *Process) Main() error {
	p.slot.SetState(proctab.Running)
	p.hbWG.Add(1)
	go func() { defer p.hbWG.Done(); p.slot.HeartbeatLoop(p.hbStop, p.heartbeat) }()
	err := p.Listener.Main()
	p.slot.SetState(proctab.Stopping)
	p.stopHeartbeat()
	if err == nil {
		p.saveRPT()
	}
	p.closers.Close()
	return err
}

// saveRPT moves what RPT's ring holds to its file part (save_on_stop),
// once the listener has stopped taking from it; once.
func (p *Process) saveRPT() {
	p.saveOnce.Do(func() { queues.SaveOnStop(p.cfg, p.rpt, p.log) })
}

// stopHeartbeat stops the heartbeat loop and waits for it; once.
func (p *Process) stopHeartbeat() {
	p.hbOnce.Do(func() {
		if p.hbStop != nil {
			close(p.hbStop)
			p.hbWG.Wait()
		}
	})
}
