// Command dbxbench measures dbx: events per second from a pre-filled DBX
// queue (real SysV ring, with its file part) into SQLite and PostgreSQL at
// fetch counts 1, 100 and 1,000, three events per message (Accept, Ack,
// Report: Acks trail their Accepts by 100 messages and Reports by 200, as
// from live senders; a third of the messages from each source, so a third
// are REPORTed on RPT). Beside each figure, in the same run, the baseline:
// store.ApplyEvents alone, called directly with the same events in the
// same batches: no queue, no decoding, no RPT put, no MarkReported. Runs alternate dbx and baseline, and the median is printed.
//
// Its last line is what `make bench-dbx` shows:
//
//	dbx: sqlite=<events/s> postgres=<events/s>
//
// for fetch count 1,000. Each run gets a home of its own (a copy of etc/
// with SysV keys of its own), a fresh SQLite file or PostgreSQL schema, and
// removes them at the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dbx"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue/shmq"
)

type flags struct {
	etc      string
	pg       string
	messages int
	small    int
	runs     int
	fetches  []int
	dbs      []string
}

func main() {
	var f flags
	var fetches, dbs string
	flag.StringVar(&f.etc, "etc", "etc", "the shipped etc/ directory to copy")
	flag.StringVar(&f.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL DSN (a schema of the run's own is made in it)")
	flag.IntVar(&f.messages, "messages", 20000, "messages per run at fetch counts ≥ 100 (three events each; 2/3 of them spill to the DBX file part, as a backlog does)")
	flag.IntVar(&f.small, "messages-fetch1", 600, "messages per run at fetch count 1")
	flag.IntVar(&f.runs, "runs", 3, "runs of each, alternating dbx and baseline; the median is printed")
	flag.StringVar(&fetches, "fetch", "1,100,1000", "fetch counts")
	flag.StringVar(&dbs, "db", "sqlite,postgres", "databases")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dbxbench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "dbxbench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	for _, s := range strings.Split(fetches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "dbxbench: bad fetch count %q\n", s)
			os.Exit(2)
		}
		f.fetches = append(f.fetches, n)
	}
	f.dbs = strings.Split(dbs, ",")
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "dbxbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func run(f flags) error {
	fmt.Printf("dbxbench: %d runs each (median), load average %s\n", f.runs, loadavg())
	fmt.Printf("%-9s %6s %7s %14s %18s %6s\n", "database", "fetch", "events", "dbx events/s", "baseline events/s", "ratio")
	final := map[string]float64{}
	for _, db := range f.dbs {
		for _, fetch := range f.fetches {
			n := f.messages
			if fetch == 1 {
				n = f.small
			}
			var got, base []float64
			for i := 0; i < f.runs; i++ {
				r, err := runDBX(f, db, fetch, n)
				if err != nil {
					return fmt.Errorf("%s fetch %d: %w", db, fetch, err)
				}
				b, err := runBaseline(f, db, fetch, n)
				if err != nil {
					return fmt.Errorf("%s fetch %d baseline: %w", db, fetch, err)
				}
				got, base = append(got, r), append(base, b)
			}
			g, b := median(got), median(base)
			fmt.Printf("%-9s %6d %7d %14.0f %18.0f %6.2f\n", db, fetch, 3*n, g, b, g/b)
			if fetch == 1000 {
				final[db] = g
			}
		}
	}
	fmt.Printf("load average after: %s\n", loadavg())
	fmt.Printf("dbx: sqlite=%.0f postgres=%.0f\n", final["sqlite"], final["postgres"])
	return nil
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// events returns the run's events in queue order.
func events(n int) []msg.Event {
	text := string(layout.MustEUCKR("[M1은행] 입금 1,250,000원 홍길동 잔액 3,456,789원"))
	now := time.Now()
	ts := func(d time.Duration) string { return store.FormatTime(now.Add(d)) }
	var evs []msg.Event
	id := func(i int) string { return fmt.Sprintf("%020d", 17637700000000000000+uint64(i)) }
	for i := 0; i < n+200; i++ {
		if i < n {
			src := []byte{msg.SourceListener, msg.SourceT41, msg.SourceFile}[i%3]
			m := msg.Message{GWID: id(i), Source: src, ClientID: "BANK01", MsgKey: fmt.Sprintf("KEY%012d", i), MsgType: 'S', JobClass: 'R',
				AcceptTime: ts(0), Carrier: "KT", Sender: "KT1", Callback: "0215880000", Dest: fmt.Sprintf("010%08d", i), Text: text}
			evs = append(evs, msg.Event{Kind: msg.KindAccept, GWID: m.GWID, EventTime: m.AcceptTime, Carrier: "KT", Sender: "KT1", HasMsg: true, Msg: m})
		}
		if k := i - 100; k >= 0 && k < n {
			evs = append(evs, msg.Event{Kind: msg.KindAck, GWID: id(k), EventTime: ts(time.Second), Carrier: "KT", Sender: "KT1",
				CarrierMsgID: fmt.Sprintf("KT%010d", k), AckCode: telegram.OK, CarrierCode: "00"})
		}
		if k := i - 200; k >= 0 && k < n {
			evs = append(evs, msg.Event{Kind: msg.KindReport, GWID: id(k), EventTime: ts(5 * time.Second), Sender: "KT1",
				CarrierMsgID: fmt.Sprintf("KT%010d", k), ResultCode: telegram.OK, CarrierCode: "00"})
		}
	}
	return evs
}

// home is one run's M1 home and database.
type home struct {
	dir     string
	cfg     *config.Config
	cleanup []func()
}

func (h *home) close() {
	for i := len(h.cleanup) - 1; i >= 0; i-- {
		h.cleanup[i]()
	}
}

// newHome copies etc/ with SysV keys of the run's own and a database of
// its own.
func newHome(f flags, db string, fetch int) (*home, error) {
	dir, err := os.MkdirTemp("", "dbxbench-")
	if err != nil {
		return nil, err
	}
	h := &home{dir: dir}
	h.cleanup = append(h.cleanup, func() { _ = os.RemoveAll(dir) })
	dsn := "sqlite:var/m1.db"
	if db == "postgres" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema := "m1_dbxbench_" + hex.EncodeToString(b[:])
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, f.pg)
		if err != nil {
			h.close()
			return nil, fmt.Errorf("PostgreSQL at %s: %w", f.pg, err)
		}
		_, err = c.Exec(ctx, "CREATE SCHEMA "+schema)
		_ = c.Close(context.Background())
		if err != nil {
			h.close()
			return nil, err
		}
		h.cleanup = append(h.cleanup, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, f.pg); err == nil {
				_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
				_ = c.Close(context.Background())
			}
		})
		sep := "?"
		if strings.Contains(f.pg, "?") {
			sep = "&"
		}
		dsn = f.pg + sep + "search_path=" + schema
	} else if db != "sqlite" {
		h.close()
		return nil, fmt.Errorf("unknown database %q", db)
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o700); err != nil {
		h.close()
		return nil, err
	}
	var kb [1]byte
	_, _ = rand.Read(kb[:])
	prefix := fmt.Sprintf(`"0x7c%02x`, kb[0])
	ents, err := os.ReadDir(f.etc)
	if err != nil {
		h.close()
		return nil, err
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.etc, e.Name()))
		if err != nil {
			h.close()
			return nil, err
		}
		s := strings.ReplaceAll(string(b), `"0x4d31`, prefix)
		if e.Name() == "m1.toml" {
			s = set(s, "dsn", strconv.Quote(dsn))
			s = set(s, "fetch_count", strconv.Itoa(fetch))
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", e.Name()), []byte(s), 0o600); err != nil {
			h.close()
			return nil, err
		}
	}
	if h.cfg, err = config.Load(dir); err != nil {
		h.close()
		return nil, err
	}
	cfg := h.cfg
	h.cleanup = append(h.cleanup, func() {
		for _, n := range queues.Names(cfg) {
			if o, err := queues.Options(cfg, n, false, nil); err == nil {
				_ = shmq.Remove(o.Shm.Key)
			}
		}
	})
	return h, nil
}

