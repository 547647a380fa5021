package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m1gw/m1/internal/testchild"
)

// The test binary re-executes itself as a child process when this variable
// names a role (in the manner of bbolt's tests).
const childEnv = "M1_DAEMON_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "hold":
		// Take the pid file, say so, and wait to be killed.
		pf, err := AcquirePIDFile(os.Getenv("RUN_DIR"), "dist")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready", pf.Path())
		time.Sleep(time.Minute)
		os.Exit(0)
	}
}

func startHolder(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd, out := testchild.Start(t, "^$", childEnv+"=hold", "RUN_DIR="+dir)
	testchild.Expect(t, out, "ready")
	return cmd
}

func TestSecondInstanceRefusedAndStalePIDFile(t *testing.T) {
	dir := t.TempDir()
	child := startHolder(t, dir)

	_, err := AcquirePIDFile(dir, "dist")
	var re *RunningError
	if !errors.As(err, &re) || re.PID != child.Process.Pid {
		t.Fatalf("second instance: %v, want RunningError with pid %d", err, child.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", child.Process.Pid)) {
		t.Errorf("message does not name the pid: %v", err)
	}
	if pid, running, err := ReadPID(dir, "dist"); err != nil || !running || pid != child.Process.Pid {
		t.Errorf("ReadPID: %d %v %v", pid, running, err)
	}

	// SIGKILL: the file stays, the lock goes with the process.
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	path := filepath.Join(dir, "dist.pid")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale pid file should still be there: %v", err)
	}
	if _, running, _ := ReadPID(dir, "dist"); running {
		t.Error("ReadPID: a killed process reported running")
	}
	pf, err := AcquirePIDFile(dir, "dist")
	if err != nil {
		t.Fatalf("stale pid file blocked a restart: %v", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("pid file holds %q", b)
	}
	if err := pf.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file not removed: %v", err)
	}
	if err := pf.Release(); err != nil {
		t.Errorf("second release: %v", err)
	}
}

