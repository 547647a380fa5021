package sch

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"
)

// TestTwoSchProcessesPostgres: two real sch processes on one PostgreSQL T41
// with 10,000 due rows: every row is queued exactly once, and both took
// part.
func TestTwoSchProcessesPostgres(t *testing.T) {
	dsn := pgSchemaDSN(t)
	dir, cfg := home(t, "poll_interval = \"20ms\"\nbatch = 500\nreclaim_after = \"5m\"")
	st := openStore(t, dsn)
	const n = 10000
	insert(t, st, dueRows(n, "TWO", time.Now().Add(-time.Minute)))
	sk := newSink(t, cfg, st, false)
	a := child(t, "SCH_CHILD=sch.a", "SCH_NODE=11", "M1_HOME="+dir, "SCH_DSN="+dsn)
	b := child(t, "SCH_CHILD=sch.b", "SCH_NODE=12", "M1_HOME="+dir, "SCH_DSN="+dsn)
	waitFor(t, 120*time.Second, "10,000 records", func() bool { return sk.count() >= n })
	time.Sleep(300 * time.Millisecond)
	for _, c := range []interface{ Signal(os.Signal) error }{a.Process, b.Process} {
		_ = c.Signal(syscall.SIGTERM)
	}
	if err := a.Wait(); err != nil {
		t.Errorf("sch.a: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Errorf("sch.b: %v", err)
	}
	recs := sk.snapshot()
	seqs, nodes := map[uint64]int{}, map[string]int{}
	for _, g := range recs {
		seqs[g.m.MsgSeq]++
		nodes[g.m.GWID[13:15]]++
	}
	if len(recs) != n || len(seqs) != n {
		t.Fatalf("%d records for %d distinct rows, want %d each once", len(recs), len(seqs), n)
	}
	t.Logf("rows queued by node: %v", nodes)
	if nodes["11"] == 0 || nodes["12"] == 0 || nodes["11"]+nodes["12"] != n {
		t.Fatalf("both processes should have queued rows: %v", nodes)
	}
	cnt, err := st.CountT41(context.Background())
	if err != nil || len(cnt) != 0 && (cnt['1'] != 0 || cnt['2'] != 0) {
		t.Fatalf("T41 after: %v %v", cnt, err)
	}
}

// TestSIGKILLMidway: a real sch process killed with SIGKILL again and
// again while it drains T41: every row is queued, and a row is queued
// twice only under the reclaim rule (its second copy at least the reclaim
// time after the first, less CLAIM_TIME's one-second resolution).
func TestSIGKILLMidway(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		const reclaim = 2 * time.Second
		dir, cfg := home(t, "poll_interval = \"20ms\"\nbatch = 100\nreclaim_after = \"2s\"")
		st := openStore(t, dsn)
		const n = 3000
		insert(t, st, dueRows(n, "KILL", time.Now().Add(-time.Minute)))
		sk := newSink(t, cfg, st, false)
		kills := 0
		for round := 0; round < 10 && sk.count() < n; round++ {
			c := child(t, "SCH_CHILD=sch", "SCH_NODE=13", "M1_HOME="+dir, "SCH_DSN="+dsn)
			// Kill it while it works: once it has queued a few more records.
			target := sk.count() + 20 + rand.IntN(300)
			waitFor(t, 30*time.Second, "progress", func() bool { return sk.count() >= min(target, n) })
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			_ = c.Process.Kill()
			_ = c.Wait()
			kills++
		}
		c := child(t, "SCH_CHILD=sch", "SCH_NODE=13", "M1_HOME="+dir, "SCH_DSN="+dsn)
		waitFor(t, 60*time.Second, "T41 empty", func() bool {
			cnt, err := st.CountT41(context.Background())
			return err == nil && cnt['1'] == 0 && cnt['2'] == 0
		})
		time.Sleep(200 * time.Millisecond)
		_ = c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Errorf("last sch: %v", err)
		}
		byseq := map[uint64][]time.Time{}
		for _, g := range sk.snapshot() {
			byseq[g.m.MsgSeq] = append(byseq[g.m.MsgSeq], g.at)
		}
		if len(byseq) != n {
			t.Fatalf("%d distinct rows queued, want %d", len(byseq), n)
		}
		dups := 0
		for seq, ts := range byseq {
			sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
			for i := 1; i < len(ts); i++ {
				dups++
				if gap := ts[i].Sub(ts[i-1]); gap < reclaim-time.Second {
					t.Errorf("MSG_SEQ %d queued twice %v apart, before the reclaim time", seq, gap)
				}
			}
		}
		t.Logf("%d SIGKILLs, %d rows, %d second copies (reclaim rule)", kills, n, dups)
	})
}
