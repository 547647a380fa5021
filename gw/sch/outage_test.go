package sch

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m1gw/m1/gw/store"
)

// proxy is a TCP relay to PostgreSQL on 127.0.0.1 that can be taken down
// (listener closed, every connection cut) and brought up again on the same
// address: a database outage as sch sees it.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go p.acceptLoop(ln)
}

func (p *proxy) acceptLoop(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.copyLoop(c, s)
		go p.copyLoop(s, c)
	}
}

func (p *proxy) copyLoop(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) up() {
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseOutage: sch started while PostgreSQL is unreachable waits it
// out without crashing, logs the outage once and its end once, queues the
// due rows once it is back, and survives a second outage the same way.
func TestDatabaseOutage(t *testing.T) {
	dsn := pgSchemaDSN(t)
	if !strings.Contains(dsn, "127.0.0.1:5432") {
		t.Skip("the outage test relays 127.0.0.1:5432; M1_TEST_PG points elsewhere")
	}
	_, cfg := home(t, "poll_interval = \"20ms\"\nbatch = 500\nreclaim_after = \"5m\"")
	direct := openStore(t, dsn)
	px := newProxy(t, "127.0.0.1:5432")
	px.down()
	viaProxy, err := store.Open(store.Options{DSN: strings.Replace(dsn, "127.0.0.1:5432", px.addr, 1) + "&connect_timeout=2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = viaProxy.Close() })
	core, logs := observer.New(zapcore.InfoLevel)
	sk := newSink(t, cfg, direct, false)
	insert(t, direct, dueRows(100, "OUT", time.Now().Add(-time.Minute)))
	s := runSch(t, Options{Config: cfg, Log: zap.New(core), Store: viaProxy, Lanes: openLanes(t, cfg),
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	time.Sleep(600 * time.Millisecond)
	if got := logs.FilterMessageSnippet("database unavailable").Len(); got != 1 {
		t.Fatalf("outage logged %d times, want once: %v", got, logs.All())
	}
	if s.Stats().Errors < 3 || sk.count() != 0 {
		t.Fatalf("during the outage: %+v, %d queued", s.Stats(), sk.count())
	}
	px.up()
	waitFor(t, 20*time.Second, "rows after the outage", func() bool { return sk.count() == 100 })
	if got := logs.FilterMessageSnippet("database back").Len(); got != 1 {
		t.Fatalf("end of outage logged %d times", got)
	}
	px.down()
	insert(t, direct, dueRows(50, "OUT2", time.Now().Add(-time.Minute)))
	time.Sleep(500 * time.Millisecond)
	px.up()
	waitFor(t, 20*time.Second, "rows after the second outage", func() bool { return sk.count() == 150 })
	if a, b := logs.FilterMessageSnippet("database unavailable").Len(), logs.FilterMessageSnippet("database back").Len(); a != 2 || b != 2 {
		t.Fatalf("two outages logged as %d starts and %d ends", a, b)
	}
}
