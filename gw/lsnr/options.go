package lsnr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// FutureStore keeps messages whose RESERVE_TIME is in the future: T41 rows
// with STATUS 1 that sch sends when their time comes. *store.Store
// implements it. InsertT41 must return only once the rows are committed, and
// an error wrapping store.ErrDuplicate for a CLIENT_ID and MSG_KEY that T41
// already holds.
type FutureStore interface {
	InsertT41(ctx context.Context, rows []store.T41Row) error
}

// Options configure a Listener. Config, Log, Lanes and Dup are required;
// everything else has a default.
type Options struct {
	// Config is the configuration in force at start (ReloadConfig replaces
	// it later).
	Config *config.Config
	// Log receives every connection's lifecycle and every refusal.
	Log *zap.Logger

	// Lanes are the distributor's queues by JOB_CLASS: 'R' DIST.R,
	// 'S' DIST.S, 'B' DIST.B. The caller owns them (opens and closes).
	Lanes map[byte]queue.Queue
	// RPT is the report queue this listener consumes; nil: no reports
	// (tests and benchmarks of the intake only). Owned by the caller.
	RPT queue.Queue
	// DBX is the history queue (a producer's handle will do), read by the
	// intake brake (brake.go); nil: no brake. Owned by the caller.
	DBX queue.Queue
	// Dup is the shared duplicate index. Owned by the caller.
	Dup *dupindex.Index
	// Future stores messages with a future RESERVE_TIME; nil: such
	// SUBMITs are refused with 1003 (no durable home for them).
	Future FutureStore

	// Ports overrides Config.Listener.Ports (tests listen on
	// 127.0.0.1:0). Dedicated ports are matched against dedicated.conf by
	// the port actually bound.
	Ports []config.Port
	// ReportDir holds the pending report files, one per client; default
	// <var>/lsnr/reports.
	ReportDir string
	// Node is this process's GW_ID node number (0..99, unique among the
	// processes that make GW_IDs); default 1.
	Node int
	// WriteTimeout bounds each flush to a client; a client whose socket
	// stays full this long is disconnected. Default 10 s.
	WriteTimeout time.Duration
	// PutTimeout bounds a lane's PutBatch; what is not stored within it is
	// answered 2001. Default 200 ms.
	PutTimeout time.Duration
	// DrainTimeout bounds how long a stop waits for a connection's owed
	// responses. Default 5 s.
	DrainTimeout time.Duration
	// ReportWindow is the most REPORTs unanswered on one connection;
	// default 64.
	ReportWindow int
	// Batch is the most records of one PutBatch; default 256.
	Batch int
}

// ErrNoLane is returned by New when a DIST lane queue is missing.
var ErrNoLane = errors.New("lsnr: missing lane queue")

// jobClasses are the JOB_CLASS values, one lane each.
var jobClasses = [...]byte{'R', 'S', 'B'}

func (o *Options) fill() error {
	if o.Config == nil {
		return errors.New("lsnr: Options.Config is required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Dup == nil {
		return errors.New("lsnr: Options.Dup is required")
	}
	for _, jc := range jobClasses {
		if o.Lanes[jc] == nil {
			return fmt.Errorf("%w for JOB_CLASS %c", ErrNoLane, jc)
		}
	}
	if len(o.Ports) == 0 {
		o.Ports = o.Config.Listener.Ports
	}
	if len(o.Ports) == 0 {
		return errors.New("lsnr: no listening ports configured")
	}
	if o.ReportDir == "" {
		o.ReportDir = filepath.Join(o.Config.Path(o.Config.Paths.Var), "lsnr", "reports")
	}
	if o.Node == 0 {
		o.Node = 1
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PutTimeout <= 0 {
		o.PutTimeout = 200 * time.Millisecond
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Second
	}
	if o.ReportWindow <= 0 {
		o.ReportWindow = 64
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	return nil
}

// settings are the values of the configuration the hot path reads, derived
// once per configuration.
type settings struct {
	cfg          *config.Config
	limits       config.Listener
	lim          limitsT
	bindTimeout  time.Duration
	linkInterval time.Duration
	idleTimeout  time.Duration
	maxPipeline  int
	validity     time.Duration
	brakeFill    int // percent of DBX's ring; 0: no brake
	brakeWait    time.Duration
}

func newSettings(c *config.Config) *settings {
	l := c.Listener
	s := &settings{cfg: c, limits: l,
		bindTimeout: l.BindTimeout.D(), linkInterval: l.LinkInterval.D(), idleTimeout: l.IdleTimeout.D(),
		maxPipeline: l.MaxPipeline, validity: c.Timeouts.Validity.D(),
		brakeFill: l.BrakeDBXFill, brakeWait: l.BrakeWait.D()}
	s.lim = limitsT{SMSText: l.SMSMax, LMSText: l.LMSMax, Subject: l.SubjectMax}
	if s.lim.SMSText == 0 {
		s.lim.SMSText = 90
	}
	if s.lim.LMSText == 0 {
		s.lim.LMSText = 2000
	}
	if s.lim.Subject == 0 {
		s.lim.Subject = 40
	}
	if s.bindTimeout <= 0 {
		s.bindTimeout = 10 * time.Second
	}
	if s.linkInterval <= 0 {
		s.linkInterval = 30 * time.Second
	}
	if s.idleTimeout <= 0 {
		s.idleTimeout = 90 * time.Second
	}
	if s.maxPipeline <= 0 || s.maxPipeline > 64 {
		s.maxPipeline = 64
	}
	return s
}

// tpsOf is the client's TPS limit: its own, else the listener's default.
func (s *settings) tpsOf(client string) int {
	if cl, ok := s.cfg.Clients.Get(client); ok && cl.TPS > 0 {
		return cl.TPS
	}
	if s.limits.DefaultTPS > 0 {
		return s.limits.DefaultTPS
	}
	return 100
}
