package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

var bg = context.Background()

func TestMigrateTwice(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		if err := s.Migrate(bg); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		v, err := s.SchemaVersion(bg)
		if err != nil || v != len(migrations) {
			t.Fatalf("version %d, %v; want %d", v, err, len(migrations))
		}
		var n int64
		if err := queryInt(bg, s.b, "SELECT COUNT(*) FROM SCHEMA_VERSION", &n); err != nil || n != int64(len(migrations)) {
			t.Fatalf("SCHEMA_VERSION rows %d, %v", n, err)
		}
	})
}

func t41Rows(n int, client, sendTime string) []T41Row {
	rows := make([]T41Row, n)
	for i := range rows {
		rows[i] = T41Row{ClientID: client, MsgKey: fmt.Sprintf("K%07d", i), SendTime: sendTime, MsgType: "S",
			JobClass: "B", Callback: "0215881234", Dest: fmt.Sprintf("0101%07d", i), Text: "잔액 안내"}
	}
	return rows
}

func TestInsertAndClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local)
		past, future := FormatTime(now.Add(-time.Minute)), FormatTime(now.Add(time.Hour))
		due := t41Rows(5, "BANK01", past)
		due[3].SendTime = FormatTime(now.Add(-time.Hour)) // oldest
		if err := s.InsertT41(bg, due); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertT41(bg, t41Rows(1, "BANK02", future)); err != nil {
			t.Fatal(err)
		}
		err := s.InsertT41(bg, t41Rows(1, "BANK01", past))
		if !IsDuplicate(err) {
			t.Fatalf("duplicate insert: %v", err)
		}
		if n, err := s.DueCount(bg, now); err != nil || n != 5 {
			t.Fatalf("due %d %v", n, err)
		}
		got, err := s.ClaimDue(bg, now, 3, time.Time{})
		if err != nil || len(got) != 3 {
			t.Fatalf("claim: %d rows, %v", len(got), err)
		}
		if got[0].MsgKey != "K0000003" || got[0].Text != "잔액 안내" || got[0].Status != StatusRequesting || got[0].ClaimTime != FormatTime(now) {
			t.Fatalf("first claimed row %+v", got[0])
		}
		rest, err := s.ClaimDue(bg, now, 10, time.Time{})
		if err != nil || len(rest) != 2 {
			t.Fatalf("second claim: %d rows, %v (the future row must wait)", len(rest), err)
		}
		seen := map[int64]bool{}
		for _, r := range append(got, rest...) {
			if seen[r.MsgSeq] {
				t.Fatalf("MSG_SEQ %d claimed twice", r.MsgSeq)
			}
			seen[r.MsgSeq] = true
		}
		none, err := s.ClaimDue(bg, now, 10, now.Add(-time.Minute))
		if err != nil || len(none) != 0 {
			t.Fatalf("claim with fresh claims: %d, %v", len(none), err)
		}
		// The sch that claimed them died: a later claimer takes them again.
		later := now.Add(10 * time.Minute)
		again, err := s.ClaimDue(bg, later, 10, later.Add(-5*time.Minute))
		if err != nil || len(again) != 5 {
			t.Fatalf("reclaim: %d rows, %v", len(again), err)
		}
		if again[0].ClaimTime != FormatTime(later) {
			t.Fatalf("reclaimed row %+v", again[0])
		}
		// The future row's time comes.
		fut, err := s.ClaimDue(bg, now.Add(2*time.Hour), 10, time.Time{})
		if err != nil || len(fut) != 1 || fut[0].ClientID != "BANK02" {
			t.Fatalf("future row: %+v %v", fut, err)
		}
		c, err := s.CountT41(bg)
		if err != nil || c[StatusRequesting] != 6 || c[StatusWaiting] != 0 {
			t.Fatalf("counts %v %v", c, err)
		}
		row, ok, err := s.T41ByKey(bg, "BANK01", "K0000001")
		if err != nil || !ok || row.Dest != "01010000001" {
			t.Fatalf("by key: %+v %v %v", row, ok, err)
		}
	})
}

