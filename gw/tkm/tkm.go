package tkm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/queue"
)

// File name suffixes in the spool directory. Part of the format.
const (
	SuffixDone    = ".done"
	SuffixResult  = ".result"
	SuffixPending = ".pending"
	suffixTmp     = ".tmp"
	DoneDir       = "done"
	ErrorDir      = "error"
)

// Options configure a Tkm. Config and Lanes are required.
type Options struct {
	// Config gives [tkm_files], timeouts.validity and the text limits of
	// [eai_lsnr].
	Config *config.Config
	Log    *zap.Logger
	// Lanes are the distributor's queues by JOB_CLASS ('R', 'S', 'B'),
	// owned by the caller.
	Lanes map[byte]queue.Queue
	// Dup is the shared duplicate index, read only: with it a resume
	// recognises records of an interrupted batch that dist already took
	// (package doc). nil: only the lanes are looked at.
	Dup DupIndex
	// Table is the process table; nil: not published.
	Table *proctab.Table
	// SpoolDir overrides tkm_files.spool_dir.
	SpoolDir string
	// Node is the GW_ID node number (0..99); default 3.
	Node int
	// Batch is the most records queued per step; default 256.
	Batch int
	// LogEvery is how many records go between progress lines; default
	// 10,000.
	LogEvery int
	// PutTimeout bounds one PutBatch; default 1 s.
	PutTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Tkm is tkm_files.
type Tkm struct {
	opts     Options
	log      *zap.Logger
	ids      *msg.IDGen
	lim      msg.Limits
	validity time.Duration
	poll     time.Duration
	spool    string
	slot     *proctab.Slot

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	running  atomic.Bool

	stats struct{ files, records, queued, refused, resumed, requeued atomic.Uint64 }
}

// Stats are tkm_files' counters.
type Stats struct {
	Files    uint64 // files finished (done/ or error/)
	Records  uint64 // records read
	Queued   uint64 // records queued
	Refused  uint64 // records refused (result code not 0000)
	Resumed  uint64 // records of an interrupted batch found queued at resume (not put again)
	Requeued uint64 // records of an interrupted batch found not queued at resume, queued then
}

// testHookAfterPut, when set by a test, runs after a batch's put on each
// lane (the last one is followed by the result lines): the crash test
// widens the window between the puts and the result lines so that its
// kills land in it, between two lanes as well as after all three.
var testHookAfterPut func(lane byte)

// errStopped is returned inside a file's processing when Exit cut it short.
var errStopped = errors.New("tkm: stopped")

// New returns a Tkm; Main runs it.
func New(o Options) (*Tkm, error) {
	if o.Config == nil {
		return nil, errors.New("tkm: Options.Config is required")
	}
	for _, jc := range []byte{'R', 'S', 'B'} {
		if o.Lanes[jc] == nil {
			return nil, fmt.Errorf("tkm: missing lane queue for JOB_CLASS %c", jc)
		}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Dup == nil {
		o.Log.Warn("no duplicate index: a resume after a kill recognises only the records still in the lanes")
	}
	if o.SpoolDir == "" {
		o.SpoolDir = o.Config.TkmFiles.SpoolDir
	}
	if o.Node == 0 {
		o.Node = 3
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 10000
	}
	if o.PutTimeout <= 0 {
		o.PutTimeout = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ids, err := msg.NewIDGen(o.Node)
	if err != nil {
		return nil, fmt.Errorf("tkm: %w", err)
	}
	l := o.Config.Listener
	t := &Tkm{opts: o, log: o.Log, ids: ids, spool: o.SpoolDir,
		lim:      msg.Limits{SMSText: l.SMSMax, LMSText: l.LMSMax, Subject: l.SubjectMax},
		validity: o.Config.Timeouts.Validity.D(), poll: o.Config.TkmFiles.PollInterval.D(),
		stop: make(chan struct{}), done: make(chan struct{})}
	if t.lim.SMSText == 0 {
		t.lim.SMSText = 90
	}
	if t.lim.LMSText == 0 {
		t.lim.LMSText = 2000
	}
	if t.lim.Subject == 0 {
		t.lim.Subject = 40
	}
	if t.validity <= 0 {
		t.validity = 24 * time.Hour
	}
	if t.poll <= 0 {
		t.poll = 2 * time.Second
	}
	for _, d := range []string{t.spool, filepath.Join(t.spool, DoneDir), filepath.Join(t.spool, ErrorDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("tkm: spool: %w", err)
		}
	}
	return t, nil
}

// Stats returns the counters.
func (t *Tkm) Stats() Stats {
	return Stats{Files: t.stats.files.Load(), Records: t.stats.records.Load(), Queued: t.stats.queued.Load(),
		Refused: t.stats.refused.Load(), Resumed: t.stats.resumed.Load(), Requeued: t.stats.requeued.Load()}
}

// Main watches the spool directory until Exit.
func (t *Tkm) Main() error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("tkm: Main called twice")
	}
	defer close(t.done)
	if t.opts.Table != nil {
		slot, err := t.opts.Table.Register("tkm_files", "tkm_files")
		if err != nil {
			return fmt.Errorf("tkm: process table: %w", err)
		}
		t.slot = slot
		slot.SetState(proctab.Running)
		var hb sync.WaitGroup
		hb.Add(1)
		go func() {
			defer hb.Done()
			slot.HeartbeatLoop(t.stop, t.opts.Config.ProcTab.Heartbeat.D())
		}()
		defer func() {
			hb.Wait()
			slot.Release()
		}()
	}
	t.log.Info("tkm_files running", zap.String("spool", t.spool), zap.Duration("poll_interval", t.poll))
	t.watchLoop()
	if t.slot != nil {
		t.slot.SetState(proctab.Stopping)
	}
	t.log.Info("tkm_files stopped")
	return nil
}

// Exit stops at the end of the current batch and returns once Main has.
func (t *Tkm) Exit() {
	t.stopOnce.Do(func() { close(t.stop) })
	if t.running.Load() {
		<-t.done
	}
}

func (t *Tkm) stopping() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// watchLoop looks at the spool directory every poll interval and takes
// every complete file it finds.
func (t *Tkm) watchLoop() {
	for {
		for _, name := range t.ready() {
			if t.stopping() {
				return
			}
			t.take(name)
		}
		tm := time.NewTimer(t.poll)
		select {
		case <-t.stop:
			tm.Stop()
			return
		case <-tm.C:
		}
	}
}

// ready lists the data files whose marker exists, in name order.
func (t *Tkm) ready() []string {
	ents, err := os.ReadDir(t.spool)
	if err != nil {
		t.log.Error("spool directory unreadable", zap.String("spool", t.spool), zap.Error(err))
		return nil
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, SuffixDone) || strings.HasPrefix(n, ".") {
			continue
		}
		if base := strings.TrimSuffix(n, SuffixDone); isDataName(base) {
			names = append(names, base)
		}
	}
	sort.Strings(names)
	return names
}

func isDataName(n string) bool {
	if n == "" || strings.HasPrefix(n, ".") {
		return false
	}
	for _, s := range []string{SuffixDone, SuffixResult, SuffixPending, suffixTmp} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	return true
}
