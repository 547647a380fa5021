package lsnr

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// The child role of TestReportsSurviveKill: a listener in another process
// on the parent's queues, files and index, killed with SIGKILL.
const childEnv = "M1_LSNR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

func childMain() int {
	get := func(k string) string { return os.Getenv("M1_LSNR_" + k) }
	cfg, err := config.Load(get("HOME"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	openKey := func(name, k string, capacity, size int) (*shmq.Queue, error) {
		key, _ := strconv.ParseInt(k, 10, 64)
		return shmq.Open(shmq.Options{Name: name, Key: ipc.Key(key), Capacity: capacity, RecordSize: size})
	}
	lanes := map[byte]queue.Queue{}
	for _, jc := range jobClasses {
		q, err := openKey("DIST."+string(jc), get("LANE_"+string(jc)), 4096, 2400)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		lanes[jc] = q
	}
	rpt, err := openKey("RPT", get("RPT"), 1024, 256)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	dup, err := dupindex.Open(dupindex.Options{Path: get("DUP"), Capacity: 1 << 16, Locks: 1 << 8})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	l, err := New(Options{Config: cfg, Log: zap.NewNop(), Lanes: lanes, RPT: rpt, Dup: dup,
		Ports: []config.Port{{Listen: "127.0.0.1:0", Mode: config.ModeShared}}, ReportDir: get("REPORTS")})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready")
	_ = l.Main()
	return 0
}

// TestReportsSurviveKill: reports taken from RPT by a listener process
// killed with SIGKILL are delivered by the next listener.
func TestReportsSurviveKill(t *testing.T) {
	e := newEnv(t, envOpt{noRPT: true})
	e.stop()
	e.rpt = openQueue(t, "RPT", 1024, 256)
	e.opts.RPT = e.rpt
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"M1_LSNR_HOME="+e.home, "M1_LSNR_REPORTS="+e.opts.ReportDir, "M1_LSNR_DUP="+e.dup.Path(),
		"M1_LSNR_RPT="+strconv.Itoa(int(e.rpt.Key())))
	for jc, q := range e.lanes {
		cmd.Env = append(cmd.Env, "M1_LSNR_LANE_"+string(jc)+"="+strconv.Itoa(int(q.Key())))
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	const n = 50
	want := map[string]bool{}
	for range n {
		want[putRPT(t, e, cliA).GWID] = true
	}
	// Committed from RPT means written to the pending file.
	waitFor(t, "the child to take every RPT record", func() bool { return e.rpt.Len() == 0 })
	if got := pendingSize(t, e, cliA); got != n*entrySize {
		t.Fatalf("pending file holds %d bytes, want %d", got, n*entrySize)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	e.start()
	ch := make(chan telegram.Report, n)
	bound(t, e.shared(), cliA, pwA, reportsTo(ch, false))
	for len(want) > 0 {
		select {
		case r := <-ch:
			delete(want, r.GWID)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d reports lost with the killed listener", len(want))
		}
	}
}