// TestEventPermutations applies every ordering of a message's events, with
// duplicates, one event per transaction and all in one batch, and checks
// every message ends in the same row with exactly one REPORT owed.
func TestEventPermutations(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		base := lifecycle("X", SourceListener)
		// Accept, Ack, Report, a second Report, a second Ack.
		evs := append(append([]Event(nil), base...), base[2], base[1])
		perms := permutations(len(evs))
		var want *LogRow
		reports := map[string]int{}
		var ids []string
		for pi, p := range perms {
			id := fmt.Sprintf("%020d", pi+1)
			ids = append(ids, id)
			for _, i := range p {
				ev := evs[i]
				ev.GWID = id
				reps, err := s.ApplyEvents(bg, []Event{ev})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range reps {
					reports[r.GWID]++
				}
			}
		}
		// The same orders again, each as one batch.
		for pi, p := range perms {
			id := fmt.Sprintf("B%019d", pi+1)
			ids = append(ids, id)
			batch := make([]Event, 0, len(p))
			for _, i := range p {
				ev := evs[i]
				ev.GWID = id
				batch = append(batch, ev)
			}
			reps, err := s.ApplyEvents(bg, batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reps {
				reports[r.GWID]++
			}
		}
		rows, err := s.Log(bg, ids)
		if err != nil || len(rows) != len(ids) {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		for _, r := range rows {
			if reports[r.GWID] != 1 {
				t.Fatalf("%s: %d REPORTs owed, want 1", r.GWID, reports[r.GWID])
			}
			r.GWID = ""
			if want == nil {
				w := r
				want = &w
				continue
			}
			if r != *want {
				t.Fatalf("rows differ:\n%+v\n%+v", r, *want)
			}
		}
		if want.Status != StatusDone || want.ResultCode != "0000" || want.CarrierMsgID != "C123" ||
			want.Text != base[0].Text || want.AcceptTime != base[0].AcceptTime || want.ReportTime != "20261121100009" {
			t.Fatalf("final row %+v", *want)
		}
		pend, err := s.PendingReports(bg, 1000)
		if err != nil || len(pend) != len(ids) {
			t.Fatalf("pending %d, %v", len(pend), err)
		}
		if pend[0].ResultCode != "0000" || pend[0].MsgKey == "" || pend[0].ClientID != "BANK01" {
			t.Fatalf("pending %+v", pend[0])
		}
		if err := s.MarkReported(bg, ids); err != nil {
			t.Fatal(err)
		}
		if pend, err := s.PendingReports(bg, 1000); err != nil || len(pend) != 0 {
			t.Fatalf("pending after mark: %d, %v", len(pend), err)
		}
		// The whole batch once more, as a dbx that died after the commit
		// would apply it: nothing changes, nothing is owed twice.
		for _, id := range ids[:3] {
			batch := append([]Event(nil), evs...)
			for i := range batch {
				batch[i].GWID = id
			}
			reps, err := s.ApplyEvents(bg, batch)
			if err != nil || len(reps) != 0 {
				t.Fatalf("replay: %v, %v", reps, err)
			}
		}
	})
}

