package dbx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// orders returns every distinct order of the multiset items.
func orders(items string) []string {
	seen := map[string]bool{}
	var out []string
	var rec func(prefix string, rest []byte)
	rec = func(prefix string, rest []byte) {
		if len(rest) == 0 {
			if !seen[prefix] {
				seen[prefix] = true
				out = append(out, prefix)
			}
			return
		}
		for i := range rest {
			r := append(append([]byte{}, rest[:i]...), rest[i+1:]...)
			rec(prefix+string(rest[i]), r)
		}
	}
	rec("", []byte(items))
	return out
}

// TestPermutations: every order of Accept, Ack and Report, each given
// twice (90 orders), through real queues and dbx at fetch counts 1, 7 and
// 1,000, ends in the same row, with one REPORT per listener message.
func TestPermutations(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, nil)
		ords := orders("AKRAKR")
		if len(ords) != 90 {
			t.Fatalf("%d orders", len(ords))
		}
		var want *store.LogRow
		n := 0
		for _, fetch := range []int{1, 7, 1000} {
			h.cfg.DBX.FetchCount = fetch
			var ids []string
			for _, o := range ords {
				n++
				id := gwid(n)
				ids = append(ids, id)
				m := message(id, msg.SourceListener)
				for _, k := range o {
					switch k {
					case 'A':
						h.put(accept(m))
					case 'K':
						h.put(ack(id))
					case 'R':
						h.put(report(id, telegram.RptUnreachable))
					}
				}
			}
			r := h.start()
			h.waitDrained(60 * time.Second)
			r.stop(t)
			rows := h.rows(ids)
			for i, id := range ids {
				row := rows[id]
				if row.MsgKey != "K"+id[10:] || row.Dest != "010"+id[12:] || row.CarrierMsgID != "KTM"+id[14:] {
					t.Fatalf("fetch %d order %s: row %+v", fetch, ords[i], row)
				}
				row.GWID, row.MsgKey, row.Dest, row.CarrierMsgID = "", "", "", ""
				if want == nil {
					want = &row
					continue
				}
				if row != *want {
					t.Fatalf("fetch %d order %s:\n got  %+v\n want %+v", fetch, ords[i], row, *want)
				}
			}
			rpts := byGWID(h.drainRPT(200 * time.Millisecond))
			for _, id := range ids {
				if len(rpts[id]) != 1 || rpts[id][0].ReportCode != telegram.RptUnreachable || rpts[id][0].MsgKey != "K"+id[10:] {
					t.Fatalf("fetch %d: REPORTs of %s: %+v", fetch, id, rpts[id])
				}
			}
			if len(rpts) != len(ids) {
				t.Fatalf("fetch %d: REPORTs for %d messages, want %d", fetch, len(rpts), len(ids))
			}
		}
		w := *want
		if w.Status != store.StatusDone || w.ResultCode != "3002" || w.ResultSrc != store.ResultFromReport ||
			w.AckCode != "0000" || w.Source != store.SourceListener || w.Text != "입금 10,000원 안내" ||
			w.AcceptTime != at(0) || w.AckTime != at(1) || w.ReportTime != at(5) || w.Carrier != "KT" || w.Sender != "KT1" {
			t.Fatalf("final row %+v", w)
		}
		if p, err := h.st.PendingReports(context.Background(), 10); err != nil || len(p) != 0 {
			t.Fatalf("RPT_PENDING after a clean stop: %v, %v", p, err)
		}
	})
}

