package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/m1gw/m1/gw/store"
)

// finalRows counts T41_LOG rows with STATUS 4 (final).
func finalRows(ctx context.Context, st *store.Store) (int64, error) {
	m, err := st.CountLog(ctx)
	return m['4'], err
}

// drainFinal waits until want messages are final and none awaits a report.
func drainFinal(ctx context.Context, st *store.Store, want int64, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		m, err := st.CountLog(ctx)
		if err == nil && m['4'] >= want && m['3'] == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("after %v: %d of %d accepted messages final, %d awaiting a report (%v)", d, m['4'], want, m['3'], err)
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}

// lgResult is what loadgen's summary says.
type lgResult struct {
	accepted       int64
	intakeRate     float64
	subP50, subP99 string
	repP50, repP99 string
	reports        int64
	summary        string
}

var reportLine = regexp.MustCompile(`SUBMIT->REPORT p50=([0-9.]+)ms p99=([0-9.]+)ms \((\d+) reports\)`)

func parseLoadgen(path string) (*lgResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r lgResult
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 9 && f[0] == "lsnr" {
			r.accepted, _ = strconv.ParseInt(f[2], 10, 64)
			r.intakeRate, _ = strconv.ParseFloat(f[3], 64)
			r.subP50, r.subP99 = f[4], f[5]
			found = true
			r.summary = strings.Join(f[1:], " ")
		}
		if len(f) > 2 && f[0] == "lsnr" && f[1] == "results:" {
			r.summary += "; " + strings.Join(f[1:], " ")
		}
		if m := reportLine.FindStringSubmatch(line); m != nil {
			r.repP50, r.repP99 = m[1], m[2]
			r.reports, _ = strconv.ParseInt(m[3], 10, 64)
		}
	}
	if !found || r.repP50 == "" {
		return nil, fmt.Errorf("loadgen's summary not understood: %s", tail(path))
	}
	r.summary = "sent accepted rate/s p50ms p99ms maxms reports repeated: " + r.summary
	return &r, nil
}

// proc is one process of the run, for its CPU time.
type proc struct {
	name string
	pid  int
}

// procs lists the suite's processes (by their pid files), carriersim and loadgen.
func (r *runner) procs() ([]proc, error) {
	files, err := filepath.Glob(filepath.Join(r.home, "var", "run", "*.pid"))
	if err != nil {
		return nil, err
	}
	var ps []proc
	for _, f := range files {
		if pid := readPid(f); pid > 0 {
			ps = append(ps, proc{strings.TrimSuffix(filepath.Base(f), ".pid"), pid})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
	if len(ps) == 0 {
		return nil, fmt.Errorf("no pid files in %s/var/run", r.home)
	}
	ps = append(ps, proc{"carriersim", r.sim.Process.Pid}, proc{"loadgen", r.lg.Process.Pid})
	return ps, nil
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// cpuHost names the whole host's busy time in cpuTimes: what the run's
// processes did not use of it went to other work on the machine (the
// PostgreSQL server's backends, which cannot be told from other users',
// among it).
const cpuHost = "host, all processes"

// cpuTimes reads each process's user+system CPU seconds and the whole
// host's busy time.
func cpuTimes(ps []proc) map[string]float64 {
	const hz = 100 // USER_HZ, the unit of /proc's times on Linux
	m := map[string]float64{}
	for _, p := range ps {
		m[p.name] = statTicks(p.pid) / hz
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) // cpu user nice system idle iowait irq softirq steal
		var busy float64
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			busy += n
		}
		m[cpuHost] = busy / hz
	}
	return m
}

// statTicks is utime+stime of a process, in ticks.
func statTicks(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): utime is field 14
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return u + k
}

func printCPU(w io.Writer, ps []proc, a, b map[string]float64, msgs int64) {
	names := make([]string, 0, len(ps)+2)
	for _, p := range ps {
		names = append(names, p.name)
	}
	names = append(names, cpuHost)
	var ours float64
	for _, n := range names {
		d := b[n] - a[n]
		if n != cpuHost {
			ours += d
		}
		per := 0.0
		if msgs > 0 {
			per = d / float64(msgs) * 1000
		}
		fmt.Fprintf(w, "  %-38s %8.1f s  %7.3f s/1000 msgs\n", n, d, per)
	}
	fmt.Fprintf(w, "  %-38s %8.1f s\n", "M1, carriersim and loadgen together", ours)
}

