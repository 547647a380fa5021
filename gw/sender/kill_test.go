package sender

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue/shmq"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// The crash test's child is this test binary run again with
// M1_SENDER_CHILD set (in the manner of bbolt): a sender on the parent's
// queues and simulator, until SIGTERM, or SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("M1_SENDER_CHILD") != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

func childMain() int {
	env := func(k string) int { v, _ := strconv.ParseInt(os.Getenv(k), 0, 64); return int(v) }
	log, _ := zap.NewProduction()
	open := func(name string, key, capacity, size int) *shmq.Queue {
		q, err := shmq.Open(shmq.Options{Name: name, Key: ipc.Key(key), Capacity: capacity, RecordSize: size, Log: log})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		return q
	}
	snd := open("SND.T", env("M1_SND_KEY"), env("M1_SND_CAP"), msg.MaxMessageSize)
	dbx := open("DBX", env("M1_DBX_KEY"), env("M1_DBX_CAP"), msg.MaxEventSize)
	s, err := New(Options{ID: "T", Carrier: "KT", Dialect: carrier.KT, Servers: []string{os.Getenv("M1_SIM_ADDR")},
		Login: "m1", Password: "pw", Window: env("M1_WINDOW"), TPS: 1000000, ConnectTimeout: time.Second,
		ReconnectMin: 20 * time.Millisecond, Queue: snd, DBX: dbx, Log: log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	select {
	case <-sig:
		s.Exit()
		err = <-done
	case err = <-done:
	}
	_ = snd.Close()
	_ = dbx.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// A sender killed with SIGKILL mid-stream, three times: every record ends
// with an Ack on DBX, SND is committed, and the carrier received at most a
// window of duplicates per kill.
func TestKillMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	const n, window, kills = 3000, 32, 3
	r := newRig(t, n, sim.Config{AckLatency: 200 * time.Microsecond, ReportDelayMax: 10 * time.Millisecond})
	dbxCap := max(3*n, 64)
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "M1_SENDER_CHILD=1",
			fmt.Sprint("M1_SND_KEY=", int(r.sndKey)), fmt.Sprint("M1_SND_CAP=", max(n, 16)),
			fmt.Sprint("M1_DBX_KEY=", int(r.dbxKey)), fmt.Sprint("M1_DBX_CAP=", dbxCap),
			"M1_SIM_ADDR="+r.sim.Addr("KT1"), fmt.Sprint("M1_WINDOW=", window))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	acked := func() int {
		k := 0
		for _, id := range r.gwids {
			if len(r.acks[id]) > 0 {
				k++
			}
		}
		return k
	}
	for i := 1; i <= kills; i++ {
		cmd := start()
		target := i * n / (kills + 1)
		deadline := time.Now().Add(30 * time.Second)
		for acked() < target {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("kill %d: only %d acked, sim %+v", i, acked(), r.sim.Stats())
			}
			r.pump()
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		t.Logf("kill %d after %d acks; sim received %d", i, acked(), r.sim.Stats().Received)
	}
	cmd := start()
	r.drain(false, 60*time.Second)
	r.waitCommitted(10 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last sender stopped with %v", err)
	}
	st := r.sim.Stats()
	t.Logf("sim: received %d unique %d duplicate submits %d (bound %d)", st.Received, st.Unique, st.DupSubmits, kills*window)
	if st.Unique != n || st.DupSubmits > kills*window {
		t.Fatalf("unique %d of %d, %d duplicate submits, more than %d kills × window %d", st.Unique, n, st.DupSubmits, kills, window)
	}
	if st.DupSubmits == 0 {
		t.Logf("note: no duplicates this run (each kill fell between an Ack and its commit)")
	}
}
