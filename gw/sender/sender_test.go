package sender

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// Every dialect: each message ends with one Ack and one Report on DBX,
// the codes mapped by the dialect's table and the carrier's kept; SND is
// committed.
func TestReportMappingEveryDialect(t *testing.T) {
	for _, c := range []struct{ server, dialect string }{{"KT1", "kt"}, {"SKT1", "skt"}, {"LG", "lgrelay"}} {
		t.Run(c.dialect, func(t *testing.T) {
			r := newRig(t, 300, sim.Config{Mix: sim.Mix{UnknownSub: 15, Expired: 15, Spam: 15}, ReportDelayMax: 20 * time.Millisecond})
			r.run(r.options(c.server, c.dialect, 16, 5000))
			r.drain(true, 20*time.Second)
			r.waitCommitted(5 * time.Second)
			d, _ := carrier.ByName(c.dialect)
			codes := map[telegram.Code]int{}
			for _, id := range r.gwids {
				a := r.acks[id][0]
				if a.AckCode != telegram.OK || a.CarrierMsgID == "" || a.Sender != "T" || a.Carrier != d.Carrier() {
					t.Fatalf("ack %+v", a)
				}
				rep := r.reports[id][0]
				if rep.CarrierMsgID != a.CarrierMsgID {
					t.Fatalf("report message id %q, ack %q", rep.CarrierMsgID, a.CarrierMsgID)
				}
				// The carrier's own code maps back to the result.
				own := rep.CarrierCode
				p := carrier.PDU{Result: own}
				if c.dialect == "lgrelay" {
					relay, lg, ok := strings.Cut(own, ":")
					if !ok {
						t.Fatalf("relay carrier code %q: want RELAY:LG", own)
					}
					p = carrier.PDU{Result: relay, CarrierResult: lg}
				}
				if o := d.ReportOutcome(&p); o.Code != rep.ResultCode || o.CarrierCode != own {
					t.Fatalf("report %+v: the table maps %q to %+v", rep, own, o)
				}
				codes[rep.ResultCode]++
			}
			for _, want := range []telegram.Code{telegram.OK, telegram.RptUnknownSub, telegram.RptUnreachable, telegram.RptRejected} {
				if codes[want] == 0 {
					t.Fatalf("no report with %v among %v", want, codes)
				}
			}
			if st := r.sim.Stats(); st.DupSubmits != 0 || st.Received != 300 {
				t.Fatalf("sim %+v", st)
			}
		})
	}
}

// The window bounds the submits the carrier has unanswered.
func TestWindowRespected(t *testing.T) {
	r := newRig(t, 200, sim.Config{AckLatency: 20 * time.Millisecond})
	st := &recState{}
	o := r.options("KT1", "kt", 5, 10000)
	o.State = st
	r.run(o)
	r.drain(false, 20*time.Second)
	s := r.sim.Stats()
	if s.MaxUnanswered != 5 {
		t.Fatalf("carrier saw at most %d submits unanswered, window 5", s.MaxUnanswered)
	}
	// The counters are published just after the events are stored, which
	// is what drain waits for: give them a moment.
	deadline := time.Now().Add(5 * time.Second)
	for st.out.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st.maxWindow.Load() != 5 || st.in.Load() != 200 || st.out.Load() != 200 {
		t.Fatalf("published window %d, in %d, out %d", st.maxWindow.Load(), st.in.Load(), st.out.Load())
	}
}

// The TPS limit holds: N submits at T a second take at least (N-burst)/T.
func TestTPSRespected(t *testing.T) {
	r := newRig(t, 120, sim.Config{TPS: 60})
	start := time.Now()
	r.run(r.options("SKT1", "skt", 64, 50))
	r.drain(false, 20*time.Second)
	if el, least := time.Since(start), time.Duration(float64(120-2)/50*float64(time.Second)); el < least {
		t.Fatalf("120 submits at 50 TPS took %v, less than %v", el, least)
	}
	if st := r.sim.Stats(); st.Throttled != 0 {
		t.Fatalf("the carrier's 60 TPS ceiling throttled %d submits of a 50 TPS sender", st.Throttled)
	}
}