// TestSourcesAndFinals: Accept deletes the T41 row; Finals end messages
// with STATUS 4 and their code; only listener messages are REPORTed.
func TestSourcesAndFinals(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, nil)
		ctx := context.Background()
		var t41 []store.T41Row
		for i := 0; i < 4; i++ {
			t41 = append(t41, store.T41Row{ClientID: "BANK01", MsgKey: fmt.Sprintf("T41KEY%02d", i), Dest: "01000000000", Callback: "0215880000", Text: "x"})
		}
		if err := h.st.InsertT41(ctx, t41); err != nil {
			t.Fatal(err)
		}
		seq := func(key string) uint64 {
			r, ok, err := h.st.T41ByKey(ctx, "BANK01", key)
			if err != nil || !ok {
				t.Fatalf("T41 %s: %v %v", key, ok, err)
			}
			return uint64(r.MsgSeq)
		}
		codes := []telegram.Code{telegram.ErrDuplicate, telegram.ErrCallback, telegram.ErrDest, telegram.RptNotSent}
		var ids []string
		want := map[string]string{} // GW_ID → RESULT_CODE, "" for accepted only
		listener := map[string]bool{}
		n := 1000
		for si, src := range []byte{msg.SourceT41, msg.SourceListener, msg.SourceFile} {
			for i, c := range codes { // Finals
				n++
				m := message(gwid(n), src)
				if src == msg.SourceT41 {
					m.MsgKey, m.MsgSeq = t41[i].MsgKey, seq(t41[i].MsgKey)
				}
				_ = si
				h.put(final(m, c))
				ids, want[m.GWID] = append(ids, m.GWID), fmt.Sprintf("%04d", c)
				listener[m.GWID] = src == msg.SourceListener
			}
			n++ // a delivered message
			m := message(gwid(n), src)
			h.put(report(m.GWID, telegram.OK), accept(m), ack(m.GWID))
			ids, want[m.GWID] = append(ids, m.GWID), "0000"
			listener[m.GWID] = src == msg.SourceListener
		}
		// An accepted T41 row without a result yet.
		if err := h.st.InsertT41(ctx, []store.T41Row{{ClientID: "BANK01", MsgKey: "T41ACC", Dest: "01000000000"}}); err != nil {
			t.Fatal(err)
		}
		n++
		m := message(gwid(n), msg.SourceT41)
		m.MsgKey, m.MsgSeq = "T41ACC", seq("T41ACC")
		h.put(accept(m))
		ids, want[m.GWID] = append(ids, m.GWID), ""

		r := h.start()
		rows := h.waitRows(ids, 30*time.Second, func(r store.LogRow) bool { return r.AcceptTime != "" && (r.ResultCode != "") == (want[r.GWID] != "") })
		r.stop(t)
		for _, id := range ids {
			row := rows[id]
			if want[id] == "" {
				if row.Status != store.StatusRequested || row.ResultCode != "" {
					t.Fatalf("accepted row %+v", row)
				}
				continue
			}
			if row.Status != store.StatusDone || row.ResultCode != want[id] {
				t.Fatalf("row %s: STATUS %c RESULT_CODE %q, want 4 %q", id, row.Status, row.ResultCode, want[id])
			}
		}
		for _, x := range append(t41, store.T41Row{MsgKey: "T41ACC"}) {
			if _, ok, err := h.st.T41ByKey(ctx, "BANK01", x.MsgKey); err != nil || ok {
				t.Fatalf("T41 row %s still there after its Accept/Final (%v)", x.MsgKey, err)
			}
		}
		rpts := byGWID(h.drainRPT(200 * time.Millisecond))
		for _, id := range ids {
			got := rpts[id]
			if !listener[id] {
				if len(got) != 0 {
					t.Fatalf("REPORT for a non-listener message %s: %+v", id, got)
				}
				continue
			}
			if len(got) != 1 || fmt.Sprintf("%04d", got[0].ReportCode) != want[id] || got[0].ClientID != "BANK01" {
				t.Fatalf("REPORTs of listener message %s: %+v", id, got)
			}
		}
	})
}

// TestPNXFromReport: a delivered Report through a KT link that names SKT
// updates PNX; one naming KT, or a failed one, does not.
func TestPNXFromReport(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, nil)
		ported, same, failed := message(gwid(1), msg.SourceFile), message(gwid(2), msg.SourceFile), message(gwid(3), msg.SourceFile)
		rp := report(ported.GWID, telegram.OK)
		rp.Carrier = "SKT"
		rs := report(same.GWID, telegram.OK)
		rs.Carrier = "KT"
		rf := report(failed.GWID, telegram.RptUnknownSub)
		rf.Carrier = "LGT"
		h.put(accept(ported), accept(same), accept(failed), rp, rs, rf)
		r := h.start()
		h.waitRows([]string{ported.GWID, same.GWID, failed.GWID}, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })
		r.stop(t)
		ctx := context.Background()
		if c, ok, err := h.st.LookupPNX(ctx, ported.Dest); err != nil || !ok || c != "SKT" {
			t.Fatalf("PNX of %s = %q %v %v, want SKT", ported.Dest, c, ok, err)
		}
		for _, d := range []string{same.Dest, failed.Dest} {
			if c, ok, err := h.st.LookupPNX(ctx, d); err != nil || ok {
				t.Fatalf("PNX of %s = %q %v %v, want none", d, c, ok, err)
			}
		}
	})
}

