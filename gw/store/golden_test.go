package store

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden statement files in testdata/")

// recBackend records the statements the store sends, for the golden
// tests: no Oracle server exists here, so Oracle's statements are checked
// as text. Queries answer one made-up row (COUNT queries answer 0).
type recBackend struct{ log []string }

func (b *recBackend) record(q string, args []any) {
	b.log = append(b.log, fmt.Sprintf("-- %d binds\n%s;", len(args), q))
}

func (b *recBackend) exec(_ context.Context, q string, args ...any) (int64, error) {
	b.record(q, args)
	return 1, nil
}

func (b *recBackend) query(_ context.Context, q string, args ...any) (rows, error) {
	b.record(q, args)
	return &fakeRows{n: 1, zero: strings.Contains(q, "COUNT(")}, nil
}

func (b *recBackend) begin(context.Context) (tx, error) { return b, nil }
func (b *recBackend) commit(context.Context) error      { return nil }
func (b *recBackend) rollback(context.Context) error    { return nil }
func (b *recBackend) ping(context.Context) error        { return nil }
func (b *recBackend) close() error                      { return nil }

type fakeRows struct {
	n    int
	zero bool
}

func (r *fakeRows) Next() bool   { r.n--; return r.n >= 0 }
func (r *fakeRows) Err() error   { return nil }
func (r *fakeRows) Close() error { return nil }
func (r *fakeRows) Scan(dest ...any) error {
	for i, d := range dest {
		switch d := d.(type) {
		case *int64:
			if !r.zero {
				*d = 7
			}
		case *sql.NullInt64:
			*d = sql.NullInt64{Int64: 7, Valid: true}
		case *sql.NullString:
			*d = sql.NullString{String: fmt.Sprintf("v%d", i), Valid: true}
		default:
			return fmt.Errorf("fake scan: %T", d)
		}
	}
	return nil
}

// recordAll runs every operation of the store on a recording backend of
// dialect d and returns the statements sent.
func recordAll(t *testing.T, d *dialect) string {
	rec := &recBackend{}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local)
	s := &Store{d: d, b: rec, log: nopLogger(), now: func() time.Time { return clock }, stmts: map[string]string{}}
	evs := lifecycle("G1", SourceListener)
	evs[2].PortedCarrier = "SKT"
	fin := Event{Kind: EventFinal, Message: testMessage("G2", SourceT41), ResultCode: "1203"}
	fin.MsgSeq = 42
	evs = append(evs, fin)
	steps := []struct {
		name string
		fn   func() error
	}{
		{"Migrate", func() error { return s.Migrate(bg) }},
		{"InsertT41 (2 rows)", func() error { return s.InsertT41(bg, t41Rows(2, "BANK01", "20261121100000")) }},
		{"ClaimDue (limit 2, reclaim)", func() error { _, err := s.ClaimDue(bg, clock, 2, clock.Add(-time.Minute)); return err }},
		{"ApplyEvents (2 messages: Accept+Ack+Report with a ported number; Final of a T41 row)", func() error { _, err := s.ApplyEvents(bg, evs); return err }},
		{"ExpireReports (limit 5)", func() error { _, _, err := s.ExpireReports(bg, clock.Add(-72*time.Hour), 5); return err }},
		{"ExpireReportsOf (limit 5, all but KT1, SKT)", func() error {
			_, _, err := s.ExpireReportsOf(bg, clock.Add(-72*time.Hour), 5, SenderFilter{Senders: []string{"KT1", "SKT"}, Except: true})
			return err
		}},
		{"PendingReports (limit 10)", func() error { _, err := s.PendingReports(bg, 10); return err }},
		{"MarkReported (2)", func() error { return s.MarkReported(bg, []string{"G1", "G2"}) }},
		{"LookupPNX", func() error { _, _, err := s.LookupPNX(bg, "01012345678"); return err }},
		{"LoadPNX", func() error { _, err := s.LoadPNX(bg); return err }},
		{"LoadPNXSince", func() error { _, _, err := s.LoadPNXSince(bg, ""); return err }},
		{"UpsertPNX (1)", func() error { return s.UpsertPNX(bg, []PNXEntry{{Number: "01012345678", Carrier: "KT"}}) }},
		{"DueCount", func() error { _, err := s.DueCount(bg, clock); return err }},
	}
	for _, st := range steps {
		rec.log = append(rec.log, "\n-- ===== "+st.name)
		if err := st.fn(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	return strings.Join(rec.log, "\n") + "\n"
}

var bindRE = map[string]*regexp.Regexp{
	"postgres": regexp.MustCompile(`\$(\d+)`),
	"oracle":   regexp.MustCompile(`:(\d+)`),
}

func TestGoldenStatements(t *testing.T) {
	for _, d := range []*dialect{dialectSQLite, dialectPostgres, dialectOracle} {
		t.Run(d.name, func(t *testing.T) {
			got := recordAll(t, d)
			path := filepath.Join("testdata", "statements."+d.name+".sql")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("statements differ from %s (go test -run Golden -update, then review the diff)\n%s", path, got)
			}
			checkBinds(t, d, got)
		})
	}
}

