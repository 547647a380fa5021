package dist

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
)

// TestRecoveryFromJournal builds the state a dist killed between its put
// on SND.KT1 and the commit of its lane leaves behind: the lane's records
// taken and uncommitted, 3 of 5 of them already on SND.KT1 (a partial put),
// and the journal written before the put. The next dist must put only the
// other 2, and send an Accept for all 5.
func TestRecoveryFromJournal(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1")}, "KT1")
	r := newRig(t, cfg, 1000)
	var recs [][]byte
	var ids []string
	for range 5 {
		b := r.message(nil)
		m, _ := msg.DecodeMessage(b)
		ids = append(ids, m.GWID)
		recs = append(recs, b)
	}
	r.put("DIST.S", recs...)
	lane := r.q("DIST.S")
	if got, err := lane.TakeBatch(nil, 5, time.Second); err != nil || len(got) != 5 {
		t.Fatal(len(got), err)
	}
	lane.Close() // the dead consumer: its records are delivered again
	snd := r.q("SND.KT1")
	st, _ := snd.Stat()
	jpath := filepath.Join(r.dir, "dist.journal")
	j, err := openJournal(jpath)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.write([]journalGroup{{queue: "SND.KT1", sender: "KT1", tail: st.Tail, ids: ids}}); err != nil {
		t.Fatal(err)
	}
	j.close()
	if n, err := snd.PutBatch(recs[:3], 0); n != 3 || err != nil {
		t.Fatal(n, err)
	}

	r.start()
	ev := drainEvents(t, r.q("DBX"), 5, 5*time.Second)
	got := drainMsgs(t, r.q("SND.KT1"), 6, 500*time.Millisecond)
	count := map[string]int{}
	for _, m := range got {
		count[m.GWID]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Fatalf("%s on SND.KT1 %d times", id, count[id])
		}
	}
	if len(ev) != 5 {
		t.Fatalf("%d accepts", len(ev))
	}
	if s := r.d.Stats(); s.Recovered != 3 {
		t.Fatalf("recovered %d, want 3", s.Recovered)
	}
}

// TestJournalTornReadsEmpty: a journal cut anywhere reads as empty or as
// what was written, never as something else.
func TestJournalTornReadsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	g := []journalGroup{{queue: "SND.KT1", sender: "KT1", tail: 42, ids: []string{"00000000000000000001", "00000000000000000002"}}}
	if err := j.write(g); err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(path)
	for cut := 0; cut < len(full); cut++ {
		got, err := decodeJournal(full[:cut])
		if err == nil && len(got) != 0 {
			t.Fatalf("cut at %d read %v", cut, got)
		}
	}
	got, err := j.read()
	if err != nil || len(got) != 1 || got[0].tail != 42 || len(got[0].ids) != 2 || got[0].ids[1] != "00000000000000000002" {
		t.Fatalf("%v %v", got, err)
	}
}

// TestReloadMovesTraffic: a new routes configuration takes effect between
// two batches, and the old one stays in force until then.
func TestReloadMovesTraffic(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=-1")}, "KT1", "KT2")
	r := newRig(t, cfg, 1000)
	r.start()
	r.put("DIST.S", r.message(nil))
	if got := drainMsgs(t, r.q("SND.KT1"), 1, 5*time.Second); len(got) != 1 {
		t.Fatal("before reload")
	}
	next := testConfig(t, []config.Route{route("", "KT1=-1, KT2=1")}, "KT1", "KT2")
	if err := r.d.ReloadConfig(next); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	r.put("DIST.S", r.message(nil))
	kt2 := r.q("SND.KT2")
	if got := drainMsgs(t, kt2, 1, 5*time.Second); len(got) != 1 {
		t.Fatal("after reload")
	}
	// A configuration naming a sender whose queue cannot be opened is
	// refused and the one in force stays.
	bad := testConfig(t, []config.Route{route("", "KT3=1")}, "KT1", "KT2", "KT3")
	if err := r.d.ReloadConfig(bad); err == nil {
		t.Fatal("a configuration with an unopenable queue was accepted")
	}
	r.put("DIST.S", r.message(nil))
	if got := drainMsgs(t, kt2, 1, 5*time.Second); len(got) != 1 {
		t.Fatal("after refused reload")
	}
}
