package dbx

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/internal/testpg"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/spill"
)

func pgBaseDSN() string { return testpg.BaseDSN() }

// pgSchema is a schema of the test's own, dropped at cleanup (internal/testpg).
func pgSchema(t testing.TB) string {
	t.Helper()
	return testpg.Schema(t, "m1_dbx_test_")
}

// pgDSN returns the DSN of schema on the server at hostport.
func pgDSN(hostport, schema string) string {
	base := strings.Replace(pgBaseDSN(), "127.0.0.1:5432", hostport, 1)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// eachDB runs fn on a home whose database is a fresh SQLite file, then on
// one whose database is a fresh PostgreSQL schema.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:var/m1.db") })
	t.Run("postgres", func(t *testing.T) { fn(t, pgDSN("127.0.0.1:5432", pgSchema(t))) })
}

// settings are etc/m1.toml values a test changes: key = value, keys as in
// the file (fetch_count, max_wait, report, dsn, ...), plus "dbx_capacity".
type settings map[string]string

// editM1 applies s to the text of m1.toml.
func editM1(text string, s settings) string {
	for k, v := range s {
		if k == "dbx_capacity" {
			i := strings.Index(text, `name = "DBX"`)
			j := i + strings.Index(text[i:], "capacity = ")
			e := j + strings.Index(text[j:], "\n")
			text = text[:j] + "capacity = " + v + text[e:]
			continue
		}
		if k == "kt1_report_timeout" { // sender KT1's own, the others keep theirs
			i := strings.Index(text, `id = "KT1"`)
			j := i + strings.Index(text[i:], "# report_timeout = ") // shipped commented out
			e := j + strings.Index(text[j:], "\n")
			text = text[:j] + "report_timeout = " + v + text[e:]
			continue
		}
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(k) + `\s*=.*$`)
		if !re.MatchString(text) {
			panic("m1.toml has no setting " + k)
		}
		text = re.ReplaceAllLiteralString(text, k+" = "+v)
	}
	return text
}

// harness is a test home with real SysV queues: the test puts on DBX as a
// producer and takes from RPT as its consumer, and checks the database
// through a store of its own.
type harness struct {
	t    testing.TB
	cfg  *config.Config
	st   *store.Store
	prod *spill.Queue
	rpt  *spill.Queue
}

// newHarness makes a home on dsn with s applied, and removes its SysV
// objects at cleanup.
func newHarness(t testing.TB, dsn string, s settings) *harness {
	t.Helper()
	all := settings{"dsn": fmt.Sprintf("%q", dsn), "max_wait": `"20ms"`, "retry_min": `"50ms"`, "retry_max": `"400ms"`}
	checkDSN := ""
	for k, v := range s {
		if k == "check_dsn" { // the test's own store reads here, not through dbx's DSN
			checkDSN = v
			continue
		}
		all[k] = v
	}
	cfg := testhome.Load(t, func(name, text string) string {
		if name != "m1.toml" {
			return text
		}
		return editM1(text, all)
	})
	t.Cleanup(func() { _ = queues.RemoveAll(cfg) })
	for _, n := range []string{config.QueueDBX, config.QueueRPT} { // as m1start does
		if _, err := queues.Create(cfg, n); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, cfg: cfg}
	if checkDSN == "" {
		checkDSN = cfg.Database.DSN
	}
	st, err := store.Open(store.Options{DSN: checkDSN, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.st = st
	if h.prod, err = queues.Open(cfg, config.QueueDBX, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.prod.Close() })
	if h.rpt, err = queues.OpenConsumer(cfg, config.QueueRPT, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.rpt.Close() })
	return h
}

// running is a dbx started by a test.
type running struct {
	d    *DBX
	errc chan error
}

// newDBX builds a dbx on the harness's home, as FromEnv does.
func (h *harness) newDBX(log *zap.Logger, tab bool) *DBX {
	h.t.Helper()
	cfg := h.cfg
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, Logger: log})
	if err != nil {
		h.t.Fatal(err)
	}
	in, err := queues.OpenConsumer(cfg, config.QueueDBX, log)
	if err != nil {
		h.t.Fatal(err)
	}
	rpt, err := queues.Open(cfg, config.QueueRPT, log)
	if err != nil {
		h.t.Fatal(err)
	}
	o := Options{Config: cfg, Log: log, Store: st, In: in, RPT: rpt}
	if tab {
		t, err := queues.ProcTab(cfg, true, log)
		if err != nil {
			h.t.Fatal(err)
		}
		o.Table, o.Closers = t, []func() error{t.Close}
	}
	d, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// start runs a dbx; it is stopped at cleanup if the test did not.
func (h *harness) start() *running {
	h.t.Helper()
	return h.startWith(zaptest.NewLogger(h.t), false)
}

func (h *harness) startWith(log *zap.Logger, tab bool) *running {
	r := &running{d: h.newDBX(log, tab), errc: make(chan error, 1)}
	go func() { r.errc <- r.d.Main() }()
	h.t.Cleanup(func() { r.d.Exit() })
	return r
}

