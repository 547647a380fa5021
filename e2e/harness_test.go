package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// TestMain removes the binaries built for the run: they are a build of
// every command (about 250 MB), one directory per run, left in /tmp
// otherwise.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds every command and tool once per test run.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "m1e2e-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/...", "./tools/...")
		cmd.Dir = repoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// freePorts returns n TCP ports on 127.0.0.1 that nothing listens on now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// suite is one M1 installation under test.
type suite struct {
	t        *testing.T
	bin      string
	home     string
	cfg      *config.Config
	dsn      string
	lsnr     string // shared port address
	bank     string // dedicated port address
	simAddrs map[string]string
	control  string
	sim      *exec.Cmd
	simLog   *os.File
}

type suiteOptions struct {
	DSN           string // "" = SQLite under the home
	ReportTimeout string // timeouts.report
}

func newSuite(t *testing.T, o suiteOptions) *suite {
	t.Helper()
	bin := binaries(t)
	p := freePorts(t, 8)
	s := &suite{t: t, bin: bin, lsnr: fmt.Sprintf("127.0.0.1:%d", p[0]), bank: fmt.Sprintf("127.0.0.1:%d", p[1]),
		control: fmt.Sprintf("127.0.0.1:%d", p[7])}
	s.simAddrs = map[string]string{
		"17001": fmt.Sprintf("127.0.0.1:%d", p[2]), "17002": fmt.Sprintf("127.0.0.1:%d", p[3]),
		"17101": fmt.Sprintf("127.0.0.1:%d", p[4]), "17102": fmt.Sprintf("127.0.0.1:%d", p[5]),
		"17201": fmt.Sprintf("127.0.0.1:%d", p[6]),
	}
	report := o.ReportTimeout
	if report == "" {
		report = "20s"
	}
	s.home = testhome.New(t, func(name, text string) string {
		switch name {
		case "m1.toml":
			text = strings.Replace(text, `listen = ":9001"`, fmt.Sprintf(`listen = "127.0.0.1:%d"`, p[0]), 1)
			text = strings.Replace(text, `listen = ":9002"`, fmt.Sprintf(`listen = "127.0.0.1:%d"`, p[1]), 1)
			for old, nw := range s.simAddrs {
				text = strings.ReplaceAll(text, "127.0.0.1:"+old, nw)
			}
			text = regexp.MustCompile(`(?m)^report(\s*)= "72h"`).ReplaceAllString(text, `report$1= "`+report+`"`)
			text = strings.Replace(text, `sweep_interval = "1m"`, `sweep_interval = "2s"`, 1)
			if o.DSN != "" {
				text = regexp.MustCompile(`(?m)^dsn(\s*)= ".*"`).ReplaceAllString(text, `dsn$1= "`+o.DSN+`"`)
			}
		case "dedicated.conf":
			text = strings.Replace(text, "9002", strconv.Itoa(p[1]), 1)
		case "clients.toml":
			text = regexp.MustCompile(`(?m)^tps = \d+`).ReplaceAllString(text, "tps = 1000000")
		}
		return text
	})
	cfg, err := config.Load(s.home)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg, s.dsn = cfg, cfg.Database.DSN
	if o.DSN != "" && cfg.Database.DSN != o.DSN {
		t.Fatalf("database DSN not set in the test home: %s", cfg.Database.DSN)
	}
	t.Cleanup(s.teardown)
	return s
}

// env is cron's environment: no HOME, no terminal, PATH=/usr/bin:/bin.
func (s *suite) env() []string {
	return []string{"PATH=/usr/bin:/bin", "M1_HOME=" + s.home, "M1_BIN=" + s.bin, "M1_START_WAIT=30s"}
}

// script runs scripts/NAME under cron's environment and returns its exit
// code and output.
func (s *suite) script(name string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", name))
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			s.t.Fatalf("%s: %v", name, err)
		}
		code = ee.ExitCode()
	}
	return code, string(out)
}

func (s *suite) mustScript(name string) string {
	s.t.Helper()
	code, out := s.script(name)
	if code != 0 {
		s.t.Fatalf("%s: exit %d\n%s\n%s", name, code, out, s.logTails())
	}
	return out
}

