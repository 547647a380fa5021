package lsnr

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
)

var gwSeq = 0

func putRPT(t testing.TB, e *env, client string) msg.RPT {
	t.Helper()
	gwSeq++
	r := msg.RPT{ClientID: client, MsgKey: newKey(), GWID: fmt.Sprintf("%020d", 17000000000000000+gwSeq),
		Carrier: "KT", DoneTime: "20261121120000", ReportCode: telegram.RptUnreachable}
	if err := e.rpt.Put(r.Encode(nil), time.Second); err != nil {
		t.Fatal(err)
	}
	return r
}

// reportsTo returns client options collecting REPORTs into a channel.
func reportsTo(ch chan telegram.Report, noResp bool) client.Options {
	return client.Options{NoReportResp: noResp, OnReport: func(_ uint32, r telegram.Report) { ch <- r }}
}

func wantReport(t testing.TB, ch chan telegram.Report, want msg.RPT) {
	t.Helper()
	select {
	case r := <-ch:
		if r.GWID != want.GWID || r.MsgKey != want.MsgKey || r.Carrier != want.Carrier || r.DoneTime != want.DoneTime ||
			r.ReportCode != want.ReportCode {
			t.Fatalf("REPORT %+v, want %+v", r, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no REPORT for %s", want.GWID)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func pendingSize(t testing.TB, e *env, client string) int64 {
	fi, err := os.Stat(filepath.Join(e.opts.ReportDir, fileName(client)))
	if err != nil {
		return -1
	}
	return fi.Size()
}

func TestReportDeliveredAndAcked(t *testing.T) {
	e := newEnv(t, envOpt{})
	ch := make(chan telegram.Report, 16)
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false))
	r := putRPT(t, e, cliA)
	wantReport(t, ch, r)
	waitFor(t, "the acknowledged entry to leave the pending file", func() bool { return pendingSize(t, e, cliA) == 0 })
	if e.rpt.Len() != 0 {
		t.Fatalf("RPT queue still holds %d", e.rpt.Len())
	}
}

func TestReportResentAfterReconnect(t *testing.T) {
	e := newEnv(t, envOpt{})
	ch := make(chan telegram.Report, 16)
	c := bound(t, e.shared(), cliA, pwA, reportsTo(ch, true))
	r := putRPT(t, e, cliA)
	wantReport(t, ch, r)
	_ = c.Close()
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false))
	wantReport(t, ch, r) // the same GW_ID again
	waitFor(t, "ack", func() bool { return pendingSize(t, e, cliA) == 0 })
}

func TestReportKeptWhileUnboundAndAcrossRestart(t *testing.T) {
	e := newEnv(t, envOpt{})
	r1 := putRPT(t, e, cliB)
	waitFor(t, "RPT to be taken", func() bool { return e.rpt.Len() == 0 })
	ch := make(chan telegram.Report, 16)
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false)) // another client gets nothing
	// Restart: the report waits in its file.
	e.stop()
	e.start()
	r2 := putRPT(t, e, cliB)
	waitFor(t, "RPT to be taken", func() bool { return e.rpt.Len() == 0 })
	// A REPORT sent and not answered before the restart comes again.
	c := bound(t, e.shared(), cliB, pwB, reportsTo(ch, true))
	wantReport(t, ch, r1)
	wantReport(t, ch, r2)
	_ = c.Close()
	e.stop()
	e.start()
	bound(t, e.shared(), cliB, pwB, reportsTo(ch, false))
	got := map[string]bool{}
	for range 2 {
		select {
		case r := <-ch:
			got[r.GWID] = true
		case <-time.After(10 * time.Second):
			t.Fatal("reports not sent again after restart")
		}
	}
	if !got[r1.GWID] || !got[r2.GWID] {
		t.Fatalf("after restart got %v", got)
	}
	waitFor(t, "acks", func() bool { return pendingSize(t, e, cliB) == 0 })
	select {
	case r := <-ch:
		t.Fatalf("unexpected REPORT %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestReportsManyAcrossConnections: many reports for a client with two
// connections, some answered by neither until the second connects.
func TestReportsMany(t *testing.T) {
	e := newEnv(t, envOpt{})
	ch := make(chan telegram.Report, 1024)
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false))
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false))
	want := map[string]bool{}
	for range 300 {
		want[putRPT(t, e, cliA).GWID] = true
	}
	for len(want) > 0 {
		select {
		case r := <-ch:
			delete(want, r.GWID)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d reports missing", len(want))
		}
	}
	waitFor(t, "acks", func() bool { return pendingSize(t, e, cliA) == 0 })
}
