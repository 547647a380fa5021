package sim

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
)

// conn is one client connection to a server.
type conn struct {
	sv   *server
	nc   net.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
	seq  atomic.Uint32
	open atomic.Int64 // submits read and not yet answered
	acct *account     // set by the read loop at login
}

func newConn(sv *server, nc net.Conn) *conn {
	return &conn{sv: sv, nc: nc, out: make(chan []byte, 1024), done: make(chan struct{})}
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
}

// send queues a frame for the write loop; false once the connection is closed.
func (c *conn) send(b []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- b:
		return true
	case <-c.done:
		return false
	}
}

func (c *conn) writeLoop() {
	defer c.sv.sim.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case b := <-c.out:
			if _, err := w.Write(b); err != nil {
				c.close()
				return
			}
			// Drain what is queued; yield once and drain again, so that
			// frames produced by other goroutines (report timers firing
			// together) share one write.
			for pass := 0; pass < 2; pass++ {
				for more := true; more; {
					select {
					case b := <-c.out:
						if _, err := w.Write(b); err != nil {
							c.close()
							return
						}
					default:
						more = false
					}
				}
				if pass == 0 {
					runtime.Gosched()
				}
			}
			if err := w.Flush(); err != nil {
				c.close()
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *conn) encode(p *carrier.PDU) []byte {
	b, err := c.sv.d.Append(make([]byte, 0, 128), p)
	if err != nil {
		c.sv.sim.log.Error("encode", zap.Error(err))
	}
	return b
}

func (c *conn) readLoop() {
	sv, s := c.sv, c.sv.sim
	defer s.wg.Done()
	defer func() {
		c.close()
		sv.mu.Lock()
		delete(sv.conns, c)
		if c.acct != nil {
			sv.links--
		}
		sv.mu.Unlock()
		if c.acct != nil {
			c.acct.detach(c)
		}
	}()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	var p carrier.PDU
	for {
		f, err := carrier.ReadFrame(r, sv.d, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("read", zap.String("server", sv.name), zap.Error(err))
			}
			return
		}
		buf = f[:0]
		if err := sv.d.Decode(f, &p); err != nil {
			s.log.Warn("bad frame", zap.String("server", sv.name), zap.Error(err))
			return
		}
		switch p.Type {
		case carrier.Login:
			if !c.login(&p) {
				return
			}
		case carrier.Submit:
			if c.acct == nil {
				return
			}
			if !c.submit(&p) {
				return
			}
		case carrier.ReportResp:
			if c.acct != nil {
				c.acct.acked(p.MsgID)
			}
		case carrier.Link:
			c.send(c.encode(&carrier.PDU{Type: carrier.LinkResp, Seq: p.Seq}))
		}
	}
}

func (c *conn) login(p *carrier.PDU) bool {
	sv, s := c.sv, c.sv.sim
	ok := c.acct == nil
	if want, known := s.cfg.Accounts[p.Login]; s.cfg.Accounts != nil && (!known || want != p.Password) {
		ok = false
	}
	if time.Now().UnixNano() < sv.refuseUntil.Load() {
		ok = false // down for a while (Refuse)
	}
	code := carrier.SubmitCode(sv.d, carrier.Accepted, 0)
	if !ok {
		code = carrier.SubmitCode(sv.d, carrier.Rejected, 1102)
		s.c.loginsRefused.Add(1)
	}
	c.send(c.encode(&carrier.PDU{Type: carrier.LoginResp, Seq: p.Seq, Result: code}))
	if !ok {
		time.Sleep(10 * time.Millisecond) // let the answer go out first
		return false
	}
	s.c.logins.Add(1)
	a := s.account(sv.d, p.Login)
	sv.mu.Lock()
	sv.logins++
	sv.links++
	c.acct = a
	sv.mu.Unlock()
	a.attach(c)
	return true
}

func (c *conn) submit(p *carrier.PDU) bool {
	sv, s := c.sv, c.sv.sim
	s.c.received.Add(1)
	s.refs.add(p.Ref)
	s.c.noteOpen(c.open.Add(1))
	if s.dropNow() {
		s.c.drops.Add(1)
		return false
	}
	resp := carrier.PDU{Type: carrier.SubmitResp, Seq: p.Seq, Ref: p.Ref}
	if sv.throttle(time.Now()) {
		s.c.throttled.Add(1)
		resp.Result = carrier.SubmitCode(sv.d, carrier.Throttled, 0)
	} else {
		s.c.accepted.Add(1)
		resp.Result = carrier.SubmitCode(sv.d, carrier.Accepted, 0)
		id, cid := sv.msgID()
		resp.MsgID, resp.RelayID = id, s.cfg.RelayID
		idx, delay := s.draw()
		s.c.byCode[idx].Add(1)
		rep := &report{pdu: carrier.PDU{Type: carrier.Report, MsgID: id, Ref: p.Ref, Dest: p.Dest,
			Result: carrier.ReportCode(sv.d, resultCodes[idx]), RelayID: s.cfg.RelayID, CarrierMsgID: cid}}
		if cid != "" {
			rep.pdu.CarrierResult = lgCodes[idx]
		}
		c.acct.schedule(rep, delay)
	}
	b := c.encode(&resp)
	if lat := s.cfg.AckLatency; lat > 0 {
		time.AfterFunc(lat, func() { c.open.Add(-1); c.send(b) })
		return true
	}
	c.open.Add(-1)
	c.send(b)
	return true
}

// lgCodes are LG U+'s own codes the relay forwards, by result.
var lgCodes = [4]string{"1000", "2001", "2002", "2003"}
