package lsnr

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue/shmq"
)

// answer is a SUBMIT's result, or the request's error.
type answer struct {
	code telegram.Code
	err  error
}

// submitAsync sends one SUBMIT and delivers its answer on the channel (the
// goroutine may outlive a failed test, and must not call t then).
func submitAsync(t *testing.T, c *client.Client, s *telegram.Submit) <-chan answer {
	t.Helper()
	out := make(chan answer, 1)
	ctx := ctxT(t)
	go func() {
		code, _, err := c.Submit(ctx, s)
		out <- answer{code, err}
	}()
	return out
}

// fillDBX puts n records into the test's DBX ring.
func fillDBX(t *testing.T, q *shmq.Queue, n int) {
	t.Helper()
	for range n {
		if err := q.Put([]byte("event"), 0); err != nil {
			t.Fatal(err)
		}
	}
}

func drainDBX(t *testing.T, q *shmq.Queue) {
	t.Helper()
	for {
		r, err := q.Take(0)
		if err != nil {
			return
		}
		if err := q.Commit(r.Pos); err != nil {
			t.Fatal(err)
		}
	}
}

// wantStored wants the SUBMIT answered 0000 within d and its record alone
// in lane jc.
func wantStored(t *testing.T, e *env, jc byte, ch <-chan answer, d time.Duration, what string) {
	t.Helper()
	if code := within(t, ch, d, what); code != telegram.OK {
		t.Fatalf("%s: SUBMIT answered %s", what, code)
	}
	if got := len(laneRecords(t, e.lanes[jc])); got != 1 {
		t.Fatalf("%s: DIST.%c holds %d records, want 1", what, jc, got)
	}
}

// waitHeld waits until l's brake holds a batch.
func waitHeld(t *testing.T, l *Listener) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.brake.holding.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the brake never held the SUBMIT")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func within(t *testing.T, ch <-chan answer, d time.Duration, what string) telegram.Code {
	t.Helper()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("%s: SUBMIT: %v", what, a.err)
		}
		return a.code
	case <-time.After(d):
		t.Fatalf("%s: no SUBMIT_RESP within %v", what, d)
		return telegram.OK
	}
}

// TestIntakeBrake runs the brake against a real DBX ring (shared memory
// and semaphores) and real TCP clients: an S message waits while DBX is
// past the mark and is answered once dbx has taken the backlog; an R
// message never waits; nothing waits while DBX has spilled; a hold ends
// after brake_wait whatever DBX holds; a stop ends a hold at once.
func TestIntakeBrake(t *testing.T) {
	const capacity = 10 // mark at 50 %: 5 records
	newBraked := func(t *testing.T, wait string) (*env, *shmq.Queue, *client.Client) {
		dbx := openQueue(t, "DBX", capacity, 64)
		core, logs := observer.New(zap.InfoLevel)
		e := newEnv(t, envOpt{dbx: dbx, logger: zap.New(core),
			m1Extra: "brake_dbx_fill = 50\nbrake_wait = \"" + wait + "\""})
		t.Cleanup(func() {
			if t.Failed() {
				for _, l := range logs.All() {
					t.Logf("%s %v", l.Message, l.ContextMap())
				}
			}
		})
		return e, dbx, bound(t, e.shared(), cliA, pwA, client.Options{})
	}

	t.Run("held until dbx catches up", func(t *testing.T) {
		e, dbx, c := newBraked(t, "5s")
		fillDBX(t, dbx, 5)
		ch := submitAsync(t, c, sms(newKey()))
		select {
		case a := <-ch:
			t.Fatalf("SUBMIT answered %v (%v) while DBX held 5 of 10 (the mark): not held", a.code, a.err)
		case <-time.After(300 * time.Millisecond):
		}
		if got := e.lanes['S'].Len(); got != 0 {
			t.Fatalf("a held message is already in DIST.S (%d records)", got)
		}
		drainDBX(t, dbx)
		wantStored(t, e, 'S', ch, 3*time.Second, "after DBX drained")
	})

	t.Run("below the mark is not held", func(t *testing.T) {
		e, dbx, c := newBraked(t, "5s")
		fillDBX(t, dbx, 4)
		wantStored(t, e, 'S', submitAsync(t, c, sms(newKey())), 3*time.Second, "DBX at 4 of 10")
	})

	t.Run("real-time lane never held", func(t *testing.T) {
		e, dbx, c := newBraked(t, "5s")
		fillDBX(t, dbx, capacity)
		s := sms(newKey())
		s.JobClass = 'R'
		wantStored(t, e, 'R', submitAsync(t, c, s), 3*time.Second, "JOB_CLASS R with DBX full")
	})

	t.Run("not held while DBX spills", func(t *testing.T) {
		_, dbx, c := newBraked(t, "5s")
		fillDBX(t, dbx, capacity)
		dbx.MarkSpilling() // what the first writer to find it full does
		if code := within(t, submitAsync(t, c, sms(newKey())), 3*time.Second, "DBX spilling"); code != telegram.OK {
			t.Fatalf("SUBMIT: %s", code)
		}
	})

	t.Run("hold bounded by brake_wait", func(t *testing.T) {
		e, dbx, c := newBraked(t, "1s")
		fillDBX(t, dbx, capacity)
		start := time.Now()
		if code := within(t, submitAsync(t, c, sms(newKey())), 8*time.Second, "DBX full for good"); code != telegram.OK {
			t.Fatalf("SUBMIT after brake_wait: %s", code)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("answered after %v: not held for brake_wait (1s)", d)
		}
		if got := len(laneRecords(t, e.lanes['S'])); got != 1 {
			t.Fatalf("DIST.S holds %d records, want 1", got)
		}
	})

	t.Run("stop ends a hold", func(t *testing.T) {
		e, dbx, c := newBraked(t, "5s")
		fillDBX(t, dbx, capacity)
		ch := submitAsync(t, c, sms(newKey()))
		waitHeld(t, e.l)
		stopped := make(chan struct{})
		// Exit, not e.stop: the test's cleanup calls e.stop, and two
		// e.stop would both wait for Main's one result.
		go func() { e.l.Exit(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(3 * time.Second):
			t.Fatal("Exit waited for a held batch (brake_wait 5s)")
		}
		wantStored(t, e, 'S', ch, 5*time.Second, "after stop")
	})
}
