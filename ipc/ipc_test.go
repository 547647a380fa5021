package ipc

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// testKey returns a key of this test run's own, unlikely to meet another
// program's objects: 0x7e followed by random bits.
func testKey(t *testing.T) Key {
	t.Helper()
	return Key(0x7e000000 | rand.Int32N(0xffffff))
}

func TestParseKey(t *testing.T) {
	for in, want := range map[string]Key{"0x4d310001": 0x4d310001, "4D310001": 0x4d310001, " 0x1 ": 1, "0xffffffff": -1} {
		got, err := ParseKey(in)
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0x", "0x123456789", "zz", "12g4"} {
		if _, err := ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q) accepted", in)
		}
	}
	if s := Key(0x4d310001).String(); s != "0x4d310001" {
		t.Errorf("String = %s", s)
	}
}

func TestFtok(t *testing.T) {
	p := filepath.Join(t.TempDir(), "q")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	k1, err := Ftok(p, 'Q')
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	want := Key(int32(uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32('Q')<<24))
	if k1 != want {
		t.Fatalf("Ftok = %v, want %v", k1, want)
	}
	if _, err := Ftok(filepath.Join(t.TempDir(), "missing"), 'Q'); err == nil {
		t.Fatal("Ftok of a missing path succeeded")
	}
}

func TestShmLifecycle(t *testing.T) {
	key := testKey(t)
	id, err := CreateShm(key, 8192, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = RemoveShm(id)
		}
	})
	if _, err := CreateShm(key, 8192, 0o600); !errors.Is(err, ErrExist) {
		t.Fatalf("second create: %v, want ErrExist", err)
	}
	if _, err := OpenShm(key, 1<<20); !errors.Is(err, ErrInvalid) {
		t.Fatalf("open with a larger size: %v, want ErrInvalid", err)
	}
	id2, err := OpenShm(key, 8192)
	if err != nil || id2 != id {
		t.Fatalf("OpenShm = %d, %v; want %d", id2, err, id)
	}
	seg, err := AttachShm(id, key)
	if err != nil {
		t.Fatal(err)
	}
	seg.Mem[100] = 42
	info, err := StatShm(id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != key || info.Size != 8192 || info.Nattch != 1 || info.Mode != 0o600 || info.Removed {
		t.Fatalf("stat = %+v", info)
	}
	// Removed while attached: the mapping stays, the key is gone, stat says so.
	if err := RemoveShm(id); err != nil {
		t.Fatal(err)
	}
	removed = true
	if seg.Mem[100] != 42 {
		t.Fatal("memory lost after IPC_RMID while attached")
	}
	info, err = StatShm(id)
	if err != nil || !info.Removed {
		t.Fatalf("stat after remove = %+v, %v; want Removed", info, err)
	}
	if _, err := OpenShm(key, 8192); !errors.Is(err, ErrNotExist) {
		t.Fatalf("open after remove: %v, want ErrNotExist", err)
	}
	if err := seg.Detach(); err != nil {
		t.Fatal(err)
	}
	if err := seg.Detach(); err != nil {
		t.Fatalf("second detach: %v", err)
	}
	if _, err := StatShm(id); !errors.Is(err, ErrRemoved) {
		t.Fatalf("stat after last detach: %v, want ErrRemoved", err)
	}
}

func newTestSem(t *testing.T, n int) *SemSet {
	t.Helper()
	s, err := CreateSem(Private, n, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Remove() })
	return s
}

func TestSemBasics(t *testing.T) {
	key := testKey(t)
	s, err := CreateSem(key, 2, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	if _, err := CreateSem(key, 2, 0o600); !errors.Is(err, ErrExist) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := OpenSem(key, 5); !errors.Is(err, ErrInvalid) {
		t.Fatalf("open with more semaphores: %v, want ErrInvalid", err)
	}
	if err := s.SetVal(1, 3); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Val(1); err != nil || v != 3 {
		t.Fatalf("Val = %d, %v", v, err)
	}
	if err := s.Op(0, Sembuf{Num: 1, Op: -3}); err != nil {
		t.Fatal(err)
	}
	if err := s.Op(0, Sembuf{Num: 1, Op: -1}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("try-wait on 0: %v, want ErrTimeout", err)
	}
	if pid, err := s.LastPID(1); err != nil || pid != os.Getpid() {
		t.Fatalf("LastPID = %d, %v", pid, err)
	}
	info, err := s.Stat()
	if err != nil || info.NSems != 2 || info.Key != key {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

// A timed wait survives the signals Go's runtime sends (SIGURG preemption,
// provoked here by busy goroutines) and still waits its whole time.
func TestSemTimedWaitRetriesEINTR(t *testing.T) {
	s := newTestSem(t, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				for i := 0; i < 1e6; i++ {
				}
			}
		}
	}()
	start := time.Now()
	err := s.Op(300*time.Millisecond, Sembuf{Num: 0, Op: -1})
	waited := time.Since(start)
	close(stop)
	<-done
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("timed wait: %v, want ErrTimeout", err)
	}
	if waited < 300*time.Millisecond {
		t.Fatalf("timed wait returned after %v, before its 300ms", waited)
	}
}

func TestSemRemovedWhileWaiting(t *testing.T) {
	s, err := CreateSem(Private, 1, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Op(-1, Sembuf{Num: 0, Op: -1}) }()
	time.Sleep(50 * time.Millisecond)
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrRemoved) {
		t.Fatalf("wait on a removed set: %v, want ErrRemoved", err)
	}
}

// A process killed with SIGKILL while holding a mutex taken with SEM_UNDO
// blocks nobody: the kernel gives the unit back.
func TestSemUndoReleasesKilledHolder(t *testing.T) {
	if os.Getenv("IPC_TEST_HOLDER") != "" {
		return
	}
	s := newTestSem(t, 1)
	if err := s.SetVal(0, 1); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSemUndoHolderChild$")
	cmd.Env = append(os.Environ(), "IPC_TEST_HOLDER=1", "IPC_TEST_SEMID="+itoa(s.ID))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil { // "locked"
		t.Fatal(err)
	}
	if err := s.Op(0, Sembuf{Num: 0, Op: -1}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("mutex free while the child holds it: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err := s.Op(5*time.Second, Sembuf{Num: 0, Op: -1, Flags: SemUndo}); err != nil {
		t.Fatalf("mutex of a killed holder not released: %v", err)
	}
}

func TestSemUndoHolderChild(t *testing.T) {
	if os.Getenv("IPC_TEST_HOLDER") == "" {
		t.Skip("child of TestSemUndoReleasesKilledHolder")
	}
	id := atoi(os.Getenv("IPC_TEST_SEMID"))
	s := &SemSet{ID: id, N: 1}
	if err := s.Op(-1, Sembuf{Num: 0, Op: -1, Flags: SemUndo}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked")
	time.Sleep(time.Minute)
}

func TestAlive(t *testing.T) {
	st, err := ProcStart(os.Getpid())
	if err != nil || st == 0 {
		t.Fatalf("ProcStart(self) = %d, %v", st, err)
	}
	if !Alive(os.Getpid(), st) {
		t.Fatal("self not alive")
	}
	if Alive(os.Getpid(), st+1) {
		t.Fatal("self alive with another start time")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid, 0) {
		t.Fatal("reaped child alive")
	}
}

// An exited child not yet reaped (a zombie) is not alive.
func TestZombieIsNotAlive(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		if state, _, err := procStat(pid); err == nil && state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not become a zombie")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if Alive(pid, 0) {
		t.Fatal("zombie reported alive")
	}
	_ = cmd.Wait()
}