func TestSignalsRouteToHandlers(t *testing.T) {
	stop, reload, reopen, ignored := make(chan struct{}, 4), make(chan struct{}, 4), make(chan struct{}, 4), make(chan os.Signal, 4)
	s := HandleSignals(Handlers{
		Stop:    func() { stop <- struct{}{} },
		Reload:  func() { reload <- struct{}{} },
		Reopen:  func() { reopen <- struct{}{} },
		Ignored: func(sig os.Signal) { ignored <- sig },
	})
	defer s.Close()
	self := os.Getpid()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s handler not called", what)
		}
	}
	must(t, syscall.Kill(self, syscall.SIGHUP))
	wait(reload, "HUP")
	must(t, syscall.Kill(self, syscall.SIGUSR1))
	wait(reopen, "USR1")
	must(t, syscall.Kill(self, syscall.SIGTERM))
	wait(stop, "TERM")
	must(t, syscall.Kill(self, syscall.SIGINT))
	select {
	case sig := <-ignored:
		if sig != syscall.SIGINT {
			t.Errorf("ignored %v", sig)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second stop signal not reported as ignored")
	}
	if len(stop) != 0 || len(reload) != 0 || len(reopen) != 0 {
		t.Error("a handler was called more than once")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeDaemon blocks in Main until Exit.
type fakeDaemon struct {
	hold    chan struct{} // when set, Exit waits for it to close
	quit    chan struct{}
	exits   atomic.Int32
	mainErr error
	started chan struct{}
}

func newFake() *fakeDaemon {
	return &fakeDaemon{quit: make(chan struct{}), started: make(chan struct{})}
}

func (f *fakeDaemon) Main() error {
	close(f.started)
	if f.mainErr != nil {
		return f.mainErr
	}
	<-f.quit
	return nil
}

func (f *fakeDaemon) Exit() {
	if f.hold != nil {
		<-f.hold
	}
	if f.exits.Add(1) == 1 {
		close(f.quit)
	}
}

func TestRunStopsOnTermTwiceHarmless(t *testing.T) {
	dir := t.TempDir()
	d := newFake()
	d.hold = make(chan struct{})
	core, logs := observer.New(zap.InfoLevel)
	var reloads, reopens atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), d, Options{
			Name: "sch", RunDir: dir, Log: zap.New(core),
			Reload: func() error { reloads.Add(1); return errors.New("bad file") },
			Reopen: func() error { reopens.Add(1); return nil },
		})
	}()
	<-d.started
	if _, running, _ := ReadPID(dir, "sch"); !running {
		t.Fatal("pid file not held while running")
	}
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	must(t, syscall.Kill(os.Getpid(), syscall.SIGUSR1))
	deadline := time.Now().Add(20 * time.Second)
	for (reloads.Load() == 0 || reopens.Load() == 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if reloads.Load() != 1 || reopens.Load() != 1 {
		t.Fatalf("reloads %d reopens %d", reloads.Load(), reopens.Load())
	}
	// The second TERM arrives while Exit is still stopping the daemon
	// (sent after the first was seen: pending signals coalesce).
	must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	for logs.FilterMessage("stopping").Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	for logs.FilterMessage("already stopping").Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if logs.FilterMessage("already stopping").Len() != 1 {
		t.Fatal("second TERM not seen as already stopping")
	}
	close(d.hold)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop on SIGTERM")
	}
	if n := d.exits.Load(); n != 1 {
		t.Errorf("Exit called %d times", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "sch.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
}

func TestRunMainError(t *testing.T) {
	dir := t.TempDir()
	d := newFake()
	d.mainErr = errors.New("database gone")
	err := Run(context.Background(), d, Options{Name: "dbx", RunDir: dir, Log: zaptest.NewLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "dbx: database gone") || !errors.Is(err, d.mainErr) {
		t.Fatalf("got %v", err)
	}
	if d.exits.Load() != 1 {
		t.Error("Exit not called after Main failed")
	}
	if _, err := os.Stat(filepath.Join(dir, "dbx.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
	if err := Run(context.Background(), d, Options{RunDir: dir}); !errors.Is(err, ErrNoName) {
		t.Errorf("no name: %v", err)
	}
}

// copyEtc makes a home from the shipped etc/, with an optional edit.
func copyEtc(t *testing.T, edit func(name, text string) string) string {
	t.Helper()
	home := t.TempDir()
	must(t, os.Mkdir(filepath.Join(home, "etc"), 0o755))
	ents, err := os.ReadDir("../../etc")
	must(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("../../etc", e.Name()))
		must(t, err)
		s := string(b)
		if edit != nil {
			s = edit(e.Name(), s)
		}
		must(t, os.WriteFile(filepath.Join(home, "etc", e.Name()), []byte(s), 0o644))
	}
	return home
}

func TestMainExitCodes(t *testing.T) {
	// Bad configuration: refused, said on stderr with file and line, and
	// in the log.
	bad := copyEtc(t, func(name, s string) string {
		if name == "m1.toml" {
			return strings.Replace(s, "window = 64", "window = 0\nwindw = 64", 1)
		}
		return s
	})
	t.Setenv("M1_HOME", bad)
	var stderr bytes.Buffer
	code := mainWith(context.Background(), "dist", &stderr, func(*Env) (Daemon, error) { t.Fatal("built"); return nil, nil })
	if code != ExitConfig || !strings.Contains(stderr.String(), "etc/m1.toml:") || !strings.Contains(stderr.String(), "windw") {
		t.Fatalf("code %d stderr %q", code, stderr.String())
	}
	logs, _ := filepath.Glob(filepath.Join(bad, "log", "dist.*.log"))
	if len(logs) != 1 {
		t.Fatalf("no log of the refusal: %v", logs)
	}
	if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "windw") {
		t.Errorf("log: %s", b)
	}

	// Good configuration: runs until the context ends, reloads on HUP.
	good := copyEtc(t, nil)
	t.Setenv("M1_HOME", good)
	ctx, cancel := context.WithCancel(context.Background())
	d := newFake()
	var env *Env
	done := make(chan int, 1)
	go func() {
		done <- mainWith(ctx, "sender.KT1", &stderr, func(e *Env) (Daemon, error) { env = e; return d, nil })
	}()
	<-d.started
	if env.Name != "sender.KT1" || env.Config.Get().Home != good {
		t.Errorf("env %+v", env)
	}
	// A second instance of the same name is refused with code 3.
	stderr.Reset()
	if code := mainWith(context.Background(), "sender.KT1", &stderr, func(*Env) (Daemon, error) { return newFake(), nil }); code != ExitRunning {
		t.Errorf("second instance: code %d", code)
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("stderr %q", stderr.String())
	}
	// HUP with a debug level for this sender puts the new level in force.
	p := filepath.Join(good, "etc", "m1.toml")
	b, _ := os.ReadFile(p)
	must(t, os.WriteFile(p, []byte(strings.Replace(string(b), `# "sender.KT1" = "debug"`, `"sender.KT1" = "debug"`, 1)), 0o644))
	old := env.Config.Get()
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	deadline := time.Now().Add(10 * time.Second)
	for env.Config.Get() == old && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if env.Config.Get() == old || env.Log.Level().String() != "debug" {
		t.Errorf("reload not in force: level %v", env.Log.Level())
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit code %d", code)
	}
	if logs, _ := filepath.Glob(filepath.Join(good, "log", "sender.KT1.*.log")); len(logs) != 1 {
		t.Errorf("log files %v", logs)
	}
}

// TestCPUProfileOnUSR2: SIGUSR2 writes a CPU profile (gzip, as
// runtime/pprof writes it) into ProfileDir; a second USR2 while one runs is
// ignored; a stop ends a long profile at once and still writes it.
func TestCPUProfileOnUSR2(t *testing.T) {
	for _, tc := range []struct {
		name string
		dur  time.Duration
	}{{"ends by itself", 3 * time.Second}, {"ended by the stop", time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, profDir := t.TempDir(), t.TempDir()
			d := newFake()
			core, logs := observer.New(zap.InfoLevel)
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), d, Options{Name: "dbx", RunDir: dir, Log: zap.New(core),
					ProfileDir: profDir, ProfileFor: tc.dur})
			}()
			<-d.started
			waitLog := func(msg string) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for logs.FilterMessage(msg).Len() == 0 {
					if time.Now().After(deadline) {
						t.Fatalf("no log %q", msg)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			must(t, syscall.Kill(os.Getpid(), syscall.SIGUSR2))
			waitLog("SIGUSR2: CPU profile started")
			must(t, syscall.Kill(os.Getpid(), syscall.SIGUSR2))
			waitLog("SIGUSR2: a CPU profile is already being written; this one is ignored")
			if tc.dur > time.Minute {
				must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
				select {
				case err := <-done:
					must(t, err)
				case <-time.After(10 * time.Second):
					t.Fatal("Run waited for the profile's hour")
				}
			}
			waitLog("SIGUSR2: CPU profile written")
			files, err := filepath.Glob(filepath.Join(profDir, fmt.Sprintf("dbx.%d.*.cpu.pprof", os.Getpid())))
			must(t, err)
			if len(files) != 1 {
				t.Fatalf("profiles %v, want one", files)
			}
			b, err := os.ReadFile(files[0])
			must(t, err)
			if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Fatalf("profile %s is not gzip (%d bytes)", files[0], len(b))
			}
			if tc.dur < time.Minute {
				must(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
				must(t, <-done)
			}
		})
	}
}
