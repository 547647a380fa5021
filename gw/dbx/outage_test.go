package dbx

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/internal/testpg"
)

// TestDatabaseDown: PostgreSQL goes away (a proxy in front of it refuses
// and cuts connections) while events keep coming; dbx logs the outage
// once, publishes it in the process table, lets the DBX queue spill to its
// file part, and catches up by itself when the database returns: every
// message ends as it should, every listener message is REPORTed.
func TestDatabaseDown(t *testing.T) {
	schema := pgSchema(t)
	px := testpg.NewProxy(t, "127.0.0.1:5432")
	h := newHarness(t, pgDSN(px.Addr, schema), settings{"check_dsn": pgDSN("127.0.0.1:5432", schema),
		"dbx_capacity": "100", "fetch_count": "200", "retry_min": `"100ms"`, "retry_max": `"500ms"`})
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
	r := h.startWith(log, true)

	var ids []string
	putMessages := func(from, n int) {
		for i := from; i < from+n; i++ {
			src := msg.SourceFile
			if i%2 == 0 {
				src = msg.SourceListener
			}
			m := message(gwid(i), src)
			h.put(accept(m), ack(m.GWID), report(m.GWID, telegram.OK))
		}
	}
	for i := 0; i < 50; i++ {
		ids = append(ids, gwid(i))
	}
	putMessages(0, 50)
	h.waitRows(ids, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })

	px.Down()
	downAt := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // events keep flowing while the database is away
		defer wg.Done()
		for k := 0; k < 10; k++ {
			putMessages(50+k*60, 60)
			time.Sleep(150 * time.Millisecond)
		}
	}()
	for i := 50; i < 650; i++ {
		ids = append(ids, gwid(i))
	}
	wg.Wait()
	st, err := h.prod.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.FileLen == 0 || h.queued() < 1700 {
		t.Fatalf("DBX while the database is down: %d queued, file part %d (stat %+v)", h.queued(), st.FileLen, st)
	}
	tab, err := queues.ProcTab(h.cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	e, ok := tab.Lookup("dbx")
	if !ok || !strings.Contains(e.LastError, "database unavailable") || e.Errors == 0 {
		t.Fatalf("process table entry while down: %+v", e)
	}
	time.Sleep(time.Until(downAt.Add(3 * time.Second)))
	px.Up()

	h.waitRows(ids, 60*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone && r.AckTime != "" })
	h.waitDrained(30 * time.Second)
	rows := h.rows(ids)
	for _, id := range ids {
		if rows[id].ResultCode != "0000" || rows[id].AcceptTime == "" {
			t.Fatalf("row %+v", rows[id])
		}
	}
	rpts := byGWID(h.drainRPT(500 * time.Millisecond))
	for i, id := range ids {
		if n := len(rpts[id]); (i%2 == 0) != (n >= 1) {
			t.Fatalf("REPORTs of %s (listener %v): %d", id, i%2 == 0, n)
		}
	}
	if s := r.d.Stats(); s.Outages != 1 {
		t.Fatalf("stats %+v: want one outage", s)
	}
	if n := logs.FilterMessageSnippet("database unavailable").Len(); n != 1 {
		t.Fatalf("outage logged %d times, want once", n)
	}
	if n := logs.FilterMessageSnippet("database available again").Len(); n != 1 {
		t.Fatalf("recovery logged %d times, want once", n)
	}
	if e, _ := tab.Lookup("dbx"); !strings.Contains(e.LastError, "available again") || e.In < uint64(len(ids)*3) {
		t.Fatalf("process table entry after: %+v", e)
	}
	r.stop(t)
}

// TestStopWhileDown: Exit while the database is down returns at once and
// commits nothing; the next dbx, with the database back, applies it all.
func TestStopWhileDown(t *testing.T) {
	schema := pgSchema(t)
	px := testpg.NewProxy(t, "127.0.0.1:5432")
	h := newHarness(t, pgDSN(px.Addr, schema), settings{"check_dsn": pgDSN("127.0.0.1:5432", schema)})
	r := h.start()
	px.Down()
	var ids []string
	for i := 0; i < 30; i++ {
		m := message(gwid(i), msg.SourceListener)
		h.put(accept(m), report(m.GWID, telegram.OK))
		ids = append(ids, m.GWID)
	}
	for deadline := time.Now().Add(10 * time.Second); r.d.Stats().Outages == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no outage seen")
		}
	}
	t0 := time.Now()
	r.stop(t)
	if el := time.Since(t0); el > 5*time.Second {
		t.Fatalf("Exit took %v while the database was down", el)
	}
	if q := h.queued(); q != 60 {
		t.Fatalf("DBX holds %d records after a stop while down, want all 60", q)
	}
	px.Up()
	r = h.start()
	h.waitRows(ids, 30*time.Second, func(r store.LogRow) bool { return r.Status == store.StatusDone })
	h.waitDrained(10 * time.Second)
	if got := byGWID(h.drainRPT(300 * time.Millisecond)); len(got) != len(ids) {
		t.Fatalf("REPORTs for %d messages, want %d", len(got), len(ids))
	}
	r.stop(t)
}
