package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// pgBaseDSN is the test server: trust auth, user postgres, database test.
// M1_TEST_PG overrides it.
func pgBaseDSN() string {
	if v := os.Getenv("M1_TEST_PG"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// pgSchemaDSN creates a fresh schema on the test server and returns a DSN
// whose search_path is that schema; the schema is dropped at cleanup. The
// test is skipped when no server answers.
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgBaseDSN())
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s (%v): skipping the PostgreSQL half of this test", pgBaseDSN(), err)
	}
	defer c.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "m1_test_" + hex.EncodeToString(b[:])
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, pgBaseDSN())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(pgBaseDSN(), "?") {
		sep = "&"
	}
	return pgBaseDSN() + sep + "search_path=" + schema
}

// openTest opens and migrates a store on dsn, closed at cleanup.
func openTest(t testing.TB, dsn string, opts ...func(*Options)) *Store {
	t.Helper()
	o := Options{DSN: dsn, Logger: zaptest.NewLogger(t)}
	if _, isBench := t.(*testing.B); isBench {
		o.Logger = zap.NewNop()
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// eachDB runs fn as a subtest on a fresh SQLite file and a fresh
// PostgreSQL schema.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "m1.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, pgSchemaDSN(t))
	})
}

func nopLogger() *zap.Logger { return zap.NewNop() }
