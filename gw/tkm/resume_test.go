package tkm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/queues"
)

// TestResumeDecides sets up by hand what a kill leaves and checks the
// decision record by record. The batch is lines 1-6; put order R (3, 6),
// S (1, 4), B (2, 5). The killed attempt put 3, 6 and 1; dist took 3 and
// 6 (keys recorded, lane committed) and 1 is still in lane S. Line 5's key
// was in the index before the journal (a duplicate of an earlier message,
// state D), so it says nothing about line 5. Right: 3, 6, 1 answered
// under their journaled GW_IDs and not put again; 4, 2, 5 put now under
// theirs.
func TestResumeDecides(t *testing.T) {
	dir, cfg := home(t)
	spool := cfg.TkmFiles.SpoolDir
	idx, err := dupindex.Open(testDupOptions(filepath.Join(dir, "dup.idx")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	lanes := openLanes(t, cfg)
	var lines [][]byte
	for i := 1; i <= 6; i++ {
		b := bulk("D", i)
		lines = append(lines, b.Encode(nil))
	}
	k0, err := New(Options{Config: cfg, Lanes: lanes, Dup: idx, Node: 22})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	writeFile(t, spool, "d.dat", lines, false)
	jr := journal{first: 1, last: 6}
	recs := map[int][]byte{}
	ids := map[int]string{}
	now := time.Now()
	for _, ln := range []int{3, 6, 1, 4, 2, 5} {
		it := k0.check(lines[ln-1], ln, "d.dat")
		if it.m == nil {
			t.Fatalf("line %d refused: %v", ln, it.code)
		}
		it.m.GWID = k0.ids.Next()
		ids[ln], recs[ln] = it.m.GWID, it.m.Encode(nil)
		st := byte(stateFresh)
		if ln == 5 {
			st = stateDup
			if _, err := idx.CheckAndInsert(it.m.ClientID, it.m.MsgKey, now); err != nil {
				t.Fatal(err)
			}
		}
		jr.entries = append(jr.entries, pendEntry{line: ln, gwid: it.m.GWID, lane: it.lane, state: st,
			clientID: it.m.ClientID, msgKey: it.m.MsgKey})
	}
	if err := os.WriteFile(filepath.Join(spool, "d.dat"+SuffixPending), encodeJournal(jr), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := lanes['R'].PutBatch([][]byte{recs[3], recs[6]}, 0); err != nil {
		t.Fatal(err)
	}
	if err := lanes['S'].Put(recs[1], 0); err != nil {
		t.Fatal(err)
	}
	// dist takes 3 and 6: keys first, then the commit.
	r, err := queues.OpenConsumer(cfg, config.QueueDistR, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.TakeBatch(nil, 10, time.Second)
	if err != nil || len(got) != 2 {
		t.Fatalf("take R: %d, %v", len(got), err)
	}
	for _, ln := range []int{3, 6} {
		b := bulk("D", ln)
		if _, err := idx.CheckAndInsert(b.ClientID, b.MsgKey, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Commit(got[1].Pos); err != nil {
		t.Fatal(err)
	}
	_ = r.Close()

	if err := os.WriteFile(filepath.Join(spool, "d.dat"+SuffixDone), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	k := run(t, Options{Config: cfg, Lanes: lanes, Dup: idx, Node: 22})
	donePath := filepath.Join(spool, DoneDir, "d.dat.result")
	waitFor(t, 10*time.Second, "file done", func() bool {
		return exists(donePath) && !exists(filepath.Join(spool, "d.dat"+SuffixDone)) // the marker goes last
	})
	res := readResult(t, donePath)
	if len(res) != 6 {
		t.Fatalf("%d result lines", len(res))
	}
	for i, l := range res {
		if l.line != i+1 || l.code != 0 || l.gwid != ids[l.line] {
			t.Errorf("result line %d: %+v, want GW_ID %s", i+1, l, ids[l.line])
		}
	}
	queued := map[string]int{}
	for _, m := range drain(t, cfg) {
		queued[m.GWID]++
	}
	want := map[string]int{ids[1]: 1, ids[4]: 1, ids[2]: 1, ids[5]: 1}
	if len(queued) != len(want) {
		t.Errorf("lanes hold %v, want lines 1, 4, 2, 5: %v", queued, want)
	}
	for id, c := range want {
		if queued[id] != c {
			t.Errorf("GW_ID %s on the lanes %d times, want %d", id, queued[id], c)
		}
	}
	if st := k.Stats(); st.Resumed != 3 || st.Requeued != 3 {
		t.Errorf("Stats = %+v, want Resumed 3, Requeued 3", st)
	}
	if exists(filepath.Join(spool, "d.dat"+SuffixPending)) {
		t.Error("journal left behind")
	}
}
