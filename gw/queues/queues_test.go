package queues

import (
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/queue/spill"
)

// testHome loads a home with keys of the test's own and removes its queues
// when the test ends.
func testHome(t *testing.T) *config.Config {
	t.Helper()
	cfg := testhome.Load(t, nil)
	t.Cleanup(func() {
		for _, n := range Names(cfg) {
			if o, err := Options(cfg, n, false, nil); err == nil {
				_ = shmq.Remove(o.Shm.Key)
			}
		}
	})
	return cfg
}

func TestOpenConfiguredQueues(t *testing.T) {
	cfg := testHome(t)
	if len(Names(cfg)) < 9 {
		t.Fatalf("configured queues: %v", Names(cfg))
	}
	created, err := Create(cfg, "DIST.R")
	if err != nil || !created {
		t.Fatalf("Create = %v, %v", created, err)
	}
	if created, err := Create(cfg, "DIST.R"); err != nil || created {
		t.Fatalf("second Create = %v, %v", created, err)
	}
	cons, err := OpenConsumer(cfg, "DIST.R", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := Open(cfg, "DIST.R", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	// The lane's legacy capacity is 190: the 191st record spills.
	for i := 0; i < 191; i++ {
		if err := prod.Put([]byte{byte(i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	st, err := prod.Stat()
	if err != nil || st.Capacity != 190 || st.FileLen != 1 {
		t.Fatalf("stat = %+v, %v", st, err)
	}
	if r, err := cons.Take(time.Second); err != nil || r.Data[0] != 0 {
		t.Fatalf("Take = %v, %v", r, err)
	}
	if _, err := Open(cfg, "NOPE", nil); err == nil {
		t.Fatal("unknown queue opened")
	}
	o, _ := Options(cfg, "SND.KT1", false, nil)
	if o.Policy != spill.Block {
		t.Fatalf("SND.KT1 policy = %s", o.Policy)
	}
	tab, err := ProcTab(cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	t.Cleanup(func() { _ = proctab.Remove(ipc.Key(int32(cfg.ProcTab.Key.Value))) })
}
