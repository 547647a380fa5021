package lsnr

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
)

// TestShortBodyAndSlowSender: LEN 9999 with a short body and a slow
// sender leave other clients served; the slow sender's telegram is
// accepted when it is whole.
func TestShortBodyAndSlowSender(t *testing.T) {
	e := newEnv(t, envOpt{})
	short := raw(t, e.shared())
	bindRaw(t, short, cliA, pwA)
	if _, err := short.Write([]byte("99990200000000010000short")); err != nil {
		t.Fatal(err)
	}
	slow := raw(t, e.shared())
	bindRaw(t, slow, cliB, pwB)
	f := sms(newKey()).Append(nil, 42)
	done := make(chan error, 1)
	go func() {
		for i := range f {
			if _, err := slow.Write(f[i : i+1]); err != nil {
				done <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		done <- nil
	}()
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	for range 20 {
		if code, _, err := c.Submit(ctxT(t), sms(newKey())); err != nil || code != telegram.OK {
			t.Fatalf("other client: %v %v", code, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h, _, err := readFrame(t, slow, 5*time.Second)
	if err != nil || h.Seq != 42 || h.Result != telegram.OK {
		t.Fatalf("slow sender: %+v %v", h, err)
	}
	if got := len(laneRecords(t, e.lanes['S'])); got != 21 {
		t.Fatalf("lane holds %d, want 21", got)
	}
}

// TestClientThatNeverReads: it is disconnected once its socket stays full
// for the write timeout, and other clients are served meanwhile.
func TestClientThatNeverReads(t *testing.T) {
	e := newEnv(t, envOpt{writeTO: 300 * time.Millisecond})
	r := raw(t, e.shared())
	if tc, ok := r.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	bindRaw(t, r, cliA, pwA)
	var sent atomic.Int64
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	// MULTI_SUBMITs with 100 refused destinations: 4.4 KB answers for
	// 4 KB requests, without filling the lanes.
	m := &telegram.MultiSubmit{MsgType: 'S', JobClass: 'S', Callback: cbA, Text: "x"}
	for range 100 {
		m.Dests = append(m.Dests, telegram.MultiDest{MsgKey: newKey(), Dest: "bad"})
	}
	buf := m.Append(nil, 1)
	go func() {
		defer close(writerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = r.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := r.Write(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
			sent.Add(1)
		}
	}()
	defer func() { close(stop); <-writerDone }()
	c := bound(t, e.shared(), cliB, pwB, client.Options{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := c.Submit(ctxT(t), sms(newKey())); err != nil || code != telegram.OK {
			t.Fatalf("other client: %v %v", code, err)
		}
		e.l.mu.Lock()
		n := len(e.l.conns)
		e.l.mu.Unlock()
		if n == 1 {
			return // the client that never reads is gone
		}
		if time.Now().After(deadline) {
			t.Fatalf("client that never reads still connected after %d requests", sent.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
