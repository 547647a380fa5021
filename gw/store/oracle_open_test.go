package store

import (
	"context"
	"testing"
	"time"
)

// TestOracleOpenWithoutServer: an oracle:// DSN opens (connecting to
// nothing) and a call fails with an error, not a panic, on a machine with
// no Oracle server (and no Oracle client library).
func TestOracleOpenWithoutServer(t *testing.T) {
	s, err := Open(Options{DSN: "oracle://scott/tiger@127.0.0.1:1/ORCL"})
	if err != nil {
		t.Skipf("oracle DSN refused at open (built without cgo?): %v", err)
	}
	defer s.Close()
	if s.Dialect() != "oracle" {
		t.Fatalf("dialect %s", s.Dialect())
	}
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	err = s.Ping(ctx)
	if err == nil {
		t.Fatal("ping of a port nothing listens on succeeded")
	}
	t.Logf("ping: %v (unavailable: %t)", err, IsUnavailable(err))
}
