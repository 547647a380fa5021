package lsnr

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// TestFutureReserveTimeInT41: a future RESERVE_TIME becomes a T41 row
// (STATUS 1) in a real SQLite store, answered 0000 after the commit; the
// same key again is 1201 (T41's unique key), and nothing reaches a lane.
func TestFutureReserveTimeInT41(t *testing.T) {
	st, err := store.Open(store.Options{DSN: "sqlite:" + filepath.Join(t.TempDir(), "m1.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{future: st})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	s := sms(newKey())
	s.ReserveTime = time.Now().Add(2 * time.Hour).Format("20060102150405")
	code, _, err := c.Submit(ctxT(t), s)
	if err != nil || code != telegram.OK {
		t.Fatalf("future SUBMIT: %v %v", code, err)
	}
	code, _, err = c.Submit(ctxT(t), s)
	if err != nil || code != telegram.ErrDuplicate {
		t.Fatalf("same key again: %v %v, want 1201", code, err)
	}
	counts, err := st.CountT41(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts['1'] != 1 {
		t.Fatalf("T41 by status: %v, want one row with STATUS 1", counts)
	}
	for jc, q := range e.lanes {
		if n := q.Len(); n != 0 {
			t.Fatalf("lane %c holds %d", jc, n)
		}
	}
	// An immediate SUBMIT with a key already waiting in T41 is a new key
	// for the index (documented), and one with an indexed key is refused.
	s2 := sms(newKey())
	if code, _, _ := c.Submit(ctxT(t), s2); code != telegram.OK {
		t.Fatal(code)
	}
	s2.ReserveTime = s.ReserveTime
	if code, _, _ := c.Submit(ctxT(t), s2); code != telegram.ErrDuplicate {
		t.Fatalf("future SUBMIT of an indexed key: %v, want 1201", code)
	}
}

// TestStopLosesNothing: clients pipelining while the listener stops; every
// SUBMIT answered 0000 is in a lane, and none more.
func TestStopLosesNothing(t *testing.T) {
	e := newEnv(t, envOpt{})
	var mu sync.Mutex
	accepted := map[string]bool{}
	stored := map[string]bool{}
	// A sink drains the lanes while the clients run, as dist would.
	sinkStop := make(chan struct{})
	var sinkWG sync.WaitGroup
	for _, q := range e.lanes {
		sinkWG.Add(1)
		go func() {
			defer sinkWG.Done()
			for {
				select {
				case <-sinkStop:
					return
				default:
				}
				for _, m := range laneRecords(t, q) {
					mu.Lock()
					stored[m.MsgKey] = true
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var wg sync.WaitGroup
	for range 4 {
		c := bound(t, e.shared(), cliA, pwA, client.Options{})
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					s := sms(newKeyLocked())
					code, _, err := c.Submit(context.Background(), s)
					if err != nil {
						return
					}
					if code == telegram.OK {
						mu.Lock()
						accepted[s.MsgKey] = true
						mu.Unlock()
					}
				}
			}()
		}
	}
	time.Sleep(300 * time.Millisecond)
	e.stop()
	wg.Wait()
	close(sinkStop)
	sinkWG.Wait()
	for _, q := range e.lanes {
		for _, m := range laneRecords(t, q) {
			stored[m.MsgKey] = true
		}
	}
	if len(accepted) == 0 {
		t.Fatal("nothing accepted before the stop")
	}
	for k := range accepted {
		if !stored[k] {
			t.Fatalf("accepted %s not stored", k)
		}
	}
	t.Logf("accepted %d, stored %d", len(accepted), len(stored))
}
