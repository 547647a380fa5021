package dist

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
)

// TestLearnedPNX: numbers the database's PNX table holds (dbx writes them
// from carrier reports that name a ported number) beat etc/pnx.conf, read
// at start and again on SIGHUP; numbers it does not hold still follow the
// file. Through a real SQLite database on disk.
func TestLearnedPNX(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("KT", "KT1=1"), route("SKT", "SKT=1"), route("LGT", "LG=1")}, "KT1", "SKT", "LG")
	r := newRig(t, cfg, 1000)
	st, err := store.Open(store.Options{DSN: "sqlite:" + filepath.Join(r.dir, "m1.db"), Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() }) // after dist stops
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// pnx.conf says KT for both (its default); the reports said otherwise.
	if err := st.UpsertPNX(ctx, []store.PNXEntry{{Number: "01012345678", Carrier: "SKT"}}); err != nil {
		t.Fatal(err)
	}
	r.pnx, r.pnxEvery = st, time.Hour
	r.start()
	d := r.d
	waitFor(t, func() bool { return d.learned.len() == 1 }, "PNX read at start")
	r.put("DIST.S", r.message(func(m *msg.Message) { m.Dest = "01012345678" }),
		r.message(func(m *msg.Message) { m.Dest = "01055556666" }))
	if m := drainMsgs(t, r.q("SND.SKT"), 1, 5*time.Second); len(m) != 1 || m[0].Carrier != "SKT" || m[0].Dest != "01012345678" {
		t.Fatalf("the ported number: SND.SKT got %+v", m)
	}
	if m := drainMsgs(t, r.q("SND.KT1"), 1, 5*time.Second); len(m) != 1 || m[0].Dest != "01055556666" {
		t.Fatalf("a number PNX does not hold: SND.KT1 got %+v", m)
	}

	// Learned later: read on SIGHUP (the refresh period is an hour here).
	if err := st.UpsertPNX(ctx, []store.PNXEntry{{Number: "01055556666", Carrier: "LGT"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.ReloadConfig(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return d.learned.len() == 2 }, "PNX read on SIGHUP")
	r.put("DIST.S", r.message(func(m *msg.Message) { m.Dest = "01055556666" }))
	if m := drainMsgs(t, r.q("SND.LG"), 1, 5*time.Second); len(m) != 1 || m[0].Carrier != "LGT" {
		t.Fatalf("the number learned later: SND.LG got %+v", m)
	}
}