// A carrier that throttles gets the throttled submits again; each message
// still has exactly one Ack, accepted.
func TestThrottledResubmitted(t *testing.T) {
	r := newRig(t, 80, sim.Config{TPS: 30})
	r.run(r.options("LG", "lgrelay", 32, 1000))
	r.drain(false, 20*time.Second)
	st := r.sim.Stats()
	if st.Throttled == 0 || st.Accepted != 80 {
		t.Fatalf("sim %+v", st)
	}
	for _, id := range r.gwids {
		if len(r.acks[id]) != 1 || r.acks[id][0].AckCode != telegram.OK {
			t.Fatalf("acks of %s: %+v", id, r.acks[id])
		}
	}
}

// A final refusal at submit ends the message: Ack and Report with the
// mapped code and the carrier's own.
func TestFinalRefusal(t *testing.T) {
	ln := fakeCenter(t, carrier.KT, func(p *carrier.PDU) *carrier.PDU {
		return &carrier.PDU{Type: carrier.SubmitResp, Seq: p.Seq, Ref: p.Ref, Result: "22"}
	})
	r := newRig(t, 3, sim.Config{})
	o := r.options("KT1", "kt", 4, 100)
	o.Servers = []string{ln}
	r.run(o)
	r.drain(true, 10*time.Second)
	r.waitCommitted(5 * time.Second)
	for _, id := range r.gwids {
		a, rep := r.acks[id][0], r.reports[id][0]
		if a.AckCode != telegram.RptRejected || rep.ResultCode != telegram.RptRejected || rep.CarrierCode != "22" {
			t.Fatalf("ack %+v report %+v", a, rep)
		}
	}
}

// Servers are tried in order: a dead first one is passed over, the second
// carries the link, the third is not used until the second is gone.
func TestMultiServerOrder(t *testing.T) {
	dead := deadAddr(t)
	r := newRig(t, 50, sim.Config{Servers: []sim.Server{{Name: "A", Addr: "127.0.0.1:0", Dialect: carrier.SKT},
		{Name: "B", Addr: "127.0.0.1:0", Dialect: carrier.SKT}}})
	o := r.options("A", "skt", 8, 1000)
	o.Servers = []string{dead, r.sim.Addr("A"), r.sim.Addr("B")}
	r.run(o)
	r.drain(false, 10*time.Second)
	if st := r.sim.Stats(); st.Servers["A"].Logins != 1 || st.Servers["B"].Logins != 0 {
		t.Fatalf("logins %+v", st.Servers)
	}
	r.sim.StopServer("A")
	r.put(50)
	r.drain(false, 10*time.Second)
	if st := r.sim.Stats(); st.Servers["B"].Logins != 1 || st.Servers["B"].Received == 0 {
		t.Fatalf("after A stopped: %+v", st.Servers)
	}
}

// When every server refuses, the sender waits longer each time, up to
// ReconnectMax.
func TestReconnectBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // accepts and hangs up: every login fails
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	r := newRig(t, 1, sim.Config{})
	o := r.options("KT1", "kt", 4, 100)
	o.Servers = []string{ln.Addr().String()}
	o.ReconnectMin, o.ReconnectMax = 50*time.Millisecond, 400*time.Millisecond
	st := &recState{}
	o.State = st
	s, _ := New(o)
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	time.Sleep(1500 * time.Millisecond)
	s.Exit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Waits 50, 100, 200, 400, 400, ...: about 6 attempts in 1.5 s; no
	// backoff would make hundreds.
	if n := attempts.Load(); n < 3 || n > 10 {
		t.Fatalf("%d connection attempts in 1.5s with backoff 50ms..400ms", n)
	}
	if st.lastErr() == "" || st.link.Load() {
		t.Fatalf("state: last error %q, link %v", st.lastErr(), st.link.Load())
	}
}

