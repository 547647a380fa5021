package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// reclaimPlan returns the plan the database picks for ClaimDue's reclaim
// statement, planned inside a claiming transaction as ClaimDue runs it
// (claimSetup first). PostgreSQL: EXPLAIN's text, one line per node;
// SQLite: EXPLAIN QUERY PLAN's detail column, one line per step.
func reclaimPlan(t testing.TB, s *Store, limit int, before time.Time) string {
	t.Helper()
	var lines []string
	err := s.inTx(bg, "explain reclaim", func(tx tx) error {
		if s.d.claimSetup != "" {
			if _, err := tx.exec(bg, s.d.claimSetup); err != nil {
				return err
			}
		}
		explain := "EXPLAIN "
		if s.d == dialectSQLite {
			explain = "EXPLAIN QUERY PLAN "
		}
		r, err := tx.query(bg, explain+s.reclaimSQL(limit), FormatTime(before))
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var line sql.NullString
			if s.d == dialectSQLite {
				var id, parent, notUsed sql.NullInt64
				if err := r.Scan(&id, &parent, &notUsed, &line); err != nil {
					return err
				}
			} else if err := r.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line.String)
		}
		return r.Err()
	})
	if err != nil {
		t.Fatalf("explain reclaim: %v", err)
	}
	return strings.Join(lines, "\n")
}

