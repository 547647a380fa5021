// Package testhome makes M1 homes for tests: a temporary directory with a
// copy of the shipped etc/ whose SysV keys are moved to a range of the
// test's own (0x7b?? instead of 0x4d31), so that a test never meets a
// running suite's queues, and whose objects are removed when the test ends.
package testhome

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/ipc"
)

// Files are the configuration files of a home.
var Files = []string{"m1.toml", "clients.toml", "routes.toml", "dedicated.conf", "callbacks.conf", "pnx.conf"}

// ShippedEtc is the repository's etc/ directory.
func ShippedEtc() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "etc")
}

// New makes a home and returns its path. edit, when not nil, may change
// each file's text (name, text) before it is written.
func New(t testing.TB, edit func(name, text string) string) string {
	t.Helper()
	home := t.TempDir()
	if os.Getenv("M1_TEST_KEEP_HOME") != "" {
		// For looking into a failed long run afterwards: the home is
		// left in place (its path is logged); remove it by hand.
		var err error
		if home, err = os.MkdirTemp("", "m1home-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("M1_TEST_KEEP_HOME: the home %s is kept", home)
	}
	if err := os.MkdirAll(filepath.Join(home, "etc"), 0o700); err != nil {
		t.Fatal(err)
	}
	prefix := freePrefix()
	for _, f := range Files {
		b, err := os.ReadFile(filepath.Join(ShippedEtc(), f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), `"0x4d31`, `"`+prefix)
		if edit != nil {
			s = edit(f, s)
		}
		if err := os.WriteFile(filepath.Join(home, "etc", f), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// Load makes a home and loads its configuration.
func Load(t testing.TB, edit func(name, text string) string) *config.Config {
	t.Helper()
	cfg, err := config.Load(New(t, edit))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// freePrefix picks a key prefix 0x7bXX whose process-table key (0x7bXX0000)
// names no segment: another test's home is not in use under it.
func freePrefix() string {
	for {
		b := rand.IntN(256)
		if _, err := ipc.OpenShm(ipc.Key(int32(0x7b000000|b<<16)), 0); errors.Is(err, ipc.ErrNotExist) {
			return fmt.Sprintf("0x7b%02x", b)
		}
	}
}
