package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue/shmq"
)

// TestPlannedReboot: m1stop saves the rings to their file parts where
// save_on_stop is set, so the reboot that follows (every segment gone:
// ipcq rm --all) loses nothing. The carriers are down while the messages
// come, so they wait in DIST.S: some taken by dist, waiting for a sender,
// the rest in the ring. Before dist saved its lanes on stop, they were lost
// with the segment.
func TestPlannedReboot(t *testing.T) {
	if testing.Short() {
		t.Skip("planned reboot")
	}
	s := newSuite(t, suiteOptions{})
	s.mustScript("m1start") // no carriersim yet: every link is down
	const n = 150           // under DIST.S's 190 slots: all in the ring
	s.mustTool("m1db", "t41", "-n", itoa(n), "--prefix", "REBOOT-")
	deadline := time.Now().Add(60 * time.Second)
	for s.ringLen("DIST.S") < n {
		if time.Now().After(deadline) {
			t.Fatalf("DIST.S holds %d of %d messages after 60 s\n%s", s.ringLen("DIST.S"), n, s.logTails())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !s.waitLog("dist", "no sender can take", 10*time.Second) {
		t.Errorf("dist did not wait for a sender\n%s", s.logTails())
	}

	s.mustScript("m1stop")
	for _, q := range s.cfg.Queues {
		if l := s.ringLen(q.Name); q.SaveOnStop && l != 0 {
			t.Errorf("%s's ring holds %d records after m1stop, want 0 (saved)", q.Name, l)
		}
	}
	if !s.waitLog("dist", "ring saved to its file part", time.Second) {
		t.Errorf("dist did not log the save\n%s", s.logTails())
	}
	// The reboot: shared memory is gone.
	s.mustTool("ipcq", "rm", "--all", "--yes", "--force")

	s.startSim()
	s.mustScript("m1start")
	if out := s.waitFinal(n, 90*time.Second); out != "" {
		t.Fatalf("after the reboot: %s\n%s", out, s.logTails())
	}
	st := s.store()
	rows, err := st.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var final, carrier int64
	for _, r := range rows {
		if r.Status == '4' {
			final += r.Count
		}
		switch r.ResultCode {
		case "0000", "3001", "3002", "3003": // carriersim's mix
			carrier += r.Count
		}
	}
	// Every message went to a carrier: one saved while dist held it did
	// not meet its own key as a duplicate (1201).
	if final != n || carrier != n {
		t.Errorf("%d final rows, %d with a carrier's result; want %d: %+v", final, carrier, n, rows)
	}
}

// ringLen is how many uncommitted records the named queue's ring holds
// (0 when there is no segment).
func (s *suite) ringLen(name string) int {
	s.t.Helper()
	o, err := queues.Options(s.cfg, name, false, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	o.Shm.Create = false
	q, err := shmq.Open(o.Shm)
	if err != nil {
		if errors.Is(err, ipc.ErrNotExist) {
			return 0
		}
		s.t.Fatalf("queue %s: %v", name, err)
	}
	defer q.Close()
	return q.Len()
}