func TestAcceptMovesT41Row(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		now := time.Now()
		if err := s.InsertT41(bg, t41Rows(3, "BANK01", FormatTime(now.Add(-time.Second)))); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimDue(bg, now, 10, time.Time{})
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim %d %v", len(claimed), err)
		}
		var evs []Event
		for i, r := range claimed {
			m := Message{GWID: fmt.Sprintf("T%019d", r.MsgSeq), Source: SourceT41, ClientID: r.ClientID, MsgKey: r.MsgKey,
				MsgSeq: r.MsgSeq, MsgType: r.MsgType, JobClass: r.JobClass, Callback: r.Callback, Dest: r.Dest,
				Text: r.Text, SendTime: r.SendTime}
			if i == 2 {
				// A validation failure: final without a carrier.
				evs = append(evs, Event{Kind: EventFinal, Message: m, ResultCode: "1203"})
				continue
			}
			evs = append(evs, Event{Kind: EventAccept, Message: m})
		}
		reps, err := s.ApplyEvents(bg, evs)
		if err != nil || len(reps) != 0 {
			t.Fatalf("apply: %v %v (no REPORTs for T41 messages)", reps, err)
		}
		c, err := s.CountT41(bg)
		if err != nil || len(c) != 0 {
			t.Fatalf("T41 after accept: %v %v", c, err)
		}
		lc, err := s.CountLog(bg)
		if err != nil || lc[StatusRequested] != 2 || lc[StatusDone] != 1 {
			t.Fatalf("T41_LOG counts %v %v", lc, err)
		}
		rows, err := s.Log(bg, []string{evs[2].GWID})
		if err != nil || len(rows) != 1 || rows[0].ResultCode != "1203" || rows[0].ResultSrc != ResultFromFinal || rows[0].MsgSeq != claimed[2].MsgSeq {
			t.Fatalf("final row %+v %v", rows, err)
		}
	})
}

// TestExpireReportsOf: a sender with a report timeout of its own is swept
// with its own cut; the rest, and messages without a sender, with the
// default.
func TestExpireReportsOf(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		clock := time.Date(2026, 11, 24, 12, 0, 0, 0, time.Local)
		s := openTest(t, dsn, func(o *Options) { o.Now = func() time.Time { return clock } })
		twoHours := FormatTime(clock.Add(-2 * time.Hour))
		var evs []Event
		for _, c := range []struct{ gwid, sender string }{{"S1", "KT1"}, {"S2", "SKT"}, {"S3", ""}} {
			m := testMessage(c.gwid, SourceListener)
			m.AcceptTime, m.Sender = twoHours, c.sender
			evs = append(evs, Event{Kind: EventAccept, Message: m})
		}
		if _, err := s.ApplyEvents(bg, evs); err != nil {
			t.Fatal(err)
		}
		kt1 := SenderFilter{Senders: []string{"KT1"}}
		rest := SenderFilter{Senders: []string{"KT1"}, Except: true}
		// KT1's timeout is 1 h, everyone else's 72 h.
		if n, _, err := s.ExpireReportsOf(bg, clock.Add(-72*time.Hour), 100, rest); err != nil || n != 0 {
			t.Fatalf("the others at 72 h: %d, %v", n, err)
		}
		if n, _, err := s.ExpireReportsOf(bg, clock.Add(-time.Hour), 100, kt1); err != nil || n != 1 {
			t.Fatalf("KT1 at 1 h: %d, %v", n, err)
		}
		rows, _ := s.Log(bg, []string{"S1", "S2", "S3"})
		for _, r := range rows {
			if want := map[string]string{"S1": "3004"}[r.GWID]; r.ResultCode != want {
				t.Errorf("%s (sender %q): result %q, want %q", r.GWID, r.Sender, r.ResultCode, want)
			}
		}
		// With a 1 h cut the rest go too, the one without a sender with them.
		if n, _, err := s.ExpireReportsOf(bg, clock.Add(-time.Hour), 100, rest); err != nil || n != 2 {
			t.Fatalf("the others at 1 h: %d, %v", n, err)
		}
	})
}