// tool runs one of the built tools with the suite's home.
func (s *suite) tool(name string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), "M1_HOME="+s.home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *suite) mustTool(name string, args ...string) string {
	s.t.Helper()
	out, err := s.tool(name, args...)
	if err != nil {
		s.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// startSim starts the carrier simulator on the suite's ports.
func (s *suite) startSim(extra ...string) {
	s.t.Helper()
	args := []string{"--kt1", s.simAddrs["17001"], "--kt2", s.simAddrs["17002"], "--skt1", s.simAddrs["17101"],
		"--skt2", s.simAddrs["17102"], "--lg", s.simAddrs["17201"], "--control", s.control, "--every", "0"}
	args = append(args, extra...)
	f, err := os.Create(filepath.Join(s.home, "carriersim.out"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.simLog = f
	s.sim = exec.Command(filepath.Join(s.bin, "carriersim"), args...)
	s.sim.Stdout, s.sim.Stderr = f, f
	if err := s.sim.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := sim.ControlStats(s.control); err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatal("carriersim did not answer on its control port")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *suite) simStats() sim.Stats {
	s.t.Helper()
	st, err := sim.ControlStats(s.control)
	if err != nil {
		s.t.Fatalf("carriersim stats: %v", err)
	}
	return st
}

// pids returns the pids of the suite's processes from their pid files.
func (s *suite) pids() map[string]int {
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(s.home, "var", "run", "*.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || !ipc.Alive(pid, 0) {
			continue
		}
		out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	return out
}

// teardown stops everything the suite started and checks that nothing is
// left: no process, no SysV object under the home's keys.
func (s *suite) teardown() {
	t := s.t
	s.script("m1stop")
	for name, pid := range s.pids() {
		t.Errorf("%s (pid %d) still running after m1stop: killed", name, pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if s.sim != nil && s.sim.Process != nil {
		_ = s.sim.Process.Signal(syscall.SIGTERM)
		_ = s.sim.Wait()
		s.simLog.Close()
	}
	if out, err := s.tool("ipcq", "rm", "--all", "--yes", "--force"); err != nil {
		t.Errorf("ipcq rm --all: %v\n%s", err, out)
	}
	prefix := fmt.Sprintf("0x%08x", s.cfg.ProcTab.Key.Value)[:6]
	out, _ := exec.Command("ipcs", "-m", "-s").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, prefix) {
			t.Errorf("SysV object left behind: %s", l)
		}
	}
	if t.Failed() || os.Getenv("E2E_KEEP") != "" {
		t.Logf("home: %s\n%s", s.home, s.logTails())
	}
}

// logTails returns the last lines of every process's log, for failures.
func (s *suite) logTails() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(s.home, "log", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(f), strings.Join(lines[max(0, len(lines)-8):], "\n"))
	}
	return b.String()
}

// store opens the suite's database.
func (s *suite) store() *store.Store {
	s.t.Helper()
	st, err := store.Open(store.Options{DSN: s.dsn})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}

// loadResult is what a loadgen run reported.
type loadResult struct {
	accepted int
	reports  int
	repeated int
	out      string
}

var (
	reAccepted = regexp.MustCompile(`0000=(\d+)`)
	reRow      = regexp.MustCompile(`(?m)^lsnr\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\d+)`)
)

// load runs loadgen against addr as client id and parses its summary.
func (s *suite) load(ctx context.Context, addr, id, password, callback string, args ...string) (loadResult, error) {
	all := append([]string{"--addr", addr, "--id", id, "--password", password, "--callback", callback, "-q"}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "loadgen"), all...)
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	r := loadResult{out: out}
	if err != nil {
		return r, fmt.Errorf("loadgen: %v\n%s", err, out)
	}
	if m := reAccepted.FindStringSubmatch(out); m != nil {
		r.accepted, _ = strconv.Atoi(m[1])
	}
	if m := reRow.FindStringSubmatch(out); m != nil {
		r.reports, _ = strconv.Atoi(m[3])
		r.repeated, _ = strconv.Atoi(m[4])
	}
	return r, nil
}

func randomPrefix() string { return fmt.Sprintf("E%04d-", rand.IntN(10000)) }
