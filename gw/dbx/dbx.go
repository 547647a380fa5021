package dbx

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
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// Options configure a DBX. From New on, the DBX owns In, RPT and Store and
// closes them when Main returns (or in Exit when Main never ran).
type Options struct {
	// Config gives [dbx] (fetch count, max wait, retry, sweep interval),
	// timeouts.report, the senders (their carriers, for PNX), the DBX
	// queue's save_on_stop and paths.var (the rejects file).
	Config *config.Config
	Log    *zap.Logger
	// Store is the database.
	Store *store.Store
	// In is the DBX queue, opened as its consumer
	// (queues.OpenConsumer(cfg, "DBX", log)).
	In queue.Queue
	// RPT is the RPT queue, opened as a producer (queues.Open(cfg, "RPT",
	// log)).
	RPT queue.Queue
	// Table, when set, gets a "dbx" slot with heartbeat, counters and the
	// last error.
	Table *proctab.Table
	// Closers run after the queues and the store are closed (FromEnv's
	// process table).
	Closers []func() error
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OpTimeout bounds each database call (default 30 s): a database that
	// hangs instead of refusing counts as down, and the call is retried.
	OpTimeout time.Duration
	// RejectsPath is where records the database refuses for good are set
	// aside (default paths.var/dbx.rejects).
	RejectsPath string
}

// Stats are dbx's counters since it started.
type Stats struct {
	In       uint64 // records taken from DBX (redeliveries included)
	Applied  uint64 // events in committed transactions
	Batches  uint64 // committed batches
	Reports  uint64 // RPT records put
	Expired  uint64 // messages ended with 3004 by the sweep
	Rejected uint64 // records set aside (undecodable, or refused by the database for good)
	Outages  uint64 // database outages seen (one per outage, not per retry)
}

// DBX is the history writer daemon.
type DBX struct {
	opts Options
	log  *zap.Logger
	now  func() time.Time
	st   *store.Store
	in   queue.Queue
	rpt  queue.Queue
	slot *proctab.Slot

	cfg  atomic.Pointer[config.Config]
	stop chan struct{}
	done chan struct{}

	stopOnce  sync.Once
	closeOnce sync.Once
	running   atomic.Bool

	// State of the loop's goroutine only.
	rptBuf     [][]byte
	toCommit   uint64 // DBX position applied and not yet committed
	haveCommit bool
	lastCommit time.Time
	unmarked   []string // GW_IDs put on RPT and not yet MarkReported
	lastMark   time.Time
	nextSweep  time.Time
	outage     outage

	stats struct {
		in, applied, batches, reports, expired, rejected, outages atomic.Uint64
	}
}

// New checks opts and returns a DBX; Main runs it.
func New(o Options) (*DBX, error) {
	if o.Config == nil || o.Store == nil || o.In == nil || o.RPT == nil {
		return nil, errors.New("dbx: Options.Config, Store, In and RPT are required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 30 * time.Second
	}
	if o.RejectsPath == "" {
		o.RejectsPath = filepath.Join(o.Config.Paths.Var, "dbx.rejects")
	}
	d := &DBX{opts: o, log: o.Log, now: o.Now, st: o.Store, in: o.In, rpt: o.RPT,
		stop: make(chan struct{}), done: make(chan struct{})}
	d.cfg.Store(o.Config)
	return d, nil
}

// ReloadConfig takes a new configuration on SIGHUP (daemon.ConfigReloader):
// fetch count, max wait, retry times, sweep interval, report timeout and the
// senders' carriers take effect at the next batch. The database and the
// queues are not reopened: changing them needs a restart.
func (d *DBX) ReloadConfig(c *config.Config) error {
	if c.Database.DSN != d.cfg.Load().Database.DSN {
		d.log.Warn("database.dsn changed: takes effect at the next restart of dbx")
	}
	d.cfg.Store(c)
	d.log.Info("configuration reloaded", zap.Int("fetch_count", c.DBX.FetchCount),
		zap.Duration("max_wait", c.DBX.MaxWait.D()), zap.Duration("report_timeout", c.Timeouts.Report.D()))
	return nil
}

// Stats returns the counters.
func (d *DBX) Stats() Stats {
	return Stats{In: d.stats.in.Load(), Applied: d.stats.applied.Load(), Batches: d.stats.batches.Load(),
		Reports: d.stats.reports.Load(), Expired: d.stats.expired.Load(), Rejected: d.stats.rejected.Load(),
		Outages: d.stats.outages.Load()}
}

// Main runs dbx until Exit, or until a queue fails in a way it cannot go on
// from (then it returns the error and the process exits 1 for m1check to
// restart it; nothing taken and not committed is lost).
func (d *DBX) Main() error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("dbx: Main called twice")
	}
	defer close(d.done)
	defer d.close()
	var wg sync.WaitGroup
	hbStop := make(chan struct{})
	if d.opts.Table != nil {
		s, err := d.opts.Table.Register("dbx", "dbx")
		if err != nil {
			return fmt.Errorf("dbx: process table: %w", err)
		}
		d.slot = s
		s.SetState(proctab.Running)
		defer s.Release()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.HeartbeatLoop(hbStop, d.cfg.Load().ProcTab.Heartbeat.D())
		}()
	}
	defer wg.Wait()
	defer close(hbStop)
	err := d.start()
	if err == nil {
		c := d.cfg.Load()
		d.log.Info("dbx running", zap.String("database", d.st.Dialect()), zap.Int("fetch_count", c.DBX.FetchCount),
			zap.Duration("max_wait", c.DBX.MaxWait.D()), zap.Duration("report_timeout", c.Timeouts.Report.D()))
		err = d.runLoop()
	}
	if d.slot != nil {
		d.slot.SetState(proctab.Stopping)
	}
	if errors.Is(err, errStopped) {
		err = nil
	}
	if err == nil {
		err = d.commit() // what was applied, even when a later batch was not
	}
	if err == nil {
		d.flushMarks()
		queues.SaveOnStop(d.cfg.Load(), d.in, d.log)
	}
	return err
}

// Exit stops dbx in the stop order of gw/daemon and returns once Main has
// returned: no new batch is taken; the batch in the database is finished,
// its REPORTs queued and its records committed (unless the database is
// down: then, like a batch taken and not yet applied, it stays uncommitted
// and is delivered again at the next start);
// the DBX ring is saved to its file part when save_on_stop is set; the
// queues are closed and the slot released.
func (d *DBX) Exit() {
	d.stopOnce.Do(func() { close(d.stop) })
	if d.running.Load() {
		<-d.done
	} else if d.running.CompareAndSwap(false, true) {
		d.close()
	}
}

// errStopped ends the loop when Exit was called while waiting.
var errStopped = errors.New("dbx: stopped")

func (d *DBX) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// sleep waits for dur or until Exit; false when stopping.
func (d *DBX) sleep(dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-d.stop:
		return false
	case <-t.C:
		return true
	}
}

func (d *DBX) close() {
	d.closeOnce.Do(func() {
		_ = d.in.Close()
		_ = d.rpt.Close()
		_ = d.st.Close()
		for _, c := range d.opts.Closers {
			_ = c()
		}
	})
}
