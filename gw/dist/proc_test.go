package dist

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

const senderEnv = "M1_DIST_SENDER_CHILD"

type senderSpec struct {
	Table ipc.Key
	Queue ipc.Key
	Cap   int
}

// senderChild plays sender.KT1: it registers in the process table with its
// link up, holds its queue as consumer (taking without committing, as a
// sender with records in its window), toggles its link on SIGUSR1, and
// waits to be killed.
func senderChild(s string) {
	var spec senderSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		panic(err)
	}
	t, err := proctab.Open(proctab.Options{Key: spec.Table, Slots: 16, DeadAfter: time.Hour})
	if err != nil {
		panic(err)
	}
	slot, err := t.Register(config.SenderProcess("KT1"), "sender")
	if err != nil {
		panic(err)
	}
	q, err := shmq.Open(shmq.Options{Name: "SND.KT1", Key: spec.Queue, Capacity: spec.Cap, RecordSize: msg.MaxMessageSize})
	if err != nil {
		panic(err)
	}
	if _, err := q.TakeBatch(nil, 1, 0); err != nil && err != queue.ErrEmpty {
		panic(err)
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	up := true
	slot.SetLink(up)
	slot.SetState(proctab.Running)
	os.Stdout.WriteString("ready\n")
	for range usr1 {
		up = !up
		slot.SetLink(up)
		os.Stdout.WriteString("toggled\n")
	}
}

func waitLine(t *testing.T, out *os.File, want string) {
	t.Helper()
	buf := make([]byte, 64)
	n, err := out.Read(buf)
	if err != nil || string(buf[:n]) != want+"\n" {
		t.Fatalf("child said %q, %v; want %q", buf[:n], err, want)
	}
}

// TestProcessTableFailoverAndBacklog runs the sender behaviours
// through the real process table and a real sender process: 1:0 fails over
// when KT1's link drops and back when it returns; while KT1 lives dist
// cannot take its queue (the sender holds it); once KT1 is killed its
// backlog goes to KT2 after the delay, REROUTES incremented.
func TestProcessTableFailoverAndBacklog(t *testing.T) {
	cfg := testConfig(t, []config.Route{route("", "KT1=1, KT2=0")}, "KT1", "KT2")
	cfg.Timeouts.SenderDownReroute = config.Duration(200 * time.Millisecond)
	r := newRig(t, cfg, 1000)
	tabKey := testKey(t)
	tab, err := proctab.Open(proctab.Options{Key: tabKey, Slots: 16, Create: true, DeadAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab.Close(); _ = proctab.Remove(tabKey) })
	kt2, err := tab.Register(config.SenderProcess("KT2"), "sender")
	if err != nil {
		t.Fatal(err)
	}
	kt2.SetLink(true)
	kt2.SetState(proctab.Running)

	// A backlog the live sender holds: 5 records in SND.KT1.
	var backlog [][]byte
	for range 5 {
		backlog = append(backlog, r.message(nil))
	}
	r.put("SND.KT1", backlog...)

	spec, _ := json.Marshal(senderSpec{Table: tabKey, Queue: r.keys["SND.KT1"], Cap: r.caps["SND.KT1"]})
	pr, pw, _ := os.Pipe()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), senderEnv+"="+string(spec))
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitLine(t, pr, "ready")

	d, err := New(Options{Config: cfg, Log: zaptest.NewLogger(t),
		Open:   func(n string, _ bool) (queue.Queue, error) { return r.open(n) },
		Health: TableHealth{T: tab}, JournalPath: filepath.Join(r.dir, "j")})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Main() }()
	defer func() { d.Exit(); <-done }()

	kt1Len := func() int { return r.q("SND.KT1").Len() }
	snd2 := r.q("SND.KT2")
	send := func(n int) {
		var b [][]byte
		for range n {
			b = append(b, r.message(nil))
		}
		r.put("DIST.R", b...)
	}
	send(10)
	waitFor(t, func() bool { return kt1Len() == 15 }, "10 records on KT1")

	_ = cmd.Process.Signal(syscall.SIGUSR1) // link down
	waitLine(t, pr, "toggled")
	time.Sleep(10 * time.Millisecond)
	send(10)
	if got := drainMsgs(t, snd2, 10, 5*time.Second); len(got) != 10 {
		t.Fatalf("link down: %d on KT2", len(got))
	}
	_ = cmd.Process.Signal(syscall.SIGUSR1) // link up
	waitLine(t, pr, "toggled")
	time.Sleep(10 * time.Millisecond)
	send(10)
	waitFor(t, func() bool { return kt1Len() == 25 }, "fail-back to KT1")

	// The sender lives: its queue stays its own however long we wait.
	time.Sleep(400 * time.Millisecond)
	if n := kt1Len(); n != 25 {
		t.Fatalf("KT1's queue went from 25 to %d while KT1 lived", n)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	got := drainMsgs(t, snd2, 25, 10*time.Second)
	if len(got) != 25 {
		t.Fatalf("%d of KT1's 25 re-routed", len(got))
	}
	for _, m := range got {
		if m.Reroutes != 1 || m.Sender != "KT2" {
			t.Fatalf("re-routed record: REROUTES %d SENDER %s", m.Reroutes, m.Sender)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
