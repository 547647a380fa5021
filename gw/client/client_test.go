package client

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/telegram"
)

// fakeServer is a tiny gateway over real TCP: it binds one password,
// answers SUBMITs in batches in reverse order (so responses come out of
// order), sends a REPORT for each accepted message, and counts REPORT_RESPs.
type fakeServer struct {
	t          *testing.T
	ln         net.Listener
	wg         sync.WaitGroup
	reportResp atomic.Int64
	linkResp   atomic.Int64
	maxOutst   atomic.Int64
	sendLink   bool
	mu         sync.Mutex
	conns      []net.Conn
}

func newFakeServer(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakeServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveLoop(c)
	}
}

func (s *fakeServer) serveLoop(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	r := telegram.NewReader(c, 0)
	var held [][]byte // responses held back to answer out of order
	var out []byte
	gw := 0
	flush := func() {
		for i := len(held) - 1; i >= 0; i-- {
			out = append(out, held[i]...)
		}
		if int64(len(held)) > s.maxOutst.Load() {
			s.maxOutst.Store(int64(len(held)))
		}
		held = held[:0]
		if len(out) > 0 {
			c.Write(out)
			out = out[:0]
		}
	}
	for {
		if r.Buffered() == 0 {
			flush() // nothing more pipelined: answer what we hold
		}
		f, err := r.Next()
		if err != nil {
			return
		}
		h, body, err := telegram.ParseHeader(f)
		if err != nil {
			return
		}
		switch h.Type {
		case telegram.TypeBind:
			b, _ := telegram.DecodeBind(body)
			res := telegram.OK
			if b.Password != "pw" {
				res = telegram.ErrAuth
			}
			out = telegram.AppendEmpty(out, telegram.TypeBindResp, h.Seq, res)
			if s.sendLink {
				out = telegram.AppendEmpty(out, telegram.TypeLink, 77, telegram.OK)
			}
		case telegram.TypeSubmit:
			m, err := telegram.DecodeSubmit(body)
			res := telegram.ResultOf(err)
			if res == telegram.OK {
				res = m.Validate(telegram.DefaultLimits)
			}
			resp := telegram.SubmitResp{MsgKey: m.MsgKey}
			if res == telegram.OK {
				gw++
				resp.GWID = strconv.Itoa(gw)
				rep := telegram.Report{MsgKey: m.MsgKey, GWID: resp.GWID, Carrier: "KT", DoneTime: "20261122000000"}
				held = append(held, rep.Append(nil, uint32(1000+gw)))
			}
			held = append(held, resp.Append(nil, h.Seq, res))
		case telegram.TypeMultiSubmit:
			m, err := telegram.DecodeMultiSubmit(body)
			var resp telegram.MultiSubmitResp
			for i := range m.Dests {
				gw++
				resp.Results = append(resp.Results, telegram.MultiResult{MsgKey: m.Dests[i].MsgKey, GWID: strconv.Itoa(gw), Result: m.ValidateDest(i)})
			}
			out = resp.Append(out, h.Seq, telegram.ResultOf(err))
		case telegram.TypeReportResp:
			s.reportResp.Add(1)
		case telegram.TypeLinkResp:
			s.linkResp.Add(1)
		case telegram.TypeLink:
			out = telegram.AppendEmpty(out, telegram.TypeLinkResp, h.Seq, telegram.OK)
		case telegram.TypeUnbind:
			flush()
			c.Write(telegram.AppendEmpty(nil, telegram.TypeUnbindResp, h.Seq, telegram.OK))
			return
		}
	}
}

func sub(i int) *telegram.Submit {
	return &telegram.Submit{MsgKey: "K" + strconv.Itoa(i), MsgType: 'S', JobClass: 'R', Callback: "15881234", Dest: "01012345678", Text: "hello"}
}

