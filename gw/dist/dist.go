package dist

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
)

// DupIndex is the part of gw/dupindex dist uses.
type DupIndex interface {
	CheckAndInsert(clientID, msgKey string, now time.Time) (dup bool, err error)
}

// Options configure a Dist.
type Options struct {
	Config *config.Config
	Log    *zap.Logger
	// Open opens a queue by its configured name: gw/queues.OpenConsumer
	// when consumer is set (the lanes, and a second handle of a dead
	// sender's queue to take its backlog back), else gw/queues.Open (DBX
	// and the sender queues dist puts on).
	Open func(name string, consumer bool) (queue.Queue, error)
	// Health tells which senders are up; nil: every sender is up.
	Health SenderHealth
	// Dup is the shared duplicate index; nil: records without DUP_CHECKED
	// go unchecked (logged once at start).
	Dup DupIndex
	// Table, when set, gets a "dist" slot with heartbeat and counters.
	Table *proctab.Table
	// JournalPath is the intent journal; Config.Paths.Var/dist.journal
	// when empty.
	JournalPath string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PNX, when set, is read for the numbers carrier reports revealed as
	// ported (every PNXEvery, and on SIGHUP); they beat etc/pnx.conf.
	PNX PNXSource
	// PNXEvery overrides PNXEvery (tests).
	PNXEvery time.Duration
}

// Stats are dist's counters since it started.
type Stats struct {
	In         uint64 // records taken from lanes
	Sent       uint64 // records put on sender queues
	Finals     uint64 // Final events put on DBX
	Dropped    uint64 // records without a readable GW_ID (logged)
	Rerouted   uint64 // records taken back from a dead sender's queue and sent elsewhere
	Recovered  uint64 // redelivered records found already on a sender queue (not put again)
	FullEvents uint64 // puts that found a sender queue full
}

// Dist is the distributor daemon.
type Dist struct {
	opts Options
	log  *zap.Logger
	now  func() time.Time

	mu       sync.Mutex
	sndQ     map[string]queue.Queue // by queue name
	next     atomic.Pointer[config.Config]
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	running  atomic.Bool
	learned  learnedPNX
	pnxKick  chan struct{}
	pnxWG    sync.WaitGroup

	cfg     *config.Config
	rt      *router
	lanes   [3]*lane
	dbx     queue.Queue
	jr      *journal
	senders []*senderState // parallel to rt.ids
	byID    map[string]*senderState
	up      []bool
	states  []SenderState
	health  time.Time
	reroute time.Time
	slot    *proctab.Slot
	tx      txState

	// recovered maps the GW_ID of a record found on a sender queue after
	// a crash to its sender id, until its redelivered lane record comes.
	recovered map[string]string

	closers []func() error // closed after the queues (FromEnv's index and table)

	stats struct{ in, sent, finals, dropped, rerouted, recovered, full atomic.Uint64 }
}

type senderState struct {
	id        string
	queue     queue.Queue
	qname     string
	fullUntil time.Time
	deadSince time.Time // down (process gone or link down) since; zero while up
}

// The lanes, served in this order.
var laneNames = [3]string{config.QueueDistR, config.QueueDistS, config.QueueDistB}

type lane struct {
	name      string
	q         queue.Queue
	buf       []queue.Record
	pending   []queue.Record
	nextRetry time.Time
	since     int // records of higher lanes served since this lane was served
}