// checkBinds: in every statement, the bind markers are numbered 1..n with
// n the number of arguments bound, and no ? is left on Oracle/PostgreSQL.
func checkBinds(t *testing.T, d *dialect, all string) {
	re := bindRE[d.name]
	for _, st := range strings.Split(all, "\n-- ") {
		var n int
		if _, err := fmt.Sscanf(st, "%d binds", &n); err != nil {
			continue
		}
		if re == nil {
			if c := strings.Count(st, "?"); c != n {
				t.Errorf("%d ? for %d binds:\n%s", c, n, st)
			}
			continue
		}
		if strings.Contains(st, "?") {
			t.Errorf("unrendered ?:\n%s", st)
		}
		seen := map[string]bool{}
		for _, m := range re.FindAllStringSubmatch(st, -1) {
			seen[m[1]] = true
		}
		for i := 1; i <= n; i++ {
			if !seen[fmt.Sprint(i)] {
				t.Errorf("bind %d missing:\n%s", i, st)
			}
		}
		if len(seen) != n {
			t.Errorf("%d distinct binds for %d args:\n%s", len(seen), n, st)
		}
	}
}

// TestOracleStatementShape checks the Oracle forms the golden file holds.
func TestOracleStatementShape(t *testing.T) {
	got := recordAll(t, dialectOracle)
	for _, must := range []string{
		"WHERE STATUS = '1' AND SEND_TIME <= :1 ORDER BY SEND_TIME, MSG_SEQ FOR UPDATE SKIP LOCKED",
		"MERGE INTO T41_LOG t USING (SELECT :1 GW_ID, :2 SOURCE",
		" FROM DUAL UNION ALL SELECT ",
		"WHEN MATCHED THEN UPDATE SET t.SOURCE = s.SOURCE",
		"WHEN NOT MATCHED THEN INSERT (GW_ID, REG_TIME) VALUES (s.GW_ID, s.REG_TIME)",
		"MERGE INTO PNX t USING",
		"FETCH FIRST 10 ROWS ONLY",
		"NUMBER(19) GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
		"MSG_TEXT   VARCHAR2(4000)",
		"FROM USER_TABLES WHERE TABLE_NAME = :1",
		"LOCK TABLE T41_LOG IN EXCLUSIVE MODE",
		"FROM T41_LOG WHERE GW_ID IN (:1, :2)",
		"INSERT INTO T41 (CLIENT_ID, MSG_KEY, STATUS, SEND_TIME, MSG_TYPE, JOB_CLASS, CALLBACK, DEST, SUBJECT, MSG_TEXT, REG_TIME, CLAIM_TIME) SELECT :1 CLIENT_ID",
	} {
		if !strings.Contains(got, must) {
			t.Errorf("Oracle statements lack %q", must)
		}
	}
	for _, mustNot := range []string{" LIMIT ", "ON CONFLICT", "EXCLUDED.", "$1", "RETURNING", "AUTOINCREMENT", "IF NOT EXISTS"} {
		if strings.Contains(got, mustNot) {
			t.Errorf("Oracle statements hold %q", mustNot)
		}
	}
}
