package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m1gw/m1/internal/testhome"
)

// TestOperatorScripts runs m1start, m1status, m1check and m1stop as cron
// runs them (env -i PATH=/usr/bin:/bin), and the signals operators use.
func TestOperatorScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("operator scripts")
	}
	s := newSuite(t, suiteOptions{})
	s.startSim()
	out := s.mustScript("m1start")
	for _, p := range []string{"dbx", "sender.KT1", "sender.LG", "dist", "sch", "tkm_files", "eai_lsnr"} {
		if !strings.Contains(out, p+" running") {
			t.Errorf("m1start did not report %s running:\n%s", p, out)
		}
	}
	if out := s.mustScript("m1status"); !strings.Contains(out, "all processes running") || !strings.Contains(out, "DIST.R") {
		t.Errorf("m1status:\n%s", out)
	}
	// m1start again leaves running processes alone.
	pids := s.pids()
	s.mustScript("m1start")
	if s.pids()["dist"] != pids["dist"] {
		t.Error("a second m1start restarted a running dist")
	}

	// A second instance of the same name refuses to start, exit 3.
	cmd := exec.Command(filepath.Join(s.bin, "dist"))
	cmd.Env = s.env()
	second, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(string(second), "already running") {
		t.Errorf("second dist: %v\n%s", err, second)
	}

	// SIGHUP with a broken routes.toml: refused, the old one stays.
	routes := filepath.Join(s.home, "etc", "routes.toml")
	good, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(routes, append(append([]byte{}, good...), []byte("\n[[route]]\nsenders = \"KT9=1\"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pids["dist"], syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !s.waitLog("dist", "routes.toml", 5*time.Second) {
		t.Errorf("dist did not log the refused routes.toml\n%s", s.logTails())
	}
	if err := os.WriteFile(routes, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := s.script("m1status"); code != 0 {
		t.Errorf("after a refused reload: m1status %d\n%s", code, out)
	}
	s.mustTool("m1db", "t41", "-n", "20", "--prefix", "HUP-")
	if out := s.waitFinal(20, 60*time.Second); out != "" {
		t.Errorf("messages after the refused reload: %s", out)
	}

	// SIGUSR1 reopens the log file: move it away, and a new one appears.
	logs, _ := filepath.Glob(filepath.Join(s.home, "log", "sch.*.log"))
	if len(logs) != 1 {
		t.Fatalf("sch log files: %v", logs)
	}
	if err := os.Rename(logs[0], logs[0]+".1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.pids()["sch"], syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(logs[0]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("sch did not reopen %s after SIGUSR1", logs[0])
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A killed process: m1status says so (exit 1), m1check brings it back.
	if err := syscall.Kill(s.pids()["dist"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if code, out := s.script("m1status"); code != 1 || !strings.Contains(out, "dist") {
		t.Errorf("m1status with dist dead: %d\n%s", code, out)
	}
	s.mustScript("m1check")
	if np := s.pids()["dist"]; np == 0 || np == pids["dist"] {
		t.Errorf("m1check did not restart dist (pid %d, was %d)", np, pids["dist"])
	}
	if b, err := os.ReadFile(filepath.Join(s.home, "log", "m1check.log")); err != nil || !strings.Contains(string(b), "dist dead: restarting") {
		t.Errorf("m1check.log: %s %v", b, err)
	}

	// m1stop stops everything; m1check then leaves it stopped.
	out = s.mustScript("m1stop")
	if !strings.Contains(out, "M1 stopped") {
		t.Errorf("m1stop:\n%s", out)
	}
	if left := s.pids(); len(left) > 0 {
		t.Errorf("processes after m1stop: %v", left)
	}
	s.mustScript("m1check")
	if left := s.pids(); len(left) > 0 {
		t.Errorf("m1check started processes after m1stop: %v", left)
	}
}

// waitLog waits until a line containing want is in process's log.
func (s *suite) waitLog(process, want string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(s.home, "log", process+".*.log"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), want) {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// waitFinal waits until n messages are final; it returns m1db's output on
// failure.
func (s *suite) waitFinal(n int, d time.Duration) string {
	out, err := s.tool("m1db", "wait", "--final", itoa(n), "--timeout", d.String())
	if err != nil {
		return out
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestScriptsFollowPaths: with [paths] run and log moved in etc/m1.toml,
// the scripts put the stop mark and m1check's lock where the daemons put
// their pid files, and a broken etc/ still lets m1stop run (it warns and
// takes the shipped directories).
func TestScriptsFollowPaths(t *testing.T) {
	home := testhome.New(t, func(name, text string) string {
		if name != "m1.toml" {
			return text
		}
		text = strings.Replace(text, `run   = "var/run"`, `run   = "state/pids"`, 1)
		return strings.Replace(text, `log   = "log"`, `log   = "logs"`, 1)
	})
	s := &suite{t: t, bin: binaries(t), home: home}
	if code, out := s.script("m1stop"); code != 0 {
		t.Fatalf("m1stop: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(home, "state", "pids", "m1.stopped")); err != nil {
		t.Errorf("m1stop did not mark the stop in paths.run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "logs")); err != nil {
		t.Errorf("paths.log not made: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "var", "run")); err == nil {
		t.Error("the scripts made var/run although paths.run moved it")
	}
	m1toml := filepath.Join(home, "etc", "m1.toml")
	b, err := os.ReadFile(m1toml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m1toml, append(b, []byte("\nbroken = = 1\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := s.script("m1stop")
	if !strings.Contains(out, "etc/ unreadable") {
		t.Errorf("m1stop with a broken etc/: exit %d, no warning:\n%s", code, out)
	}
}
