package testpg

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy stands between a process under test and PostgreSQL, so that a test
// can take the database away (every connection cut, new ones refused) and
// give it back on the same address.
type Proxy struct {
	t      testing.TB
	Addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// NewProxy listens on a free port of 127.0.0.1 and forwards to target
// ("127.0.0.1:5432" for the test server); it is closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.acceptLoop(ln)
	}()
}

func (p *Proxy) acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // went down meanwhile: this pair must not outlive Down
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipeLoop(c, s)
		go p.pipeLoop(s, c)
	}
}

// pipeLoop copies one direction until either side closes, then closes both.
func (p *Proxy) pipeLoop(from, to net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(to, from)
	from.Close()
	to.Close()
}

// Down cuts every connection and refuses new ones.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Up listens again on the same address, retrying for up to 2 s while the
// port is not yet free.
func (p *Proxy) Up() {
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Errorf("proxy back on %s: %v", p.Addr, err)
}

// Close cuts everything and waits for the proxy's goroutines.
func (p *Proxy) Close() {
	p.Down()
	p.wg.Wait()
}
