package dist

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/dupindex"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
)

func route(carrier, senders string) config.Route {
	return config.Route{Name: carrier, Carrier: carrier, Senders: senders}
}

func TestExactRatios(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=3, KT2=1")}, "KT1", "KT2")
	r := newRig(t, cfg, 20000)
	var recs [][]byte
	for range 10000 {
		recs = append(recs, r.message(nil))
	}
	r.put("DIST.S", recs...)
	r.start()
	k1 := drainMsgs(t, r.q("SND.KT1"), 7500, 20*time.Second)
	k2 := drainMsgs(t, r.q("SND.KT2"), 2500, 5*time.Second)
	if d := len(k1) - 7500; d < -1 || d > 1 || len(k1)+len(k2) != 10000 {
		t.Fatalf("KT1 %d KT2 %d, want 7500/2500 ±1", len(k1), len(k2))
	}
	ev := drainEvents(t, r.q("DBX"), 10000, 10*time.Second)
	acc := 0
	for _, e := range ev {
		if e.Kind == msg.KindAccept {
			acc++
		}
	}
	if acc != 10000 {
		t.Fatalf("%d accepts", acc)
	}
	for _, m := range k1 {
		if m.Sender != "KT1" || m.Carrier != "KT" {
			t.Fatalf("record on SND.KT1 says %s/%s", m.Carrier, m.Sender)
		}
	}
}

func TestFailoverAndFailback(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=0")}, "KT1", "KT2")
	r := newRig(t, cfg, 1000)
	r.start()
	kt1, kt2 := r.q("SND.KT1"), r.q("SND.KT2")
	batch := func() [][]byte {
		var b [][]byte
		for range 10 {
			b = append(b, r.message(nil))
		}
		return b
	}
	r.put("DIST.R", batch()...)
	if got := drainMsgs(t, kt1, 10, 5*time.Second); len(got) != 10 {
		t.Fatalf("KT1 up: %d on KT1", len(got))
	}
	r.health.Set("KT1", true, false) // center 1's link drops
	time.Sleep(20 * time.Millisecond)
	r.put("DIST.R", batch()...)
	if got := drainMsgs(t, kt2, 10, 5*time.Second); len(got) != 10 {
		t.Fatalf("KT1 link down: %d on KT2", len(got))
	}
	r.health.Set("KT1", true, true)
	time.Sleep(20 * time.Millisecond)
	r.put("DIST.R", batch()...)
	if got := drainMsgs(t, kt1, 10, 5*time.Second); len(got) != 10 {
		t.Fatalf("fail-back: %d on KT1", len(got))
	}
	if got := drainMsgs(t, kt2, 1, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("KT2 got %d while KT1 was up", len(got))
	}
}

func TestMinusOneNeverUsedAndExpiry(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=-1")}, "KT1", "KT2")
	r := newRig(t, cfg, 1000)
	r.health.Set("KT1", false, false)
	r.start()
	exp := msg.FormatTime(time.Now().Add(1500 * time.Millisecond))
	r.put("DIST.R", r.message(func(m *msg.Message) { m.ExpireTime = exp }), r.message(func(m *msg.Message) { m.ExpireTime = exp }))
	ev := drainEvents(t, r.q("DBX"), 2, 10*time.Second)
	if len(ev) != 2 {
		t.Fatalf("%d events", len(ev))
	}
	for _, e := range ev {
		if e.Kind != msg.KindFinal || e.ResultCode != 3005 {
			t.Fatalf("event %c %v, want F 3005", e.Kind, e.ResultCode)
		}
	}
	if got := drainMsgs(t, r.q("SND.KT2"), 1, 100*time.Millisecond); len(got) != 0 {
		t.Fatal("the -1 sender was used")
	}
}

func TestLaneWaitsInOrder(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1")}, "KT1")
	r := newRig(t, cfg, 1000)
	r.health.Set("KT1", true, false)
	r.start()
	var want []string
	for range 30 {
		b := r.message(func(m *msg.Message) { m.JobClass = 'R' })
		m, _ := msg.DecodeMessage(b)
		want = append(want, m.GWID)
		r.put("DIST.R", b)
	}
	time.Sleep(50 * time.Millisecond)
	r.health.Set("KT1", true, true)
	got := drainMsgs(t, r.q("SND.KT1"), 30, 5*time.Second)
	if len(got) != 30 {
		t.Fatalf("%d", len(got))
	}
	for i := range got {
		if got[i].GWID != want[i] {
			t.Fatalf("record %d is %s, want %s", i, got[i].GWID, want[i])
		}
	}
}

