package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
)

// clientSim is a client system as a bank would write one: it reconnects
// when the gateway goes away, sends again what was not answered (the
// gateway's duplicate check makes that safe), retries on busy, and keeps
// every REPORT it is sent. It counts what PROTOCOL.md lets a client know.
type clientSim struct {
	addr, id, password, callback string
	class                        byte
	prefix                       string

	mu        sync.Mutex
	acked     map[string]string // MSG_KEY → GW_ID of its SUBMIT_RESP 0000
	unsure    map[string]bool   // answered 1201 after a resend: stored by an earlier try, or not
	refused   map[telegram.Code]int
	reports   map[string]int // MSG_KEY → REPORTs received
	reconnect int
}

func newClientSim(addr, id, password, callback string, class byte, prefix string) *clientSim {
	return &clientSim{addr: addr, id: id, password: password, callback: callback, class: class, prefix: prefix,
		acked: map[string]string{}, unsure: map[string]bool{}, refused: map[telegram.Code]int{}, reports: map[string]int{}}
}

func (c *clientSim) onReport(_ uint32, r telegram.Report) {
	c.mu.Lock()
	c.reports[r.MsgKey]++
	c.mu.Unlock()
}

// dial connects and binds, retrying until ctx ends.
func (c *clientSim) dial(ctx context.Context) (*client.Client, error) {
	for {
		cl, err := client.Dial(c.addr, client.Options{Window: 8, OnReport: c.onReport, DialTimeout: time.Second})
		if err == nil {
			code, berr := cl.Bind(ctx, c.id, c.password)
			if berr == nil && code == telegram.OK {
				return cl, nil
			}
			cl.Close()
			if berr == nil {
				return nil, fmt.Errorf("BIND %s: %s", c.id, code)
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		c.mu.Lock()
		c.reconnect++
		c.mu.Unlock()
	}
}

// run sends n messages over conns connections.
func (c *clientSim) run(ctx context.Context, n, conns int) error {
	keys := make(chan string)
	go func() {
		defer close(keys)
		for i := 0; i < n; i++ {
			select {
			case keys <- fmt.Sprintf("%s%d", c.prefix, i):
			case <-ctx.Done():
				return
			}
		}
	}()
	errc := make(chan error, conns)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- c.worker(ctx, keys, w)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *clientSim) worker(ctx context.Context, keys <-chan string, w int) error {
	var cl *client.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	for key := range keys {
		sub := telegram.Submit{MsgKey: key, MsgType: 'S', JobClass: c.class, Callback: c.callback,
			Dest: fmt.Sprintf("010%08d", rng.IntN(100000000)), Text: "M1 e2e " + key}
		if rng.IntN(5) == 0 {
			sub.MsgType, sub.Subject, sub.Text = 'L', "e2e", "M1 e2e long message "+key
		}
		resent := false
		for {
			if cl == nil {
				var err error
				if cl, err = c.dial(ctx); err != nil {
					return err
				}
			}
			code, resp, err := cl.Submit(ctx, &sub)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				cl.Close()
				cl, resent = nil, true
				continue
			}
			if code == telegram.ErrBusy || code == telegram.ErrTPS {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			c.mu.Lock()
			switch {
			case code == telegram.OK:
				c.acked[key] = resp.GWID
			case code == telegram.ErrDuplicate && resent:
				c.unsure[key] = true
			default:
				c.refused[code]++
			}
			c.mu.Unlock()
			break
		}
	}
	return nil
}

// waitReports keeps one connection bound (reconnecting when it drops) until
// every acknowledged message has its REPORT or the timeout passes.
func (c *clientSim) waitReports(ctx context.Context, timeout time.Duration) (missing int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cl *client.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for {
		missing = c.missingReports()
		if missing == 0 {
			return 0
		}
		if cl == nil {
			var err error
			if cl, err = c.dial(ctx); err != nil {
				return c.missingReports()
			}
		}
		select {
		case <-ctx.Done():
			return c.missingReports()
		case <-cl.Done():
			cl.Close()
			cl = nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *clientSim) missingReports() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k := range c.acked {
		if c.reports[k] == 0 {
			n++
		}
	}
	return n
}

// counts returns acknowledged, unsure, REPORTs received in all, and
// REPORTs received more than once.
func (c *clientSim) counts() (acked, unsure, reports, repeated int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.reports {
		reports += n
		if n > 1 {
			repeated += n - 1
		}
	}
	return len(c.acked), len(c.unsure), reports, repeated
}
