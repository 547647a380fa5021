package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const claimRows = 10000

// fillDue inserts n due rows in T41.
func fillDue(t testing.TB, s *Store, n int) {
	t.Helper()
	past := FormatTime(time.Now().Add(-time.Minute))
	for off := 0; off < n; off += 5000 {
		rows := t41Rows(min(5000, n-off), "BANK01", past)
		for i := range rows {
			rows[i].MsgKey = fmt.Sprintf("K%09d", off+i)
		}
		if err := s.InsertT41(bg, rows); err != nil {
			t.Fatal(err)
		}
	}
}

// drain claims until nothing is due and returns what it claimed.
func drain(ctx context.Context, s *Store, batch int) ([]int64, error) {
	var got []int64
	for {
		rows, err := s.ClaimDue(ctx, time.Now(), batch, time.Time{})
		if err != nil {
			return got, err
		}
		if len(rows) == 0 {
			return got, nil
		}
		for _, r := range rows {
			got = append(got, r.MsgSeq)
		}
	}
}

// checkOnce fails unless the claimers' rows are each of the n rows once.
func checkOnce(t *testing.T, n int, claims ...[]int64) {
	t.Helper()
	seen := make(map[int64]int, n)
	for ci, c := range claims {
		for _, seq := range c {
			if prev, dup := seen[seq]; dup {
				t.Fatalf("MSG_SEQ %d claimed by claimer %d and claimer %d", seq, prev, ci)
			}
			seen[seq] = ci
		}
	}
	if len(seen) != n {
		t.Fatalf("%d rows claimed, want %d", len(seen), n)
	}
	for ci, c := range claims {
		t.Logf("claimer %d: %d rows", ci, len(c))
	}
}

// TestConcurrentClaimers: two claimers on separate connections drain
// 10,000 due rows; every row is claimed exactly once.
func TestConcurrentClaimers(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		fillDue(t, s, claimRows)
		a, b := openTest(t, dsn), openTest(t, dsn)
		var wg sync.WaitGroup
		var ra, rb []int64
		var ea, eb error
		wg.Add(2)
		go func() { defer wg.Done(); ra, ea = drain(bg, a, 100) }()
		go func() { defer wg.Done(); rb, eb = drain(bg, b, 100) }()
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatal(ea, eb)
		}
		checkOnce(t, claimRows, ra, rb)
	})
}

const childEnv = "M1_STORE_TEST_CHILD"

// TestMain lets the test binary act as a claiming process.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "claim" {
		os.Exit(claimChild())
	}
	os.Exit(m.Run())
}

// claimChild drains T41 at M1_STORE_TEST_DSN and writes each claimed
// MSG_SEQ on its own line to M1_STORE_TEST_OUT.
func claimChild() int {
	s, err := Open(Options{DSN: os.Getenv("M1_STORE_TEST_DSN")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	f, err := os.Create(os.Getenv("M1_STORE_TEST_OUT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w := bufio.NewWriter(f)
	got, err := drain(context.Background(), s, 100)
	for _, seq := range got {
		fmt.Fprintln(w, seq)
	}
	if ferr := w.Flush(); ferr != nil {
		err = ferr
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentClaimProcesses: two real processes drain 10,000 due rows
// from one table; every row is claimed exactly once.
func TestConcurrentClaimProcesses(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		s := openTest(t, dsn)
		fillDue(t, s, claimRows)
		dir := t.TempDir()
		var cmds []*exec.Cmd
		var outs []string
		for i := 0; i < 2; i++ {
			out := filepath.Join(dir, fmt.Sprintf("claimed%d", i))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=claim", "M1_STORE_TEST_DSN="+dsn, "M1_STORE_TEST_OUT="+out)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, outs = append(cmds, cmd), append(outs, out)
		}
		for _, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Fatalf("claimer process: %v", err)
			}
		}
		var claims [][]int64
		for _, out := range outs {
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var c []int64
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				v, err := strconv.ParseInt(sc.Text(), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				c = append(c, v)
			}
			claims = append(claims, c)
		}
		checkOnce(t, claimRows, claims...)
	})
}
