package tkm

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestResumeAfterSIGKILL: a real tkm_files process is killed with SIGKILL
// again and again while it takes a 3,000-record file, and started again.
// At the end: one result line per record, in order; every record queued;
// and a record queued more than once only inside the one batch a kill
// interrupted between its puts and its result lines (at most one batch per
// kill), each extra copy under a new GW_ID, to be ended by dist's
// duplicate check (package doc).
func TestResumeAfterSIGKILL(t *testing.T) {
	dir, cfg := home(t)
	spool := cfg.TkmFiles.SpoolDir
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	const n, batch = 3000, 50
	var lines [][]byte
	for i := 1; i <= n; i++ {
		b := bulk("K", i)
		lines = append(lines, b.Encode(nil))
	}
	writeFile(t, spool, "big.dat", lines, true)
	resPath := filepath.Join(spool, "big.dat.result")
	donePath := filepath.Join(spool, DoneDir, "big.dat.result")
	size := func() int64 {
		fi, err := os.Stat(resPath)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	kills := 0
	for round := 0; round < 12 && !exists(donePath); round++ {
		c := child(t, "TKM_CHILD=1", "M1_HOME="+dir)
		target := size() + int64(53*(10+rand.IntN(300)))
		deadline := time.Now().Add(20 * time.Second)
		for size() < target && !exists(donePath) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		_ = c.Process.Kill()
		_ = c.Wait()
		kills++
	}
	c := child(t, "TKM_CHILD=1", "M1_HOME="+dir)
	waitFor(t, 60*time.Second, "file done", func() bool { return exists(donePath) })
	_ = c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		t.Errorf("last tkm_files: %v", err)
	}
	res := readResult(t, donePath)
	if len(res) != n {
		t.Fatalf("%d result lines, want %d", len(res), n)
	}
	msgs := drain(t, cfg)
	copies := map[string]int{}
	ids := map[string]string{}
	for _, m := range msgs {
		copies[m.MsgKey]++
		if _, dup := ids[m.GWID]; dup {
			t.Fatalf("GW_ID %s queued twice", m.GWID)
		}
		ids[m.GWID] = m.MsgKey
	}
	extra := 0
	for i, r := range res {
		if r.line != i+1 || r.code != 0 || r.key != bulk("K", i+1).MsgKey {
			t.Fatalf("result line %d: %+v", i+1, r)
		}
		if ids[r.gwid] != r.key {
			t.Fatalf("line %d: the result's GW_ID %s is not a queued copy of %s", r.line, r.gwid, r.key)
		}
		if copies[r.key] == 0 {
			t.Fatalf("line %d never queued", r.line)
		}
		extra += copies[r.key] - 1
	}
	if len(copies) != n {
		t.Fatalf("%d distinct keys queued, want %d", len(copies), n)
	}
	if extra > kills*batch {
		t.Fatalf("%d extra copies after %d kills: more than one batch (%d) per kill", extra, kills, batch)
	}
	t.Logf("%d SIGKILLs; %d records; %d extra copies from interrupted batches (dist ends them 1201)", kills, n, extra)
}
