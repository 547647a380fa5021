package logging

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestFileNameAndJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log") // created by New
	clk := &fakeClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.Local)}
	l, err := New(Options{Dir: dir, Process: "dist", Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("started")
	l.Debug("not at info")
	want := filepath.Join(dir, "dist.20261121.log")
	if l.Path() != want {
		t.Fatalf("path %q, want %q", l.Path(), want)
	}
	lines := readLines(t, want)
	if len(lines) != 1 {
		t.Fatalf("lines %q", lines)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("not JSON: %q", lines[0])
	}
	if m["msg"] != "started" || m["proc"] != "dist" || m["level"] != "info" {
		t.Errorf("entry %v", m)
	}
}

func (l *Logger) infoLine(msg string) { l.Logger.Info(msg) }

func TestDayRollover(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 21, 23, 59, 59, 0, time.Local)}
	l, err := New(Options{Dir: dir, Process: "sender.KT1", Format: "console", Level: "debug", Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.infoLine("before midnight")
	l.Debug("debug shown")
	clk.set(time.Date(2026, 11, 22, 0, 0, 0, 0, time.Local))
	l.infoLine("after midnight")
	clk.set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local))
	l.infoLine("days later")

	a := readLines(t, filepath.Join(dir, "sender.KT1.20261121.log"))
	b := readLines(t, filepath.Join(dir, "sender.KT1.20261122.log"))
	c := readLines(t, filepath.Join(dir, "sender.KT1.20261201.log"))
	if len(a) != 2 || !strings.Contains(a[0], "before midnight") || !strings.Contains(a[0], "INFO") {
		t.Errorf("first day %q", a)
	}
	if len(b) != 1 || !strings.Contains(b[0], "after midnight") {
		t.Errorf("second day %q", b)
	}
	if len(c) != 1 || !strings.Contains(c[0], "days later") {
		t.Errorf("later day %q", c)
	}
}

func TestReopenAfterMove(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.Local)}
	l, err := New(Options{Dir: dir, Process: "dbx", Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := filepath.Join(dir, "dbx.20261121.log")
	l.Info("one")
	moved := p + ".1"
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	l.Info("two") // still into the moved file, as with any open file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("three")
	if got := readLines(t, moved); len(got) != 2 {
		t.Errorf("moved file %q", got)
	}
	got := readLines(t, p)
	if len(got) != 1 || !strings.Contains(got[0], `"three"`) {
		t.Errorf("reopened file %q", got)
	}
	// The directory itself removed: the next write recreates nothing (the
	// process must not die), a Reopen brings logging back.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("four")
	if got := readLines(t, p); len(got) != 1 || !strings.Contains(got[0], `"four"`) {
		t.Errorf("after directory removed: %q", got)
	}
}

func TestSetLevelAndErrors(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Options{Dir: dir, Process: "sch", Level: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("hidden")
	if err := l.SetLevel("debug"); err != nil {
		t.Fatal(err)
	}
	l.Debug("shown")
	sc := bufio.NewScanner(strings.NewReader(strings.Join(readLines(t, l.Path()), "\n")))
	n := 0
	for sc.Scan() {
		n++
		if strings.Contains(sc.Text(), "hidden") {
			t.Error("info logged at warn")
		}
	}
	if n != 1 {
		t.Errorf("%d lines", n)
	}
	if _, err := New(Options{Dir: dir, Process: "x", Format: "xml"}); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := New(Options{Dir: dir, Process: "x", Level: "loud"}); err == nil {
		t.Error("level loud accepted")
	}
}

// TestConcurrentWrites crosses midnight while goroutines log: every entry
// lands whole in one of the two files.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 21, 23, 0, 0, 0, time.Local)}
	l, err := New(Options{Dir: dir, Process: "eai_lsnr", Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if g == 0 && i == 250 {
					clk.set(time.Date(2026, 11, 22, 0, 0, 1, 0, time.Local))
				}
				l.Info("entry")
			}
		}()
	}
	wg.Wait()
	a := readLines(t, filepath.Join(dir, "eai_lsnr.20261121.log"))
	b := readLines(t, filepath.Join(dir, "eai_lsnr.20261122.log"))
	if len(a)+len(b) != 2000 || len(b) == 0 {
		t.Fatalf("%d + %d lines", len(a), len(b))
	}
	for _, s := range append(a, b...) {
		if !json.Valid([]byte(s)) {
			t.Fatalf("torn entry %q", s)
		}
	}
}