func TestLanePriorityNoStarvation(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1")}, "KT1")
	r := newRig(t, cfg, 20000)
	var rr, bb [][]byte
	for range 3000 {
		rr = append(rr, r.message(func(m *msg.Message) { m.JobClass = 'R' }))
	}
	for range 300 {
		bb = append(bb, r.message(func(m *msg.Message) { m.JobClass = 'B' }))
	}
	r.put("DIST.R", rr...)
	r.put("DIST.B", bb...)
	r.start()
	got := drainMsgs(t, r.q("SND.KT1"), 3300, 20*time.Second)
	if len(got) != 3300 {
		t.Fatalf("%d", len(got))
	}
	firstB, lastR := -1, -1
	for i, m := range got {
		if m.JobClass == 'B' && firstB < 0 {
			firstB = i
		}
		if m.JobClass == 'R' {
			lastR = i
		}
	}
	// R first, but B is served before R is drained.
	if firstB < 100 || firstB > lastR {
		t.Fatalf("first B at %d, last R at %d", firstB, lastR)
	}
}

func TestChecksAndMalformed(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1")}, "KT1")
	r := newRig(t, cfg, 1000)
	good := r.message(nil)
	badCB := r.message(func(m *msg.Message) { m.Callback = "0299999999" })
	badDest := r.message(func(m *msg.Message) { m.Dest = "12345" })
	preset := r.message(func(m *msg.Message) { m.Result = 1204 })
	short := r.message(nil)[:100]   // GW_ID readable: 9999
	garbage := []byte("xx garbage") // no GW_ID: dropped
	badField := r.message(nil)
	copy(badField[offReroutes.Off:], "ab")
	r.put("DIST.S", good, badCB, badDest, preset, short, garbage, badField)
	r.start()
	ev := drainEvents(t, r.q("DBX"), 6, 5*time.Second)
	want := []telegram.Code{0, 1202, 1203, 1204, 9999, 9999}
	if len(ev) != len(want) {
		t.Fatalf("%d events", len(ev))
	}
	for i, e := range ev {
		if want[i] == 0 && e.Kind != msg.KindAccept || want[i] != 0 && (e.Kind != msg.KindFinal || e.ResultCode != want[i]) {
			t.Fatalf("event %d: %c %v, want %v", i, e.Kind, e.ResultCode, want[i])
		}
	}
	time.Sleep(50 * time.Millisecond)
	if s := r.d.Stats(); s.Dropped != 1 {
		t.Fatalf("dropped %d", s.Dropped)
	}
}

// A sender down past timeouts.sender_down_reroute has its backlog routed to
// the other center: a dead process, or a live one whose link is down
// (DESIGN), once it has given its queue up (gw/sender release.go; nothing
// holds KT1's queue here, as after that).
func TestBacklogRerouted(t *testing.T) {
	for _, c := range []struct {
		name  string
		alive bool
	}{{"process gone", false}, {"link down", true}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=0")}, "KT1", "KT2")
			cfg.Timeouts.SenderDownReroute = config.Duration(100 * time.Millisecond)
			r := newRig(t, cfg, 1000)
			// 20 records wait in KT1's queue.
			var backlog [][]byte
			for range 20 {
				b := r.message(nil)
				copy(b[offSender.Off:], "KT1     ")
				backlog = append(backlog, b)
			}
			r.put("SND.KT1", backlog...)
			r.health.Set("KT1", c.alive, false)
			r.start()
			got := drainMsgs(t, r.q("SND.KT2"), 20, 5*time.Second)
			if len(got) != 20 {
				t.Fatalf("%d re-routed", len(got))
			}
			for _, m := range got {
				if m.Reroutes != 1 || m.Sender != "KT2" {
					t.Fatalf("reroutes %d sender %s", m.Reroutes, m.Sender)
				}
			}
		})
	}
}