func numCPU() int { return runtime.NumCPU() }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// sysvLeft counts shared-memory segments and semaphore sets with the
// run's key prefix.
func sysvLeft() int {
	n := 0
	for _, f := range []string{"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) == 0 {
				continue
			}
			k, err := strconv.ParseInt(fs[0], 10, 64)
			if err != nil {
				continue
			}
			if strings.HasPrefix(fmt.Sprintf("0x%08x", uint32(k)), keyPrefix) {
				n++
			}
		}
		fh.Close()
	}
	return n
}

func waitDial(ctx context.Context, addr string, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return err
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return path + ":\n" + string(b)
}

// startPerf records every process of the run with perf for perfSecs.
func (r *runner) startPerf(ps []proc) (*exec.Cmd, error) {
	if err := os.MkdirAll(r.o.perfDir, 0o755); err != nil {
		return nil, err
	}
	pids := make([]string, len(ps))
	for i, p := range ps {
		pids[i] = strconv.Itoa(p.pid)
	}
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", strings.Join(pids, ","),
		"-o", filepath.Join(r.o.perfDir, "perf.data"), "--", "sleep", strconv.Itoa(r.o.perfSecs))
	out, err := os.Create(filepath.Join(r.o.perfDir, "perf-record.out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("perf: %w", err)
	}
	r.say("perf recording %d processes for %ds into %s", len(ps), r.o.perfSecs, r.o.perfDir)
	return cmd, nil
}

// finishPerf waits for perf record and writes the reports: by process, and
// the hottest functions of each.
func (r *runner) finishPerf(cmd *exec.Cmd) error {
	if err := cmd.Wait(); err != nil {
		return err
	}
	data := filepath.Join(r.o.perfDir, "perf.data")
	for _, rep := range []struct{ file, sort, limit string }{{"perf-comm.txt", "comm", "0.1"}, {"perf.txt", "comm,dso,sym", "0"}} {
		out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
			"--sort", rep.sort, "--percent-limit", rep.limit).Output()
		if err != nil {
			return fmt.Errorf("perf report: %w", err)
		}
		if err := os.WriteFile(filepath.Join(r.o.perfDir, rep.file), out, 0o644); err != nil {
			return err
		}
		if rep.file == "perf.txt" {
			pk := byPackage(out)
			if err := os.WriteFile(filepath.Join(r.o.perfDir, "perf-pkg.txt"), []byte(pk), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "perf, self time by process and package (%ds):\n%s", r.o.perfSecs, pk)
		}
	}
	r.say("perf reports in %s (perf-comm.txt, perf.txt, perf-pkg.txt)", r.o.perfDir)
	return nil
}

// byPackage sums perf's self time per process and Go package (kernel,
// runtime, sqlite, gw/dbx, ...), from `perf report --sort comm,dso,sym`.
func byPackage(report []byte) string {
	type key struct{ comm, pkg string }
	sum := map[key]float64{}
	for _, line := range strings.Split(string(report), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasSuffix(f[0], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil {
			continue
		}
		pkg := "kernel"
		if f[3] != "[k]" {
			pkg = goPackage(strings.Join(f[4:], " "))
		}
		sum[key{f[1], pkg}] += pct
	}
	keys := make([]key, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return sum[keys[i]] > sum[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		if sum[k] >= 0.2 {
			fmt.Fprintf(&b, "%6.2f%%  %-12s %s\n", sum[k], k.comm, k.pkg)
		}
	}
	return b.String()
}

// goPackage is the package of a Go symbol, shortened for M1's own.
func goPackage(sym string) string {
	sym = strings.TrimPrefix(sym, "github.com/m1gw/m1/")
	slash := strings.LastIndexByte(sym, '/')
	if dot := strings.IndexByte(sym[slash+1:], '.'); dot >= 0 {
		sym = sym[:slash+1+dot]
	}
	switch {
	case strings.HasPrefix(sym, "modernc.org/"):
		return "modernc.org (SQLite in Go)"
	case strings.HasPrefix(sym, "internal/runtime") || strings.HasPrefix(sym, "runtime"):
		return "runtime (GC, scheduler, maps, syscalls)"
	}
	return sym
}

// acceptedSoFar is the accepted count of loadgen's last progress line
// ("lsnr   12s sent=N accepted=N rate=N/s reports=N").
func acceptedSoFar(path string) int64 {
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		for _, f := range strings.Fields(lines[i]) {
			if v, ok := strings.CutPrefix(f, "accepted="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	return 0
}
