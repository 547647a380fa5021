package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/m1gw/m1/internal/testhome"
)

func TestT41SummaryWait(t *testing.T) {
	home := testhome.New(t, nil)
	m1db := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--home", home}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := m1db("t41", "-n", "7", "--future", "2", "--lms-every", "3"); code != 0 || !strings.Contains(out, "inserted 9") {
		t.Fatalf("t41: %d %s", code, out)
	}
	if code, out := m1db("summary"); code != 0 || !strings.Contains(out, "T41 still waiting: 9 (STATUS 1)") {
		t.Fatalf("summary: %d %s", code, out)
	}
	if code, out := m1db("wait", "--final", "1", "--timeout", "300ms"); code != 1 || !strings.Contains(out, "7 T41 rows due") {
		t.Fatalf("wait: %d %s", code, out)
	}
	if code, out := m1db("spool", "-n", "3", "--prefix", "S-"); code != 0 || !strings.Contains(out, "spooled 3") {
		t.Fatalf("spool: %d %s", code, out)
	}
	if code, _ := m1db("frob"); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
	if code, _ := m1db("wait"); code != 2 {
		t.Fatalf("wait without --final: %d", code)
	}
}