// Links dropped while submits are unanswered: they are submitted again;
// every message gets its Ack and SND is committed.
func TestRequeueOnLinkLoss(t *testing.T) {
	r := newRig(t, 400, sim.Config{AckLatency: 5 * time.Millisecond})
	r.run(r.options("KT1", "kt", 32, 2000))
	go func() {
		for i := 0; i < 5; i++ {
			time.Sleep(40 * time.Millisecond)
			r.sim.Drop("")
		}
	}()
	r.drain(false, 30*time.Second)
	r.waitCommitted(5 * time.Second)
	st := r.sim.Stats()
	if st.Drops == 0 || st.Logins < 2 || st.Unique != 400 {
		t.Fatalf("sim %+v", st)
	}
	t.Logf("drops %d, logins %d, duplicate submits %d", st.Drops, st.Logins, st.DupSubmits)
}

// Reports of a link that went down come again on the next one, and are
// stored.
func TestReportsAfterReconnect(t *testing.T) {
	r := newRig(t, 100, sim.Config{ReportDelayMin: 100 * time.Millisecond, ReportDelayMax: 300 * time.Millisecond})
	r.run(r.options("SKT1", "skt", 16, 5000))
	r.drain(false, 10*time.Second)
	r.sim.Drop("")
	r.drain(true, 20*time.Second)
	// The report responses follow the events' storing.
	deadline := time.Now().Add(5 * time.Second)
	for r.sim.Stats().ReportsPending != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.sim.Stats(); st.ReportsPending != 0 || st.ReportsAcked < 100 {
		t.Fatalf("reports pending %+v", st)
	}
}

// Stop waits for the answers in flight, and commits them.
func TestStopDrains(t *testing.T) {
	r := newRig(t, 64, sim.Config{AckLatency: 200 * time.Millisecond})
	s := r.run(r.options("KT1", "kt", 64, 100000))
	deadline := time.Now().Add(5 * time.Second)
	for r.sim.Stats().Received < 64 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.Exit()
	r.drain(false, time.Second)
	if n := r.snd.Len(); n != 0 {
		t.Fatalf("%d records left uncommitted after a clean stop", n)
	}
}

type recState struct {
	mu                  sync.Mutex
	last                string
	link                atomic.Bool
	maxWindow           atomic.Int64
	in, out, errs, beat atomic.Int64
}

func (s *recState) SetLink(up bool) { s.link.Store(up) }
func (s *recState) SetWindow(used, size int) {
	for m := s.maxWindow.Load(); int64(used) > m && !s.maxWindow.CompareAndSwap(m, int64(used)); m = s.maxWindow.Load() {
	}
}
func (s *recState) AddIn(n int)  { s.in.Add(int64(n)) }
func (s *recState) AddOut(n int) { s.out.Add(int64(n)) }
func (s *recState) AddErr(n int) { s.errs.Add(int64(n)) }
func (s *recState) SetLastError(m string) {
	s.mu.Lock()
	s.last = m
	s.mu.Unlock()
}
func (s *recState) lastErr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
func (s *recState) Heartbeat() { s.beat.Add(1) }

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	_ = ln.Close()
	return a
}