func TestClientPipelinedSubmitsAndReports(t *testing.T) {
	srv := newFakeServer(t)
	srv.sendLink = true
	var reports atomic.Int64
	c, err := Dial(srv.ln.Addr().String(), Options{Logger: zaptest.NewLogger(t), OnReport: func(seq uint32, r telegram.Report) {
		if r.Carrier != "KT" || r.GWID == "" {
			t.Errorf("report %+v", r)
		}
		reports.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if res, err := c.Bind(ctx, "BANK01", "pw"); err != nil || res != telegram.OK {
		t.Fatalf("bind %v %v", res, err)
	}
	const n = 2000
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := 0; g < 100; g++ { // more goroutines than the window
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 100 {
				res, resp, err := c.Submit(ctx, sub(i))
				if err != nil || res != telegram.OK || resp.MsgKey != "K"+strconv.Itoa(i) || resp.GWID == "" {
					t.Errorf("submit %d: %v %+v %v", i, res, resp, err)
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if srv.maxOutst.Load() < 2 {
		t.Errorf("server never saw pipelined requests (max %d)", srv.maxOutst.Load())
	}
	// A rejected submit, and a MULTI_SUBMIT.
	s := sub(0)
	s.Dest = "123"
	if res, _, err := c.Submit(ctx, s); err != nil || res != telegram.ErrDest {
		t.Errorf("bad dest: %v %v", res, err)
	}
	ms := &telegram.MultiSubmit{MsgType: 'S', JobClass: 'S', Callback: "15881234", Text: "x",
		Dests: []telegram.MultiDest{{MsgKey: "M1", Dest: "01011112222"}, {MsgKey: "M2", Dest: "99"}}}
	res, mr, err := c.MultiSubmit(ctx, ms)
	if err != nil || res != telegram.OK || len(mr.Results) != 2 || mr.Results[0].Result != telegram.OK || mr.Results[1].Result != telegram.ErrDest {
		t.Errorf("multi: %v %+v %v", res, mr, err)
	}
	if err := c.Link(ctx); err != nil {
		t.Errorf("link: %v", err)
	}
	if res, err := c.Unbind(ctx); err != nil || res != telegram.OK {
		t.Errorf("unbind: %v %v", res, err)
	}
	if reports.Load() != n {
		t.Errorf("%d reports, want %d", reports.Load(), n)
	}
	// The server saw every REPORT_RESP before UNBIND (they were written first).
	if got := srv.reportResp.Load(); got != n {
		t.Errorf("server got %d REPORT_RESPs, want %d", got, n)
	}
	if srv.linkResp.Load() != 1 {
		t.Errorf("server's LINK answered %d times", srv.linkResp.Load())
	}
	if _, _, err := c.Submit(ctx, sub(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("submit after unbind: %v", err)
	}
}

func TestClientNoReportResp(t *testing.T) {
	srv := newFakeServer(t)
	var got []telegram.Report
	var mu sync.Mutex
	c, err := Dial(srv.ln.Addr().String(), Options{NoReportResp: true, OnReport: func(seq uint32, r telegram.Report) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if res, _ := c.Bind(ctx, "BANK01", "wrong"); res != telegram.ErrAuth {
		t.Errorf("wrong password: %v", res)
	}
	for i := 0; i < 10; i++ {
		if res, _, err := c.Submit(ctx, sub(i)); err != nil || res != telegram.OK {
			t.Fatal(res, err)
		}
	}
	if res, err := c.Unbind(ctx); err != nil || res != telegram.OK {
		t.Fatal(res, err)
	}
	if len(got) != 10 || srv.reportResp.Load() != 0 {
		t.Errorf("%d reports, %d answered; want 10, 0", len(got), srv.reportResp.Load())
	}
}

func TestClientServerGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := Dial(ln.Addr().String(), Options{LinkInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc := <-accepted
	// The client sends LINK when idle.
	sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := telegram.NewReader(sc, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := telegram.ParseHeader(f); h.Type != telegram.TypeLink {
		t.Errorf("idle client sent %v", h.Type)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Submit(context.Background(), sub(1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	sc.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("pending submit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pending submit not failed when the server went away")
	}
	<-c.Done()
	if c.Err() == nil {
		t.Error("Err nil after the connection ended")
	}
}
