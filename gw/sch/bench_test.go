package sch

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// drainRows is the T41 drain benchmark's size (the 100,000).
const drainRows = 100000

var drainResult = map[string]float64{}

// BenchmarkT41Drain measures rows per second from T41 into the
// distributor's lanes (real SysV rings of capacity 190, drained by a sink
// as dist would), on SQLite and PostgreSQL, beside a baseline measured in
// the same run: store.ClaimDue alone, claiming the same number of rows in
// claims of the lane capacity, queuing nothing. The last line is the
// figure line of `make bench-sch`.
func BenchmarkT41Drain(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var dsn string
			if db == "sqlite" {
				dsn = "sqlite:" + filepath.Join(b.TempDir(), "m1.db")
			} else {
				dsn = pgSchemaDSN(b)
			}
			benchDrain(b, db, dsn)
		})
	}
	fmt.Printf("sch: sqlite=%.0f postgres=%.0f\n", drainResult["sqlite"], drainResult["postgres"])
}

func benchDrain(b *testing.B, db, dsn string) {
	_, cfg := home(b, "poll_interval = \"100ms\"\nbatch = 500\nreclaim_after = \"5m\"")
	st := openStore(b, dsn)
	lanes := openLanes(b, cfg)
	sk := newSink(b, cfg, nil, false)
	var rate, base float64
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		// Baseline: ClaimDue alone over the same number of rows.
		insert(b, st, dueRows(drainRows, fmt.Sprintf("BASE%d", i), time.Now().Add(-time.Minute)))
		t0 := time.Now()
		for claimed := 0; claimed < drainRows; {
			rows, err := st.ClaimDue(context.Background(), time.Now(), 190, time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) == 0 {
				b.Fatalf("baseline claimed %d of %d", claimed, drainRows)
			}
			claimed += len(rows)
		}
		base = drainRows / time.Since(t0).Seconds()
		clearT41(b, dsn)

		insert(b, st, dueRows(drainRows, fmt.Sprintf("RUN%d", i), time.Now().Add(-time.Minute)))
		start := sk.count()
		b.StartTimer()
		t0 = time.Now()
		s, err := New(Options{Config: cfg, Log: zap.NewNop(), Store: st, Lanes: lanes})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Main() }()
		for sk.count()-start < drainRows {
			time.Sleep(200 * time.Microsecond)
		}
		el := time.Since(t0)
		b.StopTimer()
		s.Exit()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		rate = drainRows / el.Seconds()
		clearT41(b, dsn)
	}
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(base, "claim-only-rows/s")
	b.ReportMetric(0, "ns/op")
	drainResult[db] = rate
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("%s: sch %.0f rows/s into the lanes; ClaimDue alone %.0f rows/s; load average %s", db, rate, base, load)
}

// clearT41 empties T41 between rounds (the rows are all claimed).
func clearT41(b *testing.B, dsn string) {
	b.Helper()
	db := openRaw(b, dsn)
	defer db.close()
	db.exec(b, "DELETE FROM T41")
}

// rawDB is a plain connection for the benchmark's housekeeping.
type rawDB struct {
	sql *sql.DB
	pg  *pgx.Conn
}

func openRaw(b *testing.B, dsn string) *rawDB {
	if strings.HasPrefix(dsn, "sqlite:") {
		db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
		if err != nil {
			b.Fatal(err)
		}
		return &rawDB{sql: db}
	}
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	return &rawDB{pg: c}
}

func (r *rawDB) exec(b *testing.B, q string) {
	var err error
	if r.sql != nil {
		_, err = r.sql.Exec(q)
	} else {
		_, err = r.pg.Exec(context.Background(), q)
	}
	if err != nil {
		b.Fatal(err)
	}
}

func (r *rawDB) close() {
	if r.sql != nil {
		_ = r.sql.Close()
	} else {
		_ = r.pg.Close(context.Background())
	}
}