// fakeCenter is a one-dialect center answering logins and link checks
// itself and submits with answer.
func fakeCenter(t *testing.T, d carrier.Dialect, answer func(*carrier.PDU) *carrier.PDU) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := newReader(c)
				for {
					f, err := carrier.ReadFrame(br, d, nil)
					if err != nil {
						return
					}
					var p carrier.PDU
					if d.Decode(f, &p) != nil {
						return
					}
					var out *carrier.PDU
					switch p.Type {
					case carrier.Login:
						out = &carrier.PDU{Type: carrier.LoginResp, Seq: p.Seq, Result: carrier.SubmitCode(d, carrier.Accepted, 0)}
					case carrier.Link:
						out = &carrier.PDU{Type: carrier.LinkResp, Seq: p.Seq}
					case carrier.Submit:
						out = answer(&p)
					}
					if out != nil {
						b, _ := d.Append(nil, out)
						if _, err := c.Write(b); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

var _ = msg.KindAck

// A center that logs in and then goes silent: the link check goes
// unanswered and the sender drops the link and logs in again.
func TestLinkCheckUnanswered(t *testing.T) {
	d := carrier.KT
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logins, links atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := newReader(c)
				for {
					f, err := carrier.ReadFrame(br, d, nil)
					if err != nil {
						return
					}
					var p carrier.PDU
					if d.Decode(f, &p) != nil {
						return
					}
					switch p.Type {
					case carrier.Login:
						logins.Add(1)
						b, _ := d.Append(nil, &carrier.PDU{Type: carrier.LoginResp, Seq: p.Seq, Result: "00"})
						_, _ = c.Write(b)
					case carrier.Link:
						links.Add(1) // and no answer
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	r := newRig(t, 0, sim.Config{})
	o := r.options("KT1", "kt", 4, 100)
	o.Servers = []string{ln.Addr().String()}
	o.LinkCheck = 100 * time.Millisecond
	r.run(o)
	deadline := time.Now().Add(5 * time.Second)
	for logins.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if logins.Load() < 3 || links.Load() < 2 {
		t.Fatalf("logins %d, link checks %d: the silent link was not dropped", logins.Load(), links.Load())
	}
}

// A stop while reports pour in returns (the read loop is not left blocked
// handing over a PDU nobody takes).
func TestStopUnderReports(t *testing.T) {
	for i := 0; i < 3; i++ {
		r := newRig(t, 3000, sim.Config{ReportDelayMax: 2 * time.Millisecond})
		s, err := New(r.options("KT1", "kt", 128, 1000000))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Main() }()
		for r.sim.Stats().ReportsSent < 1000 {
			time.Sleep(time.Millisecond)
		}
		exited := make(chan struct{})
		go func() { s.Exit(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Fatal("Exit did not return")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// DBX full at a stop: the sender gives up after the drain timeout (nothing
// committed that is not stored) and Exit returns, though the carrier keeps
// sending.
func TestStopWithDBXFull(t *testing.T) {
	r := newRig(t, 1000, sim.Config{})
	small := openQueue(t, "DBX", testKey(t), 64, msg.MaxEventSize, true)
	o := r.options("KT1", "kt", 512, 1000000)
	o.DBX = small
	o.DrainTimeout = 200 * time.Millisecond
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	for small.Len() < 64 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // answers pile up behind the full DBX
	exited := make(chan struct{})
	go func() { s.Exit(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("Exit did not return")
	}
	if err := <-done; err == nil {
		t.Fatal("Main returned nil with events it could not store")
	}
	if n, st := r.snd.Len(), r.sim.Stats(); n < 1000-64 {
		t.Fatalf("%d records left in SND, %d events stored: committed what was not stored (sim %+v)", n, small.Len(), st)
	}
}

// A record that is not a message is passed over (logged), committed with
// the others, and never submitted.
func TestUndecodableRecordPassedOver(t *testing.T) {
	r := newRig(t, 5, sim.Config{})
	if err := r.snd.Put([]byte("not a message record"), time.Second); err != nil {
		t.Fatal(err)
	}
	r.put(5)
	st := &recState{}
	o := r.options("KT1", "kt", 4, 1000)
	o.State = st
	r.run(o)
	r.drain(false, 10*time.Second)
	r.waitCommitted(5 * time.Second)
	if s := r.sim.Stats(); s.Received != 10 || s.Unique != 10 {
		t.Fatalf("sim %+v", s)
	}
	if st.errs.Load() != 1 {
		t.Fatalf("errors counted %d, want 1", st.errs.Load())
	}
}
