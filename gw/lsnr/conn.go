package lsnr

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// conn is one client connection: a reader goroutine (run's own) that
// decodes and checks requests and hands SUBMITs to the lanes, and a writer
// goroutine that sends responses, REPORTs and LINKs and keeps the timers.
//
// Pipelining is bounded by slots: the reader puts a token in before it
// handles a request that is owed a response, the writer takes one out after
// writing a response. With max_pipeline tokens in, the reader stops reading.
// Every sender into out is bounded (responses by slots, REPORTs by the
// report window), so sends into out never block, not even after the writer
// has gone.
type conn struct {
	l    *Listener
	p    *port
	nc   net.Conn
	id   uint64
	ip   netip.Addr
	addr string
	log  *zap.Logger

	dedicatedClient string
	client          string // set once at BIND, before bound
	bucket          *bucket
	bound           atomic.Bool
	stopRead        atomic.Bool

	slots      chan struct{}
	out        chan outMsg
	done       chan struct{}
	writerDone chan struct{}
	killOnce   sync.Once
	why        atomic.Pointer[string]

	started  time.Time
	lastRead atomic.Int64 // unix nanoseconds of the last telegram received

	nSubmit   uint64 // reader only
	nAccepted atomic.Uint64

	// Report state, guarded by the hub's mutex.
	rptSeq      uint32
	rptInFlight int
}

// outMsg is one thing for the writer to send: a SUBMIT_RESP built from its
// job, or a ready frame. release gives back a pipeline slot; closeAfter
// flushes and closes the connection after it.
type outMsg struct {
	job        *job
	frame      []byte
	release    bool
	closeAfter bool
	why        string
}

func newConn(l *Listener, p *port, nc net.Conn) *conn {
	set := l.set.Load()
	c := &conn{l: l, p: p, nc: nc, id: l.nextID.Add(1), addr: nc.RemoteAddr().String(),
		slots: make(chan struct{}, set.maxPipeline), done: make(chan struct{}), writerDone: make(chan struct{}),
		started: time.Now()}
	c.out = make(chan outMsg, set.maxPipeline+l.opts.ReportWindow+8)
	if ap, err := netip.ParseAddrPort(c.addr); err == nil {
		c.ip = ap.Addr().Unmap()
	}
	c.lastRead.Store(c.started.UnixNano())
	c.log = l.log.With(zap.Uint64("conn", c.id), zap.String("addr", c.addr), zap.Int("port", p.number))
	return c
}

// kill closes the connection at once; the first reason given is kept.
func (c *conn) kill(why string) {
	c.killOnce.Do(func() {
		c.why.Store(&why)
		_ = c.nc.Close()
		close(c.done)
	})
}

func (c *conn) reason() string {
	if p := c.why.Load(); p != nil {
		return *p
	}
	return ""
}

