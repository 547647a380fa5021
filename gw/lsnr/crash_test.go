package lsnr

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/internal/testchild"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// The child role of TestReportsSurviveKill and TestKilledWhileHeld: a
// listener in another process on the parent's queues, files and index,
// killed with SIGKILL. It prints "ready ADDR" once it listens.
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
	var dbx queue.Queue
	if get("DBX") != "" {
		// TestKilledWhileHeld's geometry.
		if dbx, err = openKey("DBX", get("DBX"), 10, 64); err != nil {
			fmt.Println("error", err)
			return 1
		}
	}
	l, err := New(Options{Config: cfg, Log: zap.NewNop(), Lanes: lanes, RPT: rpt, DBX: dbx, Dup: dup,
		Ports: []config.Port{{Listen: "127.0.0.1:0", Mode: config.ModeShared}}, ReportDir: get("REPORTS")})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready", l.Addrs()[0])
	if dbx != nil {
		// TestKilledWhileHeld kills the child once it knows a SUBMIT is
		// held.
		go func() {
			for l.brake.holding.Load() == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			fmt.Println("held")
		}()
	}
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
	cmd, _, _ := startChild(t, e, nil)
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

// startChild runs a listener process on e's queues, index and files (and
// DBX when given) and returns its address; the test's cleanup kills it.
func startChild(t *testing.T, e *env, dbx *shmq.Queue) (*exec.Cmd, string, *bufio.Reader) {
	t.Helper()
	env := []string{childEnv + "=1",
		"M1_LSNR_HOME=" + e.home, "M1_LSNR_REPORTS=" + e.opts.ReportDir, "M1_LSNR_DUP=" + e.dup.Path(),
		"M1_LSNR_RPT=" + strconv.Itoa(int(e.rpt.Key()))}
	if dbx != nil {
		env = append(env, "M1_LSNR_DBX="+strconv.Itoa(int(dbx.Key())))
	}
	for jc, q := range e.lanes {
		env = append(env, "M1_LSNR_LANE_"+string(jc)+"="+strconv.Itoa(int(q.Key())))
	}
	cmd, out := testchild.Start(t, "^$", env...)
	line := testchild.Expect(t, out, "ready ")
	return cmd, strings.TrimPrefix(line, "ready "), out
}

// TestKilledWhileHeld: a listener process killed with SIGKILL while its
// intake brake holds a SUBMIT has neither stored the message nor recorded
// its MSG_KEY, so the client's retry (it had no answer) is accepted, not
// refused 1201 as a duplicate of a message that was never stored.
func TestKilledWhileHeld(t *testing.T) {
	dbx := openQueue(t, "DBX", 10, 64)
	e := newEnv(t, envOpt{m1Extra: "brake_dbx_fill = 50\nbrake_wait = \"5s\""})
	e.stop()
	fillDBX(t, dbx, 10) // past the mark, not spilling: the brake holds
	cmd, addr, out := startChild(t, e, dbx)
	c := bound(t, addr, cliA, pwA, client.Options{})
	key := newKey()
	ch := submitAsync(t, c, sms(key))
	testchild.Expect(t, out, "held")
	select {
	case a := <-ch:
		t.Fatalf("SUBMIT answered %v (%v) while held", a.code, a.err)
	default:
	}
	if dup, err := e.dup.Contains(cliA, key, time.Now()); err != nil || dup {
		t.Fatalf("key recorded in the duplicate index while its message is held (dup %v, err %v)", dup, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := e.lanes['S'].Len(); n != 0 {
		t.Fatalf("DIST.S holds %d records after the kill; the held message was never stored", n)
	}
	drainDBX(t, dbx)
	e.start()
	c2 := bound(t, e.shared(), cliA, pwA, client.Options{})
	code, _, err := c2.Submit(ctxT(t), sms(key))
	if err != nil || code != telegram.OK {
		t.Fatalf("the client's retry of %s: %v %v, want 0000 (the first was never stored)", key, code, err)
	}
	if got := len(laneRecords(t, e.lanes['S'])); got != 1 {
		t.Fatalf("DIST.S holds %d records, want the retry's 1", got)
	}
}