// TestReportTimeout: messages without a Report end with 3004 after the
// report timeout, REPORTed for listener messages only; a late Report wins.
func TestReportTimeout(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, settings{"report": `"2s"`, "sweep_interval": `"200ms"`})
		now := time.Now()
		var ids []string
		for i, src := range []byte{msg.SourceListener, msg.SourceT41, msg.SourceFile, msg.SourceListener} {
			m := message(gwid(100+i), src)
			m.AcceptTime = store.FormatTime(now)
			e := accept(m)
			a := ack(m.GWID)
			a.EventTime = m.AcceptTime
			h.put(e, a)
			ids = append(ids, m.GWID)
		}
		done := message(gwid(200), msg.SourceListener)
		done.AcceptTime = store.FormatTime(now)
		h.put(accept(done), report(done.GWID, telegram.OK))
		r := h.start()
		rows := h.waitRows(ids, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })
		for _, id := range ids {
			if rows[id].ResultCode != "3004" || rows[id].ResultSrc != store.ResultFromTimeout {
				t.Fatalf("row %+v", rows[id])
			}
		}
		if d := h.rows([]string{done.GWID})[done.GWID]; d.ResultCode != "0000" {
			t.Fatalf("a reported message was swept: %+v", d)
		}
		rpts := byGWID(h.drainRPT(500 * time.Millisecond))
		for i, id := range ids {
			lsnr := i == 0 || i == 3
			if got := rpts[id]; (len(got) == 1) != lsnr || (lsnr && got[0].ReportCode != telegram.RptTimeout) {
				t.Fatalf("REPORTs of %s (listener %v): %+v", id, lsnr, got)
			}
		}
		// The carrier's result, late, replaces the timeout and is REPORTed again.
		h.put(report(ids[0], telegram.RptUnknownSub))
		h.waitRows(ids[:1], 30*time.Second, func(r store.LogRow) bool { return r.ResultCode == "3001" })
		got := h.drainRPT(500 * time.Millisecond)
		if len(got) != 1 || got[0].GWID != ids[0] || got[0].ReportCode != telegram.RptUnknownSub {
			t.Fatalf("REPORT after the late Report: %+v", got)
		}
		r.stop(t)
		if s := r.d.Stats(); s.Expired != uint64(len(ids)) {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestReportTimeoutPerSender: a sender's own report_timeout ([[sender]])
// ends its messages without a Report on its own time; the other senders'
// messages keep timeouts.report.
func TestReportTimeoutPerSender(t *testing.T) {
	h := newHarness(t, "sqlite:var/m1.db", settings{"report": `"1h"`, "kt1_report_timeout": `"2s"`, "sweep_interval": `"200ms"`})
	if s, _ := h.cfg.Sender("KT2"); s.ReportTimeout.D() != time.Hour {
		t.Fatalf("KT2's report timeout %v: the edit reached the wrong sender", s.ReportTimeout.D())
	}
	now := store.FormatTime(time.Now())
	kt1, kt2 := message(gwid(300), msg.SourceT41), message(gwid(301), msg.SourceT41)
	kt2.Sender = "KT2"
	for _, m := range []msg.Message{kt1, kt2} {
		m.AcceptTime = now
		h.put(accept(m))
	}
	r := h.start()
	rows := h.waitRows([]string{kt1.GWID}, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })
	if rows[kt1.GWID].ResultCode != "3004" {
		t.Fatalf("KT1's message: %+v", rows[kt1.GWID])
	}
	time.Sleep(time.Second) // more sweeps: KT2's message must stay open (1 h)
	if got := h.rows([]string{kt2.GWID})[kt2.GWID]; got.Status == store.StatusDone {
		t.Fatalf("KT2's message ended on KT1's report timeout: %+v", got)
	}
	r.stop(t)
}

// TestRejects: a record that does not decode is set aside in the rejects
// file; the events around it are applied.
func TestRejects(t *testing.T) {
	h := newHarness(t, "sqlite:var/m1.db", nil)
	m := message(gwid(1), msg.SourceFile)
	a := accept(m)
	bad := a.Encode(nil)
	bad[2] = 'X' // unknown KIND
	if err := h.prod.Put(bad, time.Second); err != nil {
		t.Fatal(err)
	}
	h.put(accept(m), report(m.GWID, telegram.OK))
	r := h.start()
	h.waitRows([]string{m.GWID}, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })
	h.waitDrained(10 * time.Second)
	r.stop(t)
	if s := r.d.Stats(); s.Rejected != 1 || s.Applied != 2 {
		t.Fatalf("stats %+v", s)
	}
	b, err := os.ReadFile(filepath.Join(h.cfg.Paths.Var, "dbx.rejects"))
	if err != nil || strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), "KIND") {
		t.Fatalf("rejects file: %q, %v", b, err)
	}
}

// TestCommitThenCrash: the state a dbx killed between its DB commit and
// its RPT put leaves: the events applied (REPORTs recorded in RPT_PENDING)
// and still in DBX. The next dbx re-applies them (no REPORTs come back:
// nothing changes) and queues the REPORTs from RPT_PENDING.
func TestCommitThenCrash(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, nil)
		senders := senderCarriers(h.cfg)
		var ids []string
		var evs []msg.Event
		var applied []store.Event
		for i := 0; i < 20; i++ {
			m := message(gwid(i), []byte{msg.SourceListener, msg.SourceFile}[i%2])
			for _, e := range []msg.Event{accept(m), ack(m.GWID), report(m.GWID, telegram.OK)} {
				evs = append(evs, e)
				applied = append(applied, ToStore(&e, senders))
			}
			ids = append(ids, m.GWID)
		}
		owed, err := h.st.ApplyEvents(context.Background(), applied)
		if err != nil || len(owed) != 10 {
			t.Fatalf("ApplyEvents: %d owed, %v", len(owed), err)
		}
		h.put(evs...)
		r := h.start()
		h.waitDrained(30 * time.Second)
		rpts := byGWID(h.drainRPT(300 * time.Millisecond))
		r.stop(t)
		for i, id := range ids {
			if n := len(rpts[id]); (i%2 == 0 && n != 1) || (i%2 == 1 && n != 0) {
				t.Fatalf("REPORTs of %s: %+v", id, rpts[id])
			}
		}
		if p, err := h.st.PendingReports(context.Background(), 10); err != nil || len(p) != 0 {
			t.Fatalf("RPT_PENDING: %v, %v", p, err)
		}
	})
}