// stopReading makes the reader stop at the next telegram boundary (the
// listener is stopping): it answers what it accepted, then closes.
func (c *conn) stopReading() {
	c.stopRead.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

func (c *conn) run() {
	go func() { defer close(c.writerDone); c.writeLoop() }()
	c.readLoop()
	<-c.writerDone
	c.kill("closed")
}

// acquire takes a pipeline slot; false when the connection is gone.
func (c *conn) acquire() bool {
	select {
	case c.slots <- struct{}{}:
		return true
	case <-c.done:
		return false
	}
}

// respond sends a response with a body (nil for none) under a slot the
// caller has acquired.
func (c *conn) respond(t telegram.Type, seq uint32, code telegram.Code, body []byte, closeAfter bool, why string) {
	f := telegram.AppendFrame(make([]byte, 0, telegram.HeaderLen+len(body)), t, seq, code, body)
	c.out <- outMsg{frame: f, release: true, closeAfter: closeAfter, why: why}
}

// refuse answers a request with code and closes the connection.
func (c *conn) refuse(t telegram.Type, seq uint32, code telegram.Code, why string) {
	if !c.acquire() {
		return
	}
	c.log.Warn("refused: "+why, zap.String("client", c.client), zap.Stringer("type", t), zap.Stringer("result", code))
	c.respond(respType(t), seq, code, nil, true, why)
}

// respType is the type of the response to a telegram of type t: its
// response type, or t itself for types that have none.
func respType(t telegram.Type) telegram.Type {
	if r := t.Response(); r != 0 {
		return r
	}
	return t
}

// drain waits until every response owed has been handed to the writer
// (all slots free), then has the writer send last (nil: nothing) and close.
func (c *conn) drain(last []byte, why string) {
	timer := time.NewTimer(c.l.opts.DrainTimeout)
	defer timer.Stop()
	for range cap(c.slots) {
		select {
		case c.slots <- struct{}{}:
		case <-c.done:
			return
		case <-timer.C:
			c.log.Error("responses still owed when the drain timed out; closing", zap.String("client", c.client))
			c.kill(why + " (drain timed out)")
			return
		}
	}
	c.out <- outMsg{frame: last, closeAfter: true, why: why}
}

func (c *conn) readLoop() {
	rd := telegram.NewReader(c.nc, 64<<10)
	for {
		frame, err := rd.Next()
		if err != nil {
			if c.stopRead.Load() {
				c.drain(nil, "listener stopping")
				return
			}
			var le *layout.Error
			if errors.As(err, &le) {
				// A bad LEN: no TYPE or SEQ can be trusted; the
				// response answers no request (TYPE and SEQ zero).
				c.refuse(0, 0, telegram.ErrFraming, "framing error: "+le.Error())
				return
			}
			switch {
			case errors.Is(err, io.EOF):
				c.kill("closed by the client")
			case errors.Is(err, io.ErrUnexpectedEOF):
				c.kill("closed by the client inside a telegram")
			default:
				c.kill("read: " + err.Error())
			}
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if c.stopRead.Load() {
			// A telegram read as the stop came: not accepted, not
			// answered; the client sends it again elsewhere.
			c.drain(nil, "listener stopping")
			return
		}
		h, body, err := telegram.ParseHeader(frame)
		if err != nil {
			code := telegram.ResultOf(err)
			if !c.bound.Load() || code == telegram.ErrFraming {
				c.refuse(h.Type, h.Seq, code, "bad header: "+err.Error())
				return
			}
			if c.acquire() {
				c.respond(respType(h.Type), h.Seq, code, nil, false, "")
			}
			continue
		}
		if !c.bound.Load() {
			if !c.bind(h, body) {
				return
			}
			continue
		}
		if !c.handle(h, body) {
			return
		}
	}
}

// bind handles the first telegram. false: the connection is being closed.
func (c *conn) bind(h telegram.Header, body []byte) bool {
	if h.Type != telegram.TypeBind {
		c.refuse(h.Type, h.Seq, telegram.ErrNotBound, "first telegram is not BIND")
		return false
	}
	b, err := telegram.DecodeBind(body)
	if err != nil {
		c.refuse(h.Type, h.Seq, telegram.ResultOf(err), "BIND undecodable: "+err.Error())
		return false
	}
	if b.Version != 1 {
		c.refuse(h.Type, h.Seq, telegram.ErrField, "BIND version "+strconv.Itoa(b.Version))
		return false
	}
	set := c.l.set.Load()
	if !set.cfg.Clients.Authenticate(b.ClientID, b.Password) {
		c.client = b.ClientID
		c.refuse(h.Type, h.Seq, telegram.ErrAuth, "authentication failed")
		return false
	}
	if c.p.dedicated && b.ClientID != c.dedicatedClient {
		c.client = b.ClientID
		c.refuse(h.Type, h.Seq, telegram.ErrAuth, "client not registered for this address on the dedicated port (registered: "+c.dedicatedClient+")")
		return false
	}
	if !c.acquire() {
		return false
	}
	c.client = b.ClientID
	c.bucket = c.l.tps.get(c.client, set.tpsOf(c.client))
	c.bound.Store(true)
	c.respond(telegram.TypeBindResp, h.Seq, telegram.OK, nil, false, "")
	c.log.Info("bound", zap.String("client", c.client))
	c.l.hub.bind(c)
	return true
}

// handle serves one telegram of a bound connection. false: the connection
// is being closed.
func (c *conn) handle(h telegram.Header, body []byte) bool {
	switch h.Type {
	case telegram.TypeSubmit:
		if !c.acquire() {
			return false
		}
		c.nSubmit++
		return c.submit(h, body)
	case telegram.TypeMultiSubmit:
		if !c.acquire() {
			return false
		}
		return c.multiSubmit(h, body)
	case telegram.TypeReportResp:
		r, err := telegram.DecodeReportResp(body)
		if err != nil {
			c.log.Warn("REPORT_RESP undecodable; the REPORT stays owed", zap.String("client", c.client), zap.Error(err))
			return true
		}
		c.l.hub.ack(c, r.GWID)
		return true
	case telegram.TypeLink:
		if err := telegram.CheckEmpty(h.Type, body); err != nil {
			c.refuse(h.Type, h.Seq, telegram.ErrFraming, "LINK with a body")
			return false
		}
		if !c.acquire() {
			return false
		}
		c.respond(telegram.TypeLinkResp, h.Seq, telegram.OK, nil, false, "")
		return true
	case telegram.TypeLinkResp:
		return true
	case telegram.TypeBind:
		if !c.acquire() {
			return false
		}
		c.log.Warn("refused: BIND on a bound connection", zap.String("client", c.client))
		c.respond(telegram.TypeBindResp, h.Seq, telegram.ErrAlreadyBound, nil, false, "")
		return true
	case telegram.TypeUnbind:
		c.log.Info("UNBIND", zap.String("client", c.client))
		c.drain(telegram.AppendEmpty(nil, telegram.TypeUnbindResp, h.Seq, telegram.OK), "UNBIND")
		return false
	}
	if !c.acquire() {
		return false
	}
	c.log.Warn("refused: unknown or unexpected TYPE", zap.String("client", c.client), zap.Stringer("type", h.Type))
	c.respond(respType(h.Type), h.Seq, telegram.ErrUnknownType, nil, false, "")
	return true
}
