package sch

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// TestDrainValidateFuture: due rows are queued once each to their lane as
// SOURCE T records; invalid rows are queued with their RESULT; future rows
// wait for their time; the process table shows sch and its counters.
func TestDrainValidateFuture(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		_, cfg := home(t, "poll_interval = \"20ms\"\nbatch = 7\nreclaim_after = \"5m\"")
		st := openStore(t, dsn)
		now := time.Now()
		rows := dueRows(30, "OK", now.Add(-time.Minute))
		bad := func(key string, f func(r *store.T41Row)) store.T41Row {
			r := dueRows(1, key, now.Add(-time.Second))[0]
			r.MsgKey = key
			f(&r)
			return r
		}
		want := map[string]telegram.Code{
			"LONGSMS":  telegram.ErrTooLong,
			"BADDEST":  telegram.ErrDest,
			"BADCLASS": telegram.ErrField,
			"BADTYPE":  telegram.ErrField,
			"EMOJI":    telegram.ErrTooLong,
			"LONGSUBJ": telegram.ErrTooLong,
			"NOCALLBK": telegram.ErrDest,
		}
		rows = append(rows,
			bad("LONGSMS", func(r *store.T41Row) { r.Text = strings.Repeat("가", 46) }),
			bad("BADDEST", func(r *store.T41Row) { r.Dest = "0101234abcd" }),
			bad("BADCLASS", func(r *store.T41Row) { r.JobClass = "X" }),
			bad("BADTYPE", func(r *store.T41Row) { r.MsgType = "Q" }),
			bad("EMOJI", func(r *store.T41Row) { r.Text = "잔액 🙂" }),
			bad("LONGSUBJ", func(r *store.T41Row) { r.MsgType, r.Subject = "L", strings.Repeat("제목", 11) }),
			bad("NOCALLBK", func(r *store.T41Row) { r.Callback = "" }),
		)
		future := dueRows(5, "FUT", now.Add(time.Hour))
		insert(t, st, append(rows, future...))

		tab, err := queues.ProcTab(cfg, true, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tab.Close() })
		var skew atomic.Int64
		sk := newSink(t, cfg, st, false)
		s := runSch(t, Options{Config: cfg, Log: zaptest.NewLogger(t), Store: st, Lanes: openLanes(t, cfg), Table: tab,
			Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
		waitFor(t, 20*time.Second, "due rows queued", func() bool { return sk.count() >= len(rows) })
		time.Sleep(200 * time.Millisecond)
		recs := sk.snapshot()
		if len(recs) != len(rows) {
			t.Fatalf("queued %d records, want %d (future rows must wait)", len(recs), len(rows))
		}
		seqs, ids := map[uint64]bool{}, map[string]bool{}
		for _, g := range recs {
			m := g.m
			if m.Source != msg.SourceT41 || m.MsgSeq == 0 || seqs[m.MsgSeq] || ids[m.GWID] || len(m.GWID) != 20 {
				t.Fatalf("record %+v: source, MSG_SEQ or GW_ID wrong or repeated", m)
			}
			seqs[m.MsgSeq], ids[m.GWID] = true, true
			acc, _ := msg.ParseTime(m.AcceptTime)
			exp, _ := msg.ParseTime(m.ExpireTime)
			if exp.Sub(acc) != 24*time.Hour || m.DupChecked || !strings.HasPrefix(m.SrcRef, "T41:") {
				t.Errorf("%s: accept %s expire %s dup %v src %q", m.MsgKey, m.AcceptTime, m.ExpireTime, m.DupChecked, m.SrcRef)
			}
			code, isBad := want[m.MsgKey]
			if m.Result != code {
				t.Errorf("%s: RESULT %v, want %v", m.MsgKey, m.Result, code)
			}
			lane := "DIST." + string(m.JobClass)
			if m.JobClass != 'R' && m.JobClass != 'S' && m.JobClass != 'B' {
				lane = "DIST.S"
			}
			if g.lane != lane {
				t.Errorf("%s (class %c) on %s, want %s", m.MsgKey, m.JobClass, g.lane, lane)
			}
			if !isBad && m.Text != string(mustEUCKR(t, "입금 10,000원 잔액 1,000원")) {
				t.Errorf("%s: text not converted to EUC-KR: %q", m.MsgKey, m.Text)
			}
		}
		cnt, err := st.CountT41(context.Background())
		if err != nil || cnt[store.StatusWaiting] != 5 || cnt[store.StatusRequesting] != 0 {
			t.Fatalf("T41 after the drain: %v, %v (want the 5 future rows waiting)", cnt, err)
		}
		e, ok := tab.Lookup("sch")
		if !ok || !e.Alive || e.State != proctab.Running || e.Role != "sch" || e.In != uint64(len(rows)) || e.Out != uint64(len(rows)) {
			t.Fatalf("process table entry %+v, %v", e, ok)
		}
		if st := s.Stats(); st.Invalid != uint64(len(want)) {
			t.Errorf("stats %+v", st)
		}
		// Their time comes.
		skew.Store(int64(2 * time.Hour))
		waitFor(t, 10*time.Second, "future rows queued", func() bool { return sk.count() == len(rows)+5 })
	})
}

func mustEUCKR(t *testing.T, s string) []byte {
	b, ok := toEUCKR(s)
	if !ok {
		t.Fatal("not EUC-KR")
	}
	return []byte(b)
}

// TestBackpressure: with nobody taking from the lane, sch fills it to its
// capacity (190), claims nothing more, and never spills; once the lane is
// drained it goes on, and every row is queued exactly once.
func TestBackpressure(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		_, cfg := home(t, "poll_interval = \"20ms\"\nbatch = 500\nreclaim_after = \"5m\"")
		st := openStore(t, dsn)
		rows := dueRows(1000, "BP", time.Now().Add(-time.Minute))
		for i := range rows {
			rows[i].JobClass = "B"
		}
		insert(t, st, rows)
		lanes := openLanes(t, cfg)
		sk := newSink(t, cfg, st, true)
		s := runSch(t, Options{Config: cfg, Log: zaptest.NewLogger(t), Store: st, Lanes: lanes})
		waitFor(t, 10*time.Second, "a full lane", func() bool { return s.Stats().FullWaits > 5 })
		before := s.Stats()
		time.Sleep(300 * time.Millisecond)
		after := s.Stats()
		if before.Claimed != 190 || after.Claimed != 190 || after.FullWaits <= before.FullWaits {
			t.Fatalf("while full: claimed %d then %d (want 190), full waits %d then %d", before.Claimed, after.Claimed,
				before.FullWaits, after.FullWaits)
		}
		qst, err := lanes['B'].Stat()
		if err != nil || qst.Len() != 190 || qst.FileLen != 0 {
			t.Fatalf("DIST.B while full: len %d, file part %d, %v", qst.Len(), qst.FileLen, err)
		}
		cnt, _ := st.CountT41(context.Background())
		if cnt[store.StatusWaiting] != 810 {
			t.Fatalf("T41 while full: %v", cnt)
		}
		sk.resume()
		waitFor(t, 30*time.Second, "every row queued", func() bool { return sk.count() >= 1000 })
		time.Sleep(100 * time.Millisecond)
		seen := map[uint64]int{}
		for _, g := range sk.snapshot() {
			seen[g.m.MsgSeq]++
		}
		if len(seen) != 1000 || sk.count() != 1000 {
			t.Fatalf("%d records for %d rows, want 1000 each once", sk.count(), len(seen))
		}
	})
}
