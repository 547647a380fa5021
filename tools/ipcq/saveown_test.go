package main

import (
	"strings"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue/shmq"
)

// save NAME and save --all move rings into the queues' own file parts: the
// ring is then empty, and a consumer that starts after the segment is gone
// (a reboot) gets the records from the file part. A queue with a live
// consumer is passed over by --all and refused by save NAME.
func TestSaveOwn(t *testing.T) {
	e := newEnv(t)
	e.mustOK("create")
	put := func(name string, recs ...[]byte) {
		t.Helper()
		p, err := queues.Open(e.cfg, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for _, r := range recs {
			if err := p.Put(r, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("DIST.R", message("K1"), message("K2"))
	put("RPT", []byte("a report")) // any bytes do here
	put("DIST.B", message("B1"))

	// A live consumer on DIST.B: passed over.
	cons, err := queues.OpenConsumer(e.cfg, "DIST.B", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if _, err := cons.TakeBatch(nil, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.ipcq("", "save", "DIST.B"); code != 1 || !strings.Contains(errs, "consumer is running") {
		t.Fatalf("save of a queue with a live consumer: exit %d: %s", code, errs)
	}

	out := e.mustOK("save", "--all")
	for _, want := range []string{"saved 2 records of DIST.R", "saved 1 records of RPT", "DIST.B: its consumer is running"} {
		if !strings.Contains(out, want) {
			t.Errorf("save --all: want %q in:\n%s", want, out)
		}
	}
	out = e.mustOK("save", "DIST.R")
	if !strings.Contains(out, "saved 0 records of DIST.R") {
		t.Errorf("second save: %s", out)
	}

	// The reboot: DIST.R's segment is gone; its records are not.
	o, err := queues.Options(e.cfg, "DIST.R", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := shmq.Remove(o.Shm.Key); err != nil {
		t.Fatal(err)
	}
	again, err := queues.OpenConsumer(e.cfg, "DIST.R", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var got []string
	for len(got) < 2 {
		recs, err := again.TakeBatch(nil, 10, 2*time.Second)
		if err != nil {
			t.Fatalf("after the reboot, %d records: %v", len(got), err)
		}
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
	}
	if got[0] != string(message("K1")) || got[1] != string(message("K2")) {
		t.Errorf("after the reboot: %q", got)
	}
}
