package dbx

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

const crashHomeEnv = "M1_DBX_CRASH_HOME"

// TestCrashChild is the child role of TestKilledMidBatch: a real dbx
// process on the home named by M1_DBX_CRASH_HOME, run until SIGKILL (or
// SIGTERM: a clean stop). Without the variable it does nothing.
func TestCrashChild(t *testing.T) {
	home := os.Getenv(crashHomeEnv)
	if home == "" {
		t.Skip("child role of TestKilledMidBatch")
	}
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.Lock(os.Stderr), zapcore.WarnLevel))
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	in, err := queues.OpenConsumer(cfg, config.QueueDBX, log)
	if err != nil {
		t.Fatal(err)
	}
	rpt, err := queues.Open(cfg, config.QueueRPT, log)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Config: cfg, Log: log, Store: st, In: in, RPT: rpt, Table: tab, Closers: []func() error{tab.Close}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- d.Main() }()
	select {
	case <-ctx.Done():
		d.Exit()
		err = <-errc
	case err = <-errc:
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestKilledMidBatch: dbx processes killed with SIGKILL at random instants
// while they apply batches, round after round, with events still coming
// between rounds: at the end every message's row holds every one of its
// events, applied once (the rows are exactly what one clean pass gives),
// every listener message was REPORTed at least once and no other was, and
// nothing is left pending.
func TestKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, settings{"fetch_count": "50", "max_wait": `"5ms"`})
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
		var ids []string
		listener := map[string]bool{}
		next := 0
		// putMessages queues n new messages' events, each event once or
		// twice, shuffled across the messages.
		putMessages := func(n int) {
			var evs []msg.Event
			for i := 0; i < n; i++ {
				next++
				src := []byte{msg.SourceListener, msg.SourceT41, msg.SourceFile}[next%3]
				m := message(gwid(next), src)
				ids = append(ids, m.GWID)
				listener[m.GWID] = src == msg.SourceListener
				for _, e := range []msg.Event{accept(m), ack(m.GWID), report(m.GWID, telegram.RptRejected)} {
					evs = append(evs, e)
					if rng.IntN(4) == 0 {
						evs = append(evs, e)
					}
				}
			}
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
			h.put(evs...)
		}
		var stderr bytes.Buffer
		child := func() *exec.Cmd {
			c := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			c.Env = append(os.Environ(), crashHomeEnv+"="+h.cfg.Home)
			c.Stdout, c.Stderr = &stderr, &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			return c
		}
		defer func() {
			if t.Failed() {
				t.Logf("children's output:\n%s", stderr.String())
			}
		}()
		rounds, inFlight := 25, 0
		for round := 0; round < rounds; round++ {
			putMessages(150)
			before := h.queued()
			c := child()
			// Kill it at a random instant once it is at work.
			for deadline := time.Now().Add(10 * time.Second); h.queued() >= before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
			if h.queued() > 0 {
				inFlight++
			}
			_ = c.Process.Signal(syscall.SIGKILL)
			_ = c.Wait()
		}
		c := child()
		// SIGTERM only once it runs (and so handles the signal).
		tab, err := queues.ProcTab(h.cfg, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tab.Close()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if e, ok := tab.Lookup("dbx"); ok && e.PID == c.Process.Pid && e.State == proctab.Running {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the last dbx did not come up")
			}
		}
		h.waitDrained(120 * time.Second)
		_ = c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Fatalf("last dbx did not stop cleanly: %v", err)
		}
		t.Logf("%d rounds, %d killed while DBX held records, %d messages", rounds, inFlight, len(ids))
		if inFlight == 0 {
			t.Fatal("no dbx was killed while it had work in hand: the test proved nothing")
		}

		rows := h.rows(ids)
		for _, id := range ids {
			r, ok := rows[id]
			if !ok || r.Status != store.StatusDone || r.ResultCode != "3003" || r.ResultSrc != store.ResultFromReport ||
				r.AcceptTime != at(0) || r.AckTime != at(1) || r.ReportTime != at(5) || r.AckCode != "0000" ||
				r.CarrierMsgID != "KTM"+id[14:] || r.MsgKey != "K"+id[10:] || r.Text != "입금 10,000원 안내" {
				t.Fatalf("row of %s: %+v", id, r)
			}
		}
		rpts := byGWID(h.drainRPT(500 * time.Millisecond))
		for _, id := range ids {
			got := rpts[id]
			if listener[id] != (len(got) > 0) {
				t.Fatalf("REPORTs of %s (listener %v): %+v", id, listener[id], got)
			}
			for _, p := range got {
				if p.ReportCode != telegram.RptRejected || p.MsgKey != "K"+id[10:] {
					t.Fatalf("REPORT of %s: %+v", id, p)
				}
			}
		}
		if p, err := h.st.PendingReports(context.Background(), 10); err != nil || len(p) != 0 {
			t.Fatalf("RPT_PENDING after a clean stop: %v, %v", p, err)
		}
		n, err := h.st.CountLog(context.Background())
		if err != nil || n[store.StatusDone] != int64(len(ids)) || n[store.StatusRequested] != 0 {
			t.Fatalf("T41_LOG counts %v, %v; want %d done", n, err, len(ids))
		}
	})
}
