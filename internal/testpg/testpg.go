// Package testpg gives tests the PostgreSQL server they run against: a
// schema of each test's own, dropped when the test ends, and a TCP proxy
// that can take the server away and give it back without stopping a server
// other tests share. The server is 127.0.0.1:5432, user postgres, database
// test, trust authentication; M1_TEST_PG overrides the DSN. Tests that need
// it are skipped, saying why, when nothing answers there.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BaseDSN is the test server's DSN.
func BaseDSN() string {
	if v := os.Getenv("M1_TEST_PG"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Schema creates a schema named prefix + random hex on the test server,
// drops it (CASCADE) when the test ends, and returns its name. The test is
// skipped when the server does not answer.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, BaseDSN())
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s (%v): skipping the PostgreSQL part of this test", BaseDSN(), err)
	}
	defer c.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, BaseDSN())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// SchemaDSN creates a schema (see Schema) and returns a DSN whose
// search_path is it, reaching the server through host when host is not
// empty (a Proxy's address).
func SchemaDSN(t testing.TB, prefix, host string) string {
	t.Helper()
	schema := Schema(t, prefix)
	return DSN(t, schema, host)
}

// DSN returns the test server's DSN with search_path schema, through host
// when it is not empty.
func DSN(t testing.TB, schema, host string) string {
	t.Helper()
	u, err := url.Parse(BaseDSN())
	if err != nil {
		t.Fatalf("test PostgreSQL DSN %q: %v", BaseDSN(), err)
	}
	if host != "" {
		u.Host = host
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