func set(text, key, value string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `\s*=.*$`)
	return re.ReplaceAllLiteralString(text, key+" = "+value)
}

func openStore(h *home) (*store.Store, error) {
	st, err := store.Open(store.Options{DSN: h.cfg.Database.DSN})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(context.Background()); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// runDBX pre-fills DBX and times dbx draining it.
func runDBX(f flags, db string, fetch, n int) (float64, error) {
	h, err := newHome(f, db, fetch)
	if err != nil {
		return 0, err
	}
	defer h.close()
	st, err := openStore(h)
	if err != nil {
		return 0, err
	}
	log := zap.NewNop()
	for _, q := range []string{config.QueueDBX, config.QueueRPT} {
		if _, err := queues.Create(h.cfg, q); err != nil {
			_ = st.Close()
			return 0, err
		}
	}
	prod, err := queues.Open(h.cfg, config.QueueDBX, log)
	if err != nil {
		_ = st.Close()
		return 0, err
	}
	evs := events(n)
	recs := make([][]byte, len(evs))
	for i := range evs {
		recs[i] = evs[i].Encode(nil)
	}
	for len(recs) > 0 {
		k, err := prod.PutBatch(recs[:min(len(recs), 1000)], 10*time.Second)
		if err != nil {
			_ = prod.Close()
			_ = st.Close()
			return 0, err
		}
		recs = recs[k:]
	}
	_ = prod.Close()
	in, err := queues.OpenConsumer(h.cfg, config.QueueDBX, log)
	if err != nil {
		_ = st.Close()
		return 0, err
	}
	rpt, err := queues.Open(h.cfg, config.QueueRPT, log)
	if err != nil {
		_ = in.Close()
		_ = st.Close()
		return 0, err
	}
	d, err := dbx.New(dbx.Options{Config: h.cfg, Log: log, Store: st, In: in, RPT: rpt})
	if err != nil {
		return 0, err
	}
	errc := make(chan error, 1)
	t0 := time.Now()
	go func() { errc <- d.Main() }()
	total := uint64(len(evs))
	for d.Stats().Applied < total {
		select {
		case err := <-errc:
			return 0, fmt.Errorf("dbx stopped: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	el := time.Since(t0)
	d.Exit()
	if err := <-errc; err != nil {
		return 0, err
	}
	return float64(total) / el.Seconds(), nil
}

// runBaseline applies the same events in the same batches with
// store.ApplyEvents directly.
func runBaseline(f flags, db string, fetch, n int) (float64, error) {
	h, err := newHome(f, db, fetch)
	if err != nil {
		return 0, err
	}
	defer h.close()
	st, err := openStore(h)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	senders := map[string]string{}
	for _, s := range h.cfg.Senders {
		senders[s.ID] = s.Carrier
	}
	src := events(n)
	evs := make([]store.Event, len(src))
	for i := range src {
		evs[i] = dbx.ToStore(&src[i], senders)
	}
	ctx := context.Background()
	t0 := time.Now()
	for i := 0; i < len(evs); i += fetch {
		if _, err := st.ApplyEvents(ctx, evs[i:min(i+fetch, len(evs))]); err != nil {
			return 0, err
		}
	}
	el := time.Since(t0)
	if el <= 0 {
		return 0, errors.New("no time measured")
	}
	return float64(len(evs)) / el.Seconds(), nil
}
