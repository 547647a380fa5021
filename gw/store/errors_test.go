package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// refusedPort returns a local port nothing listens on.
func refusedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestPostgresDownIsUnavailable(t *testing.T) {
	port := refusedPort(t)
	s, err := Open(Options{DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable&connect_timeout=2", port)})
	if err != nil {
		t.Fatalf("open must not connect: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	checks := map[string]error{}
	_, checks["claim"] = s.ClaimDue(ctx, time.Now(), 10, time.Time{})
	_, checks["apply"] = s.ApplyEvents(ctx, lifecycle("D1", SourceListener))
	checks["insert"] = s.InsertT41(ctx, t41Rows(1, "B", "20260101000000"))
	checks["migrate"] = s.Migrate(ctx)
	checks["ping"] = s.Ping(ctx)
	for op, err := range checks {
		if err == nil || !IsUnavailable(err) {
			t.Errorf("%s on a refused port: %v, want ErrUnavailable", op, err)
		}
	}
}

// TestPostgresComesBack: a store whose server went away and came back
// serves again with no reopening (the pool drops the broken connection).
func TestPostgresComesBack(t *testing.T) {
	dsn := pgSchemaDSN(t)
	app := fmt.Sprintf("m1_store_test_%d", time.Now().UnixNano())
	s := openTest(t, dsn+"&application_name="+app)
	if _, err := s.DueCount(bg, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Kill this store's server session (and no one else's) from another
	// connection, as a server restart would.
	admin := openTest(t, dsn)
	n, err := admin.b.exec(bg, admin.d.render("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?"), app)
	if err != nil || n != 1 {
		t.Fatalf("terminate: %d sessions, %v", n, err)
	}
	time.Sleep(200 * time.Millisecond) // the backend exits on its signal
	_, err = s.DueCount(bg, time.Now())
	if !IsUnavailable(err) {
		t.Fatalf("after the session was killed: %v, want ErrUnavailable", err)
	}
	if _, err := s.DueCount(bg, time.Now()); err != nil {
		t.Fatalf("second try after the session was killed: %v", err)
	}
}

func TestSQLiteBusyIsUnavailable(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "m1.db")
	holder := openTest(t, dsn)
	waiter := openTest(t, dsn, func(o *Options) { o.BusyTimeout = 200 * time.Millisecond })
	tx, err := holder.b.begin(bg) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback(bg)
	err = waiter.InsertT41(bg, t41Rows(1, "B", "20260101000000"))
	if !IsUnavailable(err) {
		t.Fatalf("insert while another writer holds the lock: %v, want ErrUnavailable", err)
	}
	// Readers are not blocked (WAL).
	if _, err := waiter.DueCount(bg, time.Now()); err != nil {
		t.Fatalf("read during a write: %v", err)
	}
	tx.rollback(bg)
	if err := waiter.InsertT41(bg, t41Rows(1, "B", "20260101000000")); err != nil {
		t.Fatalf("insert after the lock is free: %v", err)
	}
}

type codeErr struct{ code int }

func (e codeErr) Error() string { return fmt.Sprintf("ORA-%05d: something", e.code) }
func (e codeErr) Code() int     { return e.code }

func TestClassifyOracle(t *testing.T) {
	cases := []struct {
		err  error
		want errClass
	}{
		{codeErr{3113}, classUnavailable},
		{codeErr{12541}, classUnavailable},
		{codeErr{1089}, classUnavailable},
		{codeErr{1}, classDuplicate},
		{codeErr{942}, classOther},
		{errors.New("ORA-03114: not connected to ORACLE"), classUnavailable},
		{errors.New("ORA-00904: invalid identifier"), classOther},
		{errors.New("DPI-1080: connection was closed by ORA-3113"), classUnavailable},
		{fmt.Errorf("x: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), classUnavailable},
		{context.Canceled, classOther},
		{context.DeadlineExceeded, classUnavailable},
	}
	for _, c := range cases {
		if got := classify(dialectOracle, c.err); got != c.want {
			t.Errorf("%v: class %d, want %d", c.err, got, c.want)
		}
	}
}

func TestBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "sqlite:a.db?x=1", "postgres://%zz"} {
		if _, err := Open(Options{DSN: dsn}); err == nil {
			t.Errorf("DSN %q accepted", dsn)
		}
	}
	if got := redact("oracle://scott/tiger@db:1521/ORCL"); got != "oracle://***@db:1521/ORCL" {
		t.Errorf("redact: %s", got)
	}
}

// TestSQLiteSettings: every connection runs in WAL mode with synchronous
// FULL (2) and the busy timeout set.
func TestSQLiteSettings(t *testing.T) {
	s := openTest(t, "sqlite:"+filepath.Join(t.TempDir(), "sub", "m1.db"), func(o *Options) { o.BusyTimeout = 1234 * time.Millisecond })
	for q, want := range map[string]string{"PRAGMA journal_mode": "wal", "PRAGMA synchronous": "2", "PRAGMA busy_timeout": "1234"} {
		r, err := s.b.query(bg, q)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if !r.Next() {
			t.Fatalf("%s: no row", q)
		}
		if err := r.Scan(&v); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if v != want {
			t.Errorf("%s = %s, want %s", q, v, want)
		}
	}
}
