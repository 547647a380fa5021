package lsnr

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
)

func TestMultiSubmit(t *testing.T) {
	e := newEnv(t, envOpt{})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	dup := newKey()
	if code, _, _ := c.Submit(ctxT(t), sms(dup)); code != telegram.OK {
		t.Fatal(code)
	}
	m := &telegram.MultiSubmit{MsgType: 'S', JobClass: 'B', Callback: cbA, Text: "multi",
		Dests: []telegram.MultiDest{{MsgKey: newKey(), Dest: "01011112222"}, {MsgKey: dup, Dest: "01011113333"}, {MsgKey: newKey(), Dest: "0299"}, {MsgKey: newKey(), Dest: "01711114444"}}}
	code, resp, err := c.MultiSubmit(ctxT(t), m)
	if err != nil || code != telegram.OK || len(resp.Results) != 4 {
		t.Fatalf("MULTI_SUBMIT: %v %+v %v", code, resp, err)
	}
	want := []telegram.Code{telegram.OK, telegram.ErrDuplicate, telegram.ErrDest, telegram.OK}
	for i, r := range resp.Results {
		if r.Result != want[i] || r.MsgKey != m.Dests[i].MsgKey {
			t.Errorf("dest %d: %+v, want %v", i, r, want[i])
		}
	}
	recs := laneRecords(t, e.lanes['B'])
	if len(recs) != 2 || recs[0].GWID != resp.Results[0].GWID || recs[1].Dest != "01711114444" {
		t.Fatalf("lane B: %+v", recs)
	}
	// A shared field failing fails every destination.
	m.Callback = "0299998888"
	code, resp, err = c.MultiSubmit(ctxT(t), m)
	if err != nil || code != telegram.ErrCallback {
		t.Fatalf("unregistered callback: %v %v", code, err)
	}
	m.Callback, m.Text = cbA, string(make([]byte, 91))
	code, _, err = c.MultiSubmit(ctxT(t), m)
	if err != nil || code != telegram.ErrTooLong {
		t.Fatalf("long text: %v %v", code, err)
	}
}

// TestPipelining: many goroutines on one connection, 64 in flight.
func TestPipelining(t *testing.T) {
	e := newEnv(t, envOpt{})
	c := bound(t, e.shared(), cliA, pwA, client.Options{Window: 64})
	const n = 2000
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]bool{}
	errs := make(chan error, n)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 64 {
				s := sms(newKeyLocked())
				code, resp, err := c.Submit(context.Background(), s)
				if err != nil || code != telegram.OK || resp.MsgKey != s.MsgKey {
					errs <- fmt.Errorf("%d: %v %v %+v", i, code, err, resp)
					return
				}
				mu.Lock()
				ids[resp.GWID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("%d distinct GW_IDs for %d messages", len(ids), n)
	}
	if got := len(laneRecords(t, e.lanes['S'])); got != n {
		t.Fatalf("lane holds %d of %d", got, n)
	}
}

var keyMu sync.Mutex

func newKeyLocked() string {
	keyMu.Lock()
	defer keyMu.Unlock()
	return newKey()
}

// TestPipelineLimit: a client that sends 100 SUBMITs at once, beyond the
// 64 the listener reads ahead, while the lane is stuck: every one is
// answered (one stored, the rest busy), none lost or answered twice.
func TestPipelineLimit(t *testing.T) {
	e := newEnv(t, envOpt{laneCap: 1, putTO: 1500 * time.Millisecond})
	r := raw(t, e.shared())
	bindRaw(t, r, cliA, pwA)
	var buf []byte
	var keys []string
	for i := range 100 {
		k := newKey()
		keys = append(keys, k)
		buf = sms(k).Append(buf, uint32(i+1))
	}
	if _, err := r.Write(buf); err != nil {
		t.Fatal(err)
	}
	// While the lane is stuck, the keys recorded in the index are those of
	// the requests the listener has taken up: one stored and at most 64 in
	// flight.
	time.Sleep(500 * time.Millisecond)
	taken := 0
	for _, k := range keys {
		if ok, _ := e.dup.Contains(cliA, k, time.Now()); ok {
			taken++
		}
	}
	if taken > 65 || taken < 60 {
		t.Fatalf("%d requests taken up while 64 may be in flight", taken)
	}
	rd := telegram.NewReader(r, 0)
	_ = r.SetReadDeadline(time.Now().Add(20 * time.Second))
	seen := map[uint32]bool{}
	for len(seen) < 100 {
		f, err := rd.Next()
		if err != nil {
			t.Fatalf("after %d responses: %v", len(seen), err)
		}
		h, _, _ := telegram.ParseHeader(f)
		seen[h.Seq] = true
	}
	// One record fits; the others were busy.
	if got := len(laneRecords(t, e.lanes['S'])); got != 1 {
		t.Fatalf("lane holds %d", got)
	}
}