// New opens dist's queues and journal. Main runs it.
func New(o Options) (*Dist, error) {
	if o.Config == nil || o.Open == nil {
		return nil, errors.New("dist: Options.Config and Options.Open are required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JournalPath == "" {
		o.JournalPath = filepath.Join(o.Config.Paths.Var, "dist.journal")
	}
	d := &Dist{opts: o, log: o.Log, now: o.Now, sndQ: map[string]queue.Queue{},
		stop: make(chan struct{}), done: make(chan struct{}), pnxKick: make(chan struct{}, 1), byID: map[string]*senderState{},
		recovered: map[string]string{}}
	if err := d.open(); err != nil {
		d.closeQueues()
		return nil, err
	}
	if o.Dup == nil {
		d.log.Warn("no duplicate index: records without DUP_CHECKED are not checked for duplicates")
	}
	return d, nil
}

func (d *Dist) open() error {
	for i, n := range laneNames {
		q, err := d.opts.Open(n, true)
		if err != nil {
			return fmt.Errorf("dist: open lane %s: %w", n, err)
		}
		d.lanes[i] = &lane{name: n, q: q}
	}
	q, err := d.opts.Open(config.QueueDBX, false)
	if err != nil {
		return fmt.Errorf("dist: open %s: %w", config.QueueDBX, err)
	}
	d.dbx = q
	if err := d.openSenders(d.opts.Config); err != nil {
		return err
	}
	d.jr, err = openJournal(d.opts.JournalPath)
	if err != nil {
		return err
	}
	d.apply(d.opts.Config)
	return nil
}

// openSenders opens the queue of every sender of c not yet open.
func (d *Dist) openSenders(c *config.Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range newRouter(c).queues {
		if _, ok := d.sndQ[name]; ok {
			continue
		}
		q, err := d.opts.Open(name, false)
		if err != nil {
			return fmt.Errorf("dist: open sender queue %s: %w", name, err)
		}
		d.sndQ[name] = q
	}
	return nil
}

// apply puts c in force in the loop's state.
func (d *Dist) apply(c *config.Config) {
	d.cfg = c
	d.rt = newRouter(c)
	d.rt.learned = &d.learned
	d.senders = d.senders[:0]
	d.mu.Lock()
	for i, id := range d.rt.ids {
		st := d.byID[id]
		if st == nil {
			st = &senderState{id: id, deadSince: time.Time{}}
			d.byID[id] = st
		}
		st.qname = d.rt.queues[i]
		st.queue = d.sndQ[st.qname]
		d.senders = append(d.senders, st)
	}
	d.mu.Unlock()
	d.up = make([]bool, len(d.senders))
	d.states = make([]SenderState, len(d.senders))
	d.health = time.Time{}
}

// ReloadConfig takes a new configuration on SIGHUP (daemon.ConfigReloader).
// The files were validated by gw/config already; a sender queue that
// cannot be opened refuses the configuration.
func (d *Dist) ReloadConfig(c *config.Config) error {
	if err := d.openSenders(c); err != nil {
		return err
	}
	d.next.Store(c)
	d.log.Info("configuration reloaded", zap.Int("routes", len(c.Routes.List)), zap.Int("pnx", c.PNX.Len()))
	select { // and read what PNX learned
	case d.pnxKick <- struct{}{}:
	default:
	}
	return nil
}

// Stats returns the counters.
func (d *Dist) Stats() Stats {
	return Stats{In: d.stats.in.Load(), Sent: d.stats.sent.Load(), Finals: d.stats.finals.Load(),
		Dropped: d.stats.dropped.Load(), Rerouted: d.stats.rerouted.Load(), Recovered: d.stats.recovered.Load(),
		FullEvents: d.stats.full.Load()}
}

// Main runs until Exit or a queue failure it cannot continue from.
func (d *Dist) Main() error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("dist: Main called twice")
	}
	defer close(d.done)
	defer d.closeQueues()
	if d.opts.Table != nil {
		s, err := d.opts.Table.Register("dist", "dist")
		if err != nil {
			return fmt.Errorf("dist: process table: %w", err)
		}
		d.slot = s
		s.SetState(proctab.Running)
		defer s.Release()
		// Stamped by its own goroutine: a dist waiting on a full DBX is
		// slow, not dead.
		every := d.cfg.ProcTab.Heartbeat.D()
		if every <= 0 {
			every = time.Second
		}
		hbStop := make(chan struct{})
		var hb sync.WaitGroup
		hb.Add(1)
		go func() { defer hb.Done(); s.HeartbeatLoop(hbStop, every) }()
		defer func() { close(hbStop); hb.Wait() }()
	}
	if d.opts.PNX != nil {
		every := d.opts.PNXEvery
		if every <= 0 {
			every = PNXEvery
		}
		d.pnxWG.Add(1)
		go func() { defer d.pnxWG.Done(); d.pnxLoop(d.opts.PNX, every, d.pnxKick) }()
		// Stopped by close(d.stop): Exit's, or this one when Main returns
		// on an error; waited for before Main returns.
		defer func() {
			d.stopOnce.Do(func() { close(d.stop) })
			d.pnxWG.Wait()
		}()
	}
	if err := d.recover(); err != nil {
		return err
	}
	d.log.Info("dist running", zap.Int("senders", len(d.senders)), zap.Int("routes", len(d.cfg.Routes.List)))
	if err := d.runLoop(); err != nil {
		return err
	}
	// A clean stop, between transactions: the lanes' rings go to their
	// file parts where save_on_stop asks, records waiting for a sender
	// with them (marked Redelivered: the journal and the duplicate index
	// know them as their own at the next start).
	for _, l := range d.lanes {
		if l != nil {
			queues.SaveOnStop(d.cfg, l.q, d.log)
		}
	}
	return nil
}

// Exit stops dist and returns once Main has returned.
func (d *Dist) Exit() {
	d.stopOnce.Do(func() { close(d.stop) })
	if d.running.Load() {
		<-d.done
	} else if d.running.CompareAndSwap(false, true) {
		d.closeQueues()
	}
}

func (d *Dist) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *Dist) closeQueues() {
	for _, l := range d.lanes {
		if l != nil {
			_ = l.q.Close()
		}
	}
	if d.dbx != nil {
		_ = d.dbx.Close()
	}
	d.mu.Lock()
	for _, q := range d.sndQ {
		_ = q.Close()
	}
	d.sndQ = map[string]queue.Queue{}
	d.mu.Unlock()
	if d.jr != nil {
		_ = d.jr.close()
	}
	for _, c := range d.closers {
		_ = c()
	}
	d.closers = nil
}