func TestExpireReports(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		clock := time.Date(2026, 11, 24, 12, 0, 0, 0, time.Local)
		s := openTest(t, dsn, func(o *Options) { o.Now = func() time.Time { return clock } })
		old := FormatTime(clock.Add(-73 * time.Hour))
		var evs []Event
		for i, src := range []byte{SourceListener, SourceT41, SourceListener} {
			m := testMessage(fmt.Sprintf("E%d", i), src)
			m.AcceptTime = old
			evs = append(evs, Event{Kind: EventAccept, Message: m})
		}
		// E2 has its result already; an Ack-only row E3 (its Accept lost).
		evs = append(evs, Event{Kind: EventReport, Message: Message{GWID: "E2"}, EventTime: old, ResultCode: "0000"})
		evs = append(evs, Event{Kind: EventAck, Message: Message{GWID: "E3"}, EventTime: old, AckCode: "0000"})
		fresh := testMessage("E4", SourceListener)
		fresh.AcceptTime = FormatTime(clock.Add(-time.Hour))
		evs = append(evs, Event{Kind: EventAccept, Message: fresh})
		if _, err := s.ApplyEvents(bg, evs); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkReported(bg, []string{"E2"}); err != nil {
			t.Fatal(err)
		}
		n, reps, err := s.ExpireReports(bg, clock.Add(-72*time.Hour), 100)
		if err != nil || n != 3 {
			t.Fatalf("expired %d, %v", n, err)
		}
		if len(reps) != 1 || reps[0].GWID != "E0" || reps[0].ResultCode != "3004" || reps[0].DoneTime != FormatTime(clock) {
			t.Fatalf("reports %+v", reps)
		}
		if n, _, err := s.ExpireReports(bg, clock.Add(-72*time.Hour), 100); err != nil || n != 0 {
			t.Fatalf("second sweep %d %v", n, err)
		}
		rows, _ := s.Log(bg, []string{"E0", "E1", "E3", "E4"})
		for _, r := range rows {
			want := "3004"
			if r.GWID == "E4" {
				want = ""
			}
			if r.ResultCode != want {
				t.Fatalf("%s: %+v", r.GWID, r)
			}
		}
		// A late Report replaces the timeout and is owed again.
		reps, err = s.ApplyEvents(bg, []Event{{Kind: EventReport, Message: Message{GWID: "E0"}, EventTime: FormatTime(clock), ResultCode: "3001"}})
		if err != nil || len(reps) != 1 || reps[0].ResultCode != "3001" {
			t.Fatalf("late report %+v %v", reps, err)
		}
	})
}

func TestPNX(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		err := s.UpsertPNX(bg, []PNXEntry{{Number: "01011112222", Carrier: "KT", Source: PNXFromFile},
			{Number: "01033334444", Carrier: "SKT", UpdTime: "20260101000000"},
			{Number: "01033334444", Carrier: "LGT", UpdTime: "20260102000000"}})
		if err != nil {
			t.Fatal(err)
		}
		if c, ok, err := s.LookupPNX(bg, "01033334444"); err != nil || !ok || c != "LGT" {
			t.Fatalf("lookup %q %v %v", c, ok, err)
		}
		if _, ok, err := s.LookupPNX(bg, "01099999999"); err != nil || ok {
			t.Fatalf("lookup missing: %v %v", ok, err)
		}
		m := testMessage("P1", SourceListener)
		m.Dest = "01011112222"
		_, err = s.ApplyEvents(bg, []Event{{Kind: EventAccept, Message: m},
			{Kind: EventReport, Message: Message{GWID: "P1"}, ResultCode: "0000", PortedCarrier: "SKT"}})
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.LoadPNX(bg)
		if err != nil || len(all) != 2 || all["01011112222"] != "SKT" {
			t.Fatalf("load %v %v", all, err)
		}
	})
}

func TestSummary(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		m1 := testMessage("00000000000000000001", SourceListener)
		m1.Sender = "KT1"
		m2 := testMessage("00000000000000000002", SourceListener)
		m2.Sender = "KT1"
		evs := []Event{
			{Kind: EventAccept, Message: m1},
			{Kind: EventReport, Message: Message{GWID: m1.GWID}, ResultCode: "0000"},
			{Kind: EventAccept, Message: m2},
		}
		if _, err := s.ApplyEvents(bg, evs); err != nil {
			t.Fatal(err)
		}
		rows, err := s.Summary(bg)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[string([]byte{r.Source, r.Status})+"/"+r.ResultCode+"/"+r.Sender] += r.Count
		}
		if got["L4/0000/KT1"] != 1 || got["L3//KT1"] != 1 {
			t.Fatalf("summary = %v", got)
		}
		k, err := s.CountKeys(bg)
		if err != nil || k.Rows != 2 || k.Keys != 2 || k.FinalKeys != 1 {
			t.Fatalf("CountKeys = %+v, %v", k, err)
		}
	})
}
