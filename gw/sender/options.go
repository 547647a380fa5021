package sender

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/queue"
)

// State is what a sender publishes in the process table (gw/proctab's
// Slot has these methods).
type State interface {
	SetLink(up bool)
	SetWindow(used, size int)
	AddIn(n int)  // records taken from SND.<ID>
	AddOut(n int) // submits answered and their Ack stored on DBX
	AddErr(n int) // submits rejected, undecodable records, link failures
	SetLastError(msg string)
	Heartbeat()
}

type nopState struct{}

func (nopState) SetLink(bool)        {}
func (nopState) SetWindow(int, int)  {}
func (nopState) AddIn(int)           {}
func (nopState) AddOut(int)          {}
func (nopState) AddErr(int)          {}
func (nopState) SetLastError(string) {}
func (nopState) Heartbeat()          {}

// Options configure a sender.
type Options struct {
	ID       string          // KT1, ...: the SENDER of its events
	Carrier  string          // KT, SKT, LGT: the CARRIER of its events
	Dialect  carrier.Dialect // the protocol of its servers
	Servers  []string        // host:port, tried in order
	Login    string
	Password string

	Window         int           // submits unanswered, at most (default 64)
	TPS            int           // submits a second, at most (default 100)
	LinkCheck      time.Duration // link check after this much silence (default 30s)
	ReportTimeout  time.Duration // see the package doc: applied by dbx, not here
	ConnectTimeout time.Duration // dial and login (default 5s)
	ReconnectMin   time.Duration // first wait after every server failed (default 1s)
	ReconnectMax   time.Duration // longest wait, doubling from ReconnectMin (default 30s)
	DrainTimeout   time.Duration // on stop, how long to wait for answers in flight (default 10s)
	RetryDelay     time.Duration // pause after a throttled or temporarily refused submit (default 200ms)

	Queue queue.Queue // SND.<ID>, read by this sender alone
	DBX   queue.Queue // where Ack and Report events go

	// ReleaseAfter: a link down this long makes the sender give its queue
	// up, so that dist routes the backlog to another sender (release.go);
	// Reopen opens the queue again when the link is back. Either unset:
	// the sender keeps its queue however long the link is down.
	ReleaseAfter time.Duration
	Reopen       func() (queue.Queue, error)
	// PutBack hands records back to the distributor at a release (the
	// records taken and not answered: see release.go), in order, and says
	// how many it stored. Nil: they go back to the tail of Queue, which
	// needs room there.
	PutBack func(recs [][]byte) (int, error)
	State   State // the process table slot; nil publishes nothing
	Log     *zap.Logger
}

// OptionsFrom fills the configuration part of Options from a [[sender]]
// section; the caller adds the queues, the state and the logger.
func OptionsFrom(c config.Sender) (Options, error) {
	d, err := carrier.ByName(c.Dialect)
	if err != nil {
		return Options{}, fmt.Errorf("sender %s: %w", c.ID, err)
	}
	return Options{ID: c.ID, Carrier: c.Carrier, Dialect: d, Servers: c.Servers, Login: c.Login, Password: c.Password,
		Window: c.Window, TPS: c.TPS, LinkCheck: c.LinkCheck.D(), ReportTimeout: c.ReportTimeout.D(),
		ConnectTimeout: c.ConnectTimeout.D(), ReconnectMin: c.ReconnectMin.D(), ReconnectMax: c.ReconnectMax.D()}, nil
}

func (o *Options) defaults() error {
	if o.Dialect == nil || len(o.Servers) == 0 || o.Queue == nil || o.DBX == nil {
		return errors.New("sender: options need a dialect, servers, a queue and the DBX queue")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Window <= 0 {
		o.Window = 64
	}
	if o.TPS <= 0 {
		o.TPS = 100
	}
	def(&o.LinkCheck, 30*time.Second)
	def(&o.ConnectTimeout, 5*time.Second)
	def(&o.ReconnectMin, time.Second)
	def(&o.ReconnectMax, 30*time.Second)
	def(&o.DrainTimeout, 10*time.Second)
	def(&o.RetryDelay, 200*time.Millisecond)
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.State == nil {
		o.State = nopState{}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	return nil
}