// stop stops the dbx and fails the test if Main failed.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.d.Exit()
	if err := <-r.errc; err != nil {
		t.Fatalf("dbx Main: %v", err)
	}
}

// put puts events on DBX.
func (h *harness) put(evs ...msg.Event) {
	h.t.Helper()
	recs := make([][]byte, len(evs))
	for i := range evs {
		recs[i] = evs[i].Encode(nil)
	}
	for len(recs) > 0 {
		n, err := h.prod.PutBatch(recs, 5*time.Second)
		if err != nil {
			h.t.Fatalf("put on DBX: %v", err)
		}
		recs = recs[n:]
	}
}

// drainRPT takes every RPT record that comes within wait of the last one.
func (h *harness) drainRPT(wait time.Duration) []msg.RPT {
	h.t.Helper()
	var out []msg.RPT
	for {
		recs, err := h.rpt.TakeBatch(nil, 1000, wait)
		if len(recs) == 0 {
			if err != nil && !errors.Is(err, queue.ErrEmpty) {
				h.t.Fatal(err)
			}
			return out
		}
		for _, r := range recs {
			p, err := msg.DecodeRPT(r.Data)
			if err != nil {
				h.t.Fatalf("RPT record: %v", err)
			}
			out = append(out, p)
		}
		if err := h.rpt.Commit(recs[len(recs)-1].Pos); err != nil {
			h.t.Fatal(err)
		}
	}
}

// rows returns the T41_LOG rows of gwids by GW_ID.
func (h *harness) rows(gwids []string) map[string]store.LogRow {
	h.t.Helper()
	m := map[string]store.LogRow{}
	for i := 0; i < len(gwids); i += 900 {
		rs, err := h.st.Log(context.Background(), gwids[i:min(i+900, len(gwids))])
		if err != nil {
			h.t.Fatal(err)
		}
		for _, r := range rs {
			m[r.GWID] = r
		}
	}
	return m
}

// waitRows waits until every row of gwids exists and satisfies ok.
func (h *harness) waitRows(gwids []string, timeout time.Duration, ok func(store.LogRow) bool) map[string]store.LogRow {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := h.rows(gwids)
		bad := ""
		for _, id := range gwids {
			if r, found := m[id]; !found || !ok(r) {
				bad = id
				break
			}
		}
		if bad == "" {
			return m
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("row %s not as expected after %v: %+v", bad, timeout, m[bad])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queued is how many records DBX still holds, taken ones included.
func (h *harness) queued() int { return h.prod.Len() }

// waitDrained waits until DBX holds nothing.
func (h *harness) waitDrained(timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for h.queued() != 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("DBX still holds %d records after %v", h.queued(), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Event builders. Times are relative to base so that the report timeout
// (72 h by default) never ends test messages by surprise.

var base = time.Now().Add(-time.Minute)

func at(sec int) string { return store.FormatTime(base.Add(time.Duration(sec) * time.Second)) }

func gwid(n int) string { return fmt.Sprintf("%020d", 17637700000000000000+uint64(n)) }

var hangul = string(layout.MustEUCKR("입금 10,000원 안내"))

func message(id string, src byte) msg.Message {
	m := msg.Message{GWID: id, Source: src, ClientID: "BANK01", MsgKey: "K" + id[10:], MsgType: 'S', JobClass: 'R',
		AcceptTime: at(0), Carrier: "KT", Sender: "KT1", Callback: "0215880000", Dest: "010" + id[12:], Text: hangul}
	if src == msg.SourceListener {
		m.SrcRef = "127.0.0.1:50000"
	}
	return m
}

func accept(m msg.Message) msg.Event {
	return msg.Event{Kind: msg.KindAccept, GWID: m.GWID, EventTime: m.AcceptTime, Carrier: m.Carrier, Sender: m.Sender, HasMsg: true, Msg: m}
}

func ack(id string) msg.Event {
	return msg.Event{Kind: msg.KindAck, GWID: id, EventTime: at(1), Carrier: "KT", Sender: "KT1", CarrierMsgID: "KTM" + id[14:], AckCode: telegram.OK, CarrierCode: "00"}
}

func report(id string, c telegram.Code) msg.Event {
	return msg.Event{Kind: msg.KindReport, GWID: id, EventTime: at(5), Sender: "KT1", CarrierMsgID: "KTM" + id[14:], ResultCode: c, CarrierCode: "41"}
}

func final(m msg.Message, c telegram.Code) msg.Event {
	return msg.Event{Kind: msg.KindFinal, GWID: m.GWID, EventTime: at(2), ResultCode: c, HasMsg: true, Msg: m}
}

// byGWID counts RPT records per GW_ID.
func byGWID(rs []msg.RPT) map[string][]msg.RPT {
	m := map[string][]msg.RPT{}
	for _, r := range rs {
		m[r.GWID] = append(m[r.GWID], r)
	}
	return m
}