// TestUnbindDrains: UNBIND_RESP comes after every owed response.
func TestUnbindDrains(t *testing.T) {
	e := newEnv(t, envOpt{})
	r := raw(t, e.shared())
	bindRaw(t, r, cliA, pwA)
	var buf []byte
	for i := range 50 {
		buf = sms(newKey()).Append(buf, uint32(i+1))
	}
	buf = telegram.AppendEmpty(buf, telegram.TypeUnbind, 99, telegram.OK)
	if _, err := r.Write(buf); err != nil {
		t.Fatal(err)
	}
	rd := telegram.NewReader(r, 0)
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	n := 0
	for {
		f, err := rd.Next()
		if err != nil {
			t.Fatalf("after %d: %v", n, err)
		}
		h, _, _ := telegram.ParseHeader(f)
		if h.Type == telegram.TypeUnbindResp {
			if n != 50 {
				t.Fatalf("UNBIND_RESP after %d of 50 responses", n)
			}
			break
		}
		if h.Type != telegram.TypeSubmitResp || h.Result != telegram.OK {
			t.Fatalf("%+v", h)
		}
		n++
	}
	if _, err := rd.Next(); err == nil {
		t.Fatal("connection still open after UNBIND_RESP")
	}
}

// TestLinkAndIdle: the gateway LINKs a silent client and closes it after
// the idle timeout; a client LINK is answered.
func TestLinkAndIdle(t *testing.T) {
	e := newEnv(t, envOpt{m1Extra: "link_interval = \"100ms\"\nidle_timeout = \"600ms\"\n"})
	r := raw(t, e.shared())
	bindRaw(t, r, cliA, pwA)
	if _, err := r.Write(telegram.AppendEmpty(nil, telegram.TypeLink, 5, telegram.OK)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rd := telegram.NewReader(r, 0)
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	links, linkResp := 0, false
	for {
		f, err := rd.Next()
		if err != nil {
			break
		}
		h, _, _ := telegram.ParseHeader(f)
		switch h.Type {
		case telegram.TypeLink:
			links++
		case telegram.TypeLinkResp:
			linkResp = h.Seq == 5
		}
	}
	el := time.Since(start)
	if !linkResp || links < 2 {
		t.Fatalf("LINK_RESP %v, LINKs from the gateway %d", linkResp, links)
	}
	if el < 500*time.Millisecond || el > 5*time.Second {
		t.Fatalf("closed after %v, want about the 600ms idle timeout", el)
	}
}

// TestClientLinkKeepsAlive: a client that answers LINKs (gw/client does)
// stays connected beyond the idle timeout.
func TestClientLinkKeepsAlive(t *testing.T) {
	e := newEnv(t, envOpt{m1Extra: "link_interval = \"100ms\"\nidle_timeout = \"400ms\"\n"})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	time.Sleep(1200 * time.Millisecond)
	if code, _, err := c.Submit(ctxT(t), sms(newKey())); err != nil || code != telegram.OK {
		t.Fatalf("after idling: %v %v", code, err)
	}
}

func TestDedicated(t *testing.T) {
	e := newEnv(t, envOpt{})
	port := e.l.ports[1].number
	// Not registered: refused (closed without a telegram).
	r := raw(t, e.dedicated())
	if !waitClosed(t, r, 5*time.Second) {
		t.Fatal("unregistered address not refused")
	}
	// Registered while running: read again on the next unknown address.
	line := fmt.Sprintf("127.0.0.1 %d %s\n", port, cliA)
	if err := os.WriteFile(filepath.Join(e.home, "etc/dedicated.conf"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.dedicated(), client.Options{})
	if code, err := c.Bind(ctxT(t), cliB, pwB); err != nil || code != telegram.ErrAuth {
		t.Fatalf("other client on the dedicated address: %v %v, want 1102", code, err)
	}
	// The refused connection is closed by the listener; until it has
	// forgotten it, a new one from this IP is "a second connection" and
	// both are closed (PROTOCOL.md). Wait for the close, then until the
	// listener no longer counts it.
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection refused with 1102 not closed")
	}
	e.waitNoConns(t)
	c = bound(t, e.dedicated(), cliA, pwA, client.Options{})
	if code, _, err := c.Submit(ctxT(t), sms(newKey())); err != nil || code != telegram.OK {
		t.Fatalf("SUBMIT on the dedicated port: %v %v", code, err)
	}
	// A second connection from the same IP closes both.
	r2 := raw(t, e.dedicated())
	if !waitClosed(t, r2, 5*time.Second) {
		t.Fatal("second connection not closed")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("first connection not closed by the second")
	}
	// Then one connection is fine again.
	bound(t, e.dedicated(), cliA, pwA, client.Options{})
}