// fillClaimed leaves T41 as a large drain leaves it while dbx has not yet
// moved the claimed rows: n rows in STATUS 2 claimed just now, and waiting
// rows beside them.
func fillClaimed(t testing.TB, s *Store, claimed, waiting int) {
	t.Helper()
	fillDue(t, s, claimed)
	for left := claimed; left > 0; {
		rows, err := s.ClaimDue(bg, time.Now(), 5000, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatalf("claimed %d of %d", claimed-left, claimed)
		}
		left -= len(rows)
	}
	later := t41Rows(waiting, "BANK02", FormatTime(time.Now().Add(time.Hour)))
	if err := s.InsertT41(bg, later); err != nil {
		t.Fatal(err)
	}
	if s.d == dialectPostgres {
		// What autovacuum does after such a burst; the plan must hold
		// with fresh statistics, not only with empty ones.
		if _, err := s.b.exec(bg, "ANALYZE T41"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReclaimUsesIndex: with 20,000 rows in STATUS 2 claimed just now (a
// drain whose rows dbx has not moved yet), the reclaim statement reads
// T41_IX_RECLAIM in order, with no sort, on PostgreSQL and SQLite. Without
// the index (schema version 1) the same statement sorts, which is what the
// test would have caught: each claim then read and sorted every STATUS 2
// row.
func TestReclaimUsesIndex(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		fillClaimed(t, s, 20000, 1000)
		before := time.Now().Add(-5 * time.Minute)
		plan := reclaimPlan(t, s, 500, before)
		t.Logf("plan with migration 2:\n%s", plan)
		lower := strings.ToLower(plan)
		if !strings.Contains(lower, "t41_ix_reclaim") {
			t.Errorf("the reclaim statement does not use T41_IX_RECLAIM:\n%s", plan)
		}
		if strings.Contains(lower, "sort") || strings.Contains(lower, "temp b-tree") {
			t.Errorf("the reclaim statement sorts:\n%s", plan)
		}

		// Timed beside each other in this run, for the log only.
		t0 := time.Now()
		rows, err := s.ClaimDue(bg, time.Now(), 500, before)
		with := time.Since(t0)
		if err != nil || len(rows) != 0 {
			t.Fatalf("reclaim claim: %d rows, %v", len(rows), err)
		}

		if _, err := s.b.exec(bg, "DROP INDEX T41_IX_RECLAIM"); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		clear(s.stmts) // be sure PostgreSQL re-plans
		s.mu.Unlock()
		if b, ok := s.b.(*sqlBackend); ok {
			b.forget() // a kept EXPLAIN keeps the plan it was prepared with
		}
		old := reclaimPlan(t, s, 500, before)
		t.Logf("plan without it (schema version 1):\n%s", old)
		ol := strings.ToLower(old)
		if strings.Contains(ol, "t41_ix_reclaim") || !(strings.Contains(ol, "sort") || strings.Contains(ol, "temp b-tree")) {
			t.Errorf("without the index the plan should sort; the check cannot tell the difference:\n%s", old)
		}
		t0 = time.Now()
		if _, err := s.ClaimDue(bg, time.Now(), 500, before); err != nil {
			t.Fatal(err)
		}
		t.Logf("one claim looking for rows to reclaim among 20,000 STATUS 2 rows: %v with the index, %v without", with, time.Since(t0))
	})
}

// TestMigrateFromVersion1: a database at schema version 1 (before the
// reclaim and PNX indexes) is brought to the newest version by Migrate, and its rows
// are untouched.
func TestMigrateFromVersion1(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		if err := s.InsertT41(bg, t41Rows(3, "BANK01", "20261121100000")); err != nil {
			t.Fatal(err)
		}
		// Back to version 1 as a release before migration 2 left it.
		for _, ix := range []string{"T41_IX_RECLAIM", "PNX_IX_UPD"} {
			if _, err := s.b.exec(bg, "DROP INDEX "+ix); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.b.exec(bg, s.d.render("DELETE FROM SCHEMA_VERSION WHERE VERSION > ?"), 1); err != nil {
			t.Fatal(err)
		}
		if v, err := s.SchemaVersion(bg); err != nil || v != 1 {
			t.Fatalf("version %d, %v; want 1", v, err)
		}
		if err := s.Migrate(bg); err != nil {
			t.Fatal(err)
		}
		if v, err := s.SchemaVersion(bg); err != nil || v != len(migrations) {
			t.Fatalf("version %d, %v; want %d", v, err, len(migrations))
		}
		if !strings.Contains(strings.ToLower(reclaimPlan(t, s, 10, time.Now())), "t41_ix_reclaim") {
			t.Fatal("migration 2 did not create T41_IX_RECLAIM")
		}
		if c, err := s.CountT41(bg); err != nil || c[StatusWaiting] != 3 {
			t.Fatalf("T41 after migrating: %v %v", c, err)
		}
	})
}

// BenchmarkClaimDrainReclaim drains due T41 rows with ClaimDue(1000)
// looking for rows to reclaim on every claim, as sch does, while the
// claimed rows stay in STATUS 2 (dbx behind). "index" is the schema as
// migrated; "v1" is the same run without T41_IX_RECLAIM (schema version
// 1), the baseline the fix is measured against.
//
//	go test -run '^$' -bench ClaimDrainReclaim -benchtime 1x ./gw/store/
func BenchmarkClaimDrainReclaim(b *testing.B) {
	const rows = 30_000
	for _, db := range []string{"sqlite", "postgres"} {
		for _, schema := range []string{"index", "v1"} {
			b.Run(db+"/"+schema, func(b *testing.B) {
				var claimed int
				var el time.Duration
				for i := 0; i < b.N; i++ {
					s := openTest(b, benchDSN(b, db))
					if schema == "v1" {
						if _, err := s.b.exec(bg, "DROP INDEX T41_IX_RECLAIM"); err != nil {
							b.Fatal(err)
						}
					}
					fillDue(b, s, rows)
					t0 := time.Now()
					n, err := drainReclaiming(bg, s, 1000)
					el += time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					if n != rows {
						b.Fatalf("claimed %d of %d", n, rows)
					}
					claimed += n
				}
				b.ReportMetric(float64(claimed)/el.Seconds(), "claimed-rows/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// drainReclaiming claims until nothing is due, every claim looking for
// rows claimed more than five minutes ago, and returns how many it claimed.
func drainReclaiming(ctx context.Context, s *Store, batch int) (int, error) {
	n := 0
	for {
		now := time.Now()
		rows, err := s.ClaimDue(ctx, now, batch, now.Add(-5*time.Minute))
		if err != nil {
			return n, fmt.Errorf("after %d rows: %w", n, err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		n += len(rows)
	}
}
