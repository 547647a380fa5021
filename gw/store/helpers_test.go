package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/m1gw/m1/internal/testpg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// pgBaseDSN is the test server (internal/testpg).
func pgBaseDSN() string { return testpg.BaseDSN() }

// pgSchemaDSN is a DSN on a schema of the test's own, dropped at cleanup;
// the test is skipped when no server answers (internal/testpg).
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	return testpg.SchemaDSN(t, "m1_test_", "")
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