func TestBacklogWaitsForMinusOne(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=-1")}, "KT1", "KT2")
	cfg.Timeouts.SenderDownReroute = config.Duration(50 * time.Millisecond)
	r := newRig(t, cfg, 1000)
	r.put("SND.KT1", r.message(nil), r.message(nil))
	r.health.Set("KT1", false, false)
	r.start()
	time.Sleep(300 * time.Millisecond)
	r.stop()
	if n := r.q("SND.KT1").Len(); n != 2 {
		t.Fatalf("KT1's queue holds %d, want 2", n)
	}
	if n := r.q("SND.KT2").Len(); n != 0 {
		t.Fatalf("KT2 got %d", n)
	}
}

func TestDuplicatesAndCarrier(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("KT", "KT1=1"), route("SKT", "SKT=1"), route("LGT", "LG=1")}, "KT1", "SKT", "LG")
	r := newRig(t, cfg, 1000)
	idx, err := dupindex.Open(dupindex.Options{Path: filepath.Join(r.dir, "dup.idx"), Capacity: 1 << 12, Locks: 1 << 6})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	r.put("DIST.S",
		r.message(func(m *msg.Message) { m.MsgKey = "SAME" }),
		r.message(func(m *msg.Message) { m.MsgKey = "SAME" }),                      // 1201
		r.message(func(m *msg.Message) { m.MsgKey = "SAME"; m.DupChecked = true }), // the listener checked it
		r.message(func(m *msg.Message) { m.Dest = "0111234567" }),
		r.message(func(m *msg.Message) { m.Dest = "01912345678" }))
	r.dup = idx
	r.start()
	ev := drainEvents(t, r.q("DBX"), 5, 5*time.Second)
	if len(ev) != 5 || ev[1].Kind != msg.KindFinal || ev[1].ResultCode != 1201 || ev[2].Kind != msg.KindAccept {
		t.Fatalf("events %+v", ev)
	}
	if m := drainMsgs(t, r.q("SND.SKT"), 1, 5*time.Second); len(m) != 1 || m[0].Carrier != "SKT" {
		t.Fatalf("SKT: %+v", m)
	}
	if m := drainMsgs(t, r.q("SND.LG"), 1, 5*time.Second); len(m) != 1 || m[0].Carrier != "LGT" || m[0].Sender != "LG" {
		t.Fatalf("LG: %+v", m)
	}
	if m := drainMsgs(t, r.q("SND.KT1"), 2, 5*time.Second); len(m) != 2 || m[0].Carrier != "KT" {
		t.Fatalf("KT1: %+v", m)
	}
}

// A record that waits because no sender can take it was checked against
// the duplicate index on its first pass; its next pass must not find its
// own key and end it 1201 unsent. (The full chaos run found 4 messages of
// 220,000 ended so, while both KT senders were down.)
func TestWaitingRecordIsNotItsOwnDuplicate(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1")}, "KT1")
	r := newRig(t, cfg, 1000)
	idx, err := dupindex.Open(dupindex.Options{Path: filepath.Join(r.dir, "dup.idx"), Capacity: 1 << 12, Locks: 1 << 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	r.dup = idx
	r.health.Set("KT1", true, false)
	r.start()
	var want []string
	for i := range 5 {
		b := r.message(func(m *msg.Message) { m.MsgKey = fmt.Sprintf("WAIT%d", i) }) // as sch and tkm_files send them: unchecked
		m, _ := msg.DecodeMessage(b)
		want = append(want, m.GWID)
		r.put("DIST.S", b)
	}
	time.Sleep(1500 * time.Millisecond) // at least one retry while KT1 is down
	r.health.Set("KT1", true, true)
	got := drainMsgs(t, r.q("SND.KT1"), 5, 5*time.Second)
	if len(got) != 5 {
		ev := drainEvents(t, r.q("DBX"), 10, time.Second)
		t.Fatalf("%d of 5 waiting records sent; DBX events %+v", len(got), ev)
	}
	for i := range got {
		if got[i].GWID != want[i] {
			t.Fatalf("record %d is %s, want %s", i, got[i].GWID, want[i])
		}
	}
}
