package proctab

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/ipc"
)

func testTable(t *testing.T, slots int) (*Table, ipc.Key) {
	t.Helper()
	key := ipc.Key(0x7d000000 | rand.Int32N(0xffffff))
	tab, err := Open(Options{Key: key, Slots: slots, Create: true, DeadAfter: 2 * time.Second, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tab.Close(); _ = Remove(key) })
	return tab, key
}

func TestRegisterListRelease(t *testing.T) {
	tab, key := testTable(t, 4)
	s, err := tab.Register("sender.KT1", "sender")
	if err != nil {
		t.Fatal(err)
	}
	s.SetState(Running)
	s.SetLink(true)
	s.SetWindow(3, 16)
	s.AddIn(5)
	s.AddOut(4)
	s.AddErr(1)
	s.SetLastError("connect 127.0.0.1:17001: connection refused")
	e, ok := tab.Lookup("sender.KT1")
	if !ok || !e.Alive || !e.Up() || e.PID != os.Getpid() || e.In != 5 || e.Out != 4 || e.Errors != 1 ||
		e.WindowUsed != 3 || e.WindowSize != 16 || !strings.Contains(e.LastError, "refused") || e.Role != "sender" {
		t.Fatalf("entry = %+v", e)
	}
	s.SetLink(false)
	if e, _ := tab.Lookup("sender.KT1"); e.Up() {
		t.Fatal("sender with its link down is up")
	}
	if _, err := tab.Register("sender.KT1", "sender"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second live holder: %v", err)
	}
	// Another process's view of the same table.
	other, err := Open(Options{Key: key, Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if l := other.List(); len(l) != 1 || l[0].Name != "sender.KT1" {
		t.Fatalf("List = %+v", l)
	}
	s.Release()
	e, _ = tab.Lookup("sender.KT1")
	if e.State != Stopped || e.Up() {
		t.Fatalf("after release: %+v", e)
	}
	if _, err := tab.Register("sender.KT1", "sender"); err != nil {
		t.Fatalf("register after release: %v", err)
	}
	if _, err := Open(Options{Key: key, Slots: 8}); !errors.Is(err, ErrGeometry) {
		t.Fatalf("open with other slots: %v", err)
	}
}

func TestTableFull(t *testing.T) {
	tab, _ := testTable(t, 2)
	for _, n := range []string{"a", "b"} {
		if _, err := tab.Register(n, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tab.Register("c", "x"); !errors.Is(err, ErrTableFull) {
		t.Fatalf("third register: %v", err)
	}
}

// A process killed with SIGKILL shows as dead at once, and its slot is
// taken by the next process of that name.
func TestKilledProcessIsDead(t *testing.T) {
	if os.Getenv("PROCTAB_CHILD") != "" {
		return
	}
	tab, key := testTable(t, 4)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildRegisters$")
	cmd.Env = append(os.Environ(), "PROCTAB_CHILD=1", "PROCTAB_KEY="+key.String())
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 7)
	if _, err := out.Read(b); err != nil {
		t.Fatal(err)
	}
	e, ok := tab.Lookup("dist")
	if !ok || !e.Alive || e.PID != cmd.Process.Pid {
		t.Fatalf("child's entry = %+v", e)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if e, _ := tab.Lookup("dist"); e.Alive || e.Up() {
		t.Fatalf("killed child still alive: %+v", e)
	}
	s, err := tab.Register("dist", "dist")
	if err != nil {
		t.Fatal(err)
	}
	if s.off != tab.slotOff(e.Slot) {
		t.Fatal("restarted process did not take its dead predecessor's slot")
	}
}

func TestChildRegisters(t *testing.T) {
	if os.Getenv("PROCTAB_CHILD") == "" {
		t.Skip("child of TestKilledProcessIsDead")
	}
	key, _ := ipc.ParseKey(os.Getenv("PROCTAB_KEY"))
	tab, err := Open(Options{Key: key, Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tab.Register("dist", "dist")
	if err != nil {
		t.Fatal(err)
	}
	s.SetState(Running)
	os.Stdout.WriteString("running")
	time.Sleep(time.Minute)
}

// A live process whose heartbeat stopped (stuck) is dead to readers.
func TestStaleHeartbeatIsDead(t *testing.T) {
	key := ipc.Key(0x7d000000 | rand.Int32N(0xffffff))
	tab, err := Open(Options{Key: key, Slots: 2, Create: true, DeadAfter: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer Remove(key)
	defer tab.Close()
	s, _ := tab.Register("sch", "sch")
	s.SetState(Running)
	if e, _ := tab.Lookup("sch"); !e.Alive {
		t.Fatal("fresh slot dead")
	}
	time.Sleep(80 * time.Millisecond)
	if e, _ := tab.Lookup("sch"); e.Alive {
		t.Fatal("slot without heartbeat for longer than dead-after is alive")
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); s.HeartbeatLoop(stop, 10*time.Millisecond) }()
	time.Sleep(30 * time.Millisecond)
	close(stop)
	<-done
	if e, _ := tab.Lookup("sch"); !e.Alive {
		t.Fatal("heartbeat loop did not revive the slot")
	}
}
