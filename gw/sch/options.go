package sch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// Claimer is the part of the store sch uses; *store.Store implements it.
type Claimer interface {
	ClaimDue(ctx context.Context, now time.Time, limit int, reclaimBefore time.Time) ([]store.T41Row, error)
}

// Options configure a Sch. Config, Store and Lanes are required.
type Options struct {
	// Config gives [sch], timeouts.validity and the text limits of
	// [eai_lsnr].
	Config *config.Config
	Log    *zap.Logger
	// Store is T41.
	Store Claimer
	// Lanes are the distributor's queues by JOB_CLASS: 'R' DIST.R, 'S'
	// DIST.S, 'B' DIST.B. Owned by the caller.
	Lanes map[byte]queue.Queue
	// Table is the process table; nil: not published.
	Table *proctab.Table
	// DBX is the DBX queue (a producer's handle will do), looked at for
	// dbx's backlog before rows are claimed again (Sch.dbxBehind); nil:
	// not looked at.
	DBX interface {
		Stat() (queue.Stat, error)
	}
	// Name is the process name in the table; default "sch".
	Name string
	// Node is the GW_ID node number (0..99), unique among the processes
	// that make GW_IDs; default 2.
	Node int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Capacity overrides the lanes' capacity for the backpressure rule;
	// default each lane's Stat().Capacity.
	Capacity int
	// RetryMin and RetryMax bound the backoff while the store fails;
	// default 1 s and 30 s.
	RetryMin, RetryMax time.Duration
	// FullWait is how often a full lane is looked at again; default 5 ms.
	FullWait time.Duration
	// PutTimeout bounds one PutBatch; default 1 s.
	PutTimeout time.Duration
	// ClaimTimeout bounds one claim; default 30 s.
	ClaimTimeout time.Duration
}

// ErrNoLane is returned by New when a lane queue is missing.
var ErrNoLane = errors.New("sch: missing lane queue")

// jobClasses are the JOB_CLASS values, one lane each.
var jobClasses = [...]byte{'R', 'S', 'B'}

func (o *Options) fill() error {
	if o.Config == nil {
		return errors.New("sch: Options.Config is required")
	}
	if o.Store == nil {
		return errors.New("sch: Options.Store is required")
	}
	for _, jc := range jobClasses {
		if o.Lanes[jc] == nil {
			return fmt.Errorf("%w for JOB_CLASS %c", ErrNoLane, jc)
		}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Name == "" {
		o.Name = "sch"
	}
	if o.Node == 0 {
		o.Node = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = 30 * time.Second
		if o.RetryMax < o.RetryMin {
			o.RetryMax = o.RetryMin
		}
	}
	if o.FullWait <= 0 {
		o.FullWait = 5 * time.Millisecond
	}
	if o.PutTimeout <= 0 {
		o.PutTimeout = time.Second
	}
	if o.ClaimTimeout <= 0 {
		o.ClaimTimeout = 30 * time.Second
	}
	return nil
}

// settings are what a poll reads from the configuration.
type settings struct {
	batch    int
	poll     time.Duration
	reclaim  time.Duration
	validity time.Duration
	lim      msg.Limits
}

func newSettings(c *config.Config) settings {
	s := settings{batch: c.Sch.Batch, poll: c.Sch.PollInterval.D(), reclaim: c.Sch.ReclaimAfter.D(),
		validity: c.Timeouts.Validity.D(),
		lim:      msg.Limits{SMSText: c.Listener.SMSMax, LMSText: c.Listener.LMSMax, Subject: c.Listener.SubjectMax}}
	if s.batch <= 0 {
		s.batch = 500
	}
	if s.poll <= 0 {
		s.poll = time.Second
	}
	if s.reclaim <= 0 {
		s.reclaim = 5 * time.Minute
	}
	if s.validity <= 0 {
		s.validity = 24 * time.Hour
	}
	if s.lim.SMSText == 0 {
		s.lim.SMSText = 90
	}
	if s.lim.LMSText == 0 {
		s.lim.LMSText = 2000
	}
	if s.lim.Subject == 0 {
		s.lim.Subject = 40
	}
	return s
}
