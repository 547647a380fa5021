package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// runner owns what a run starts, so that cleanup can stop all of it.
type runner struct {
	o       options
	out     io.Writer
	home    string
	schema  string
	sim     *exec.Cmd
	lg      *exec.Cmd
	started bool // m1start was run
}

// result is what the run measured.
type result struct {
	rate     float64 // final T41_LOG rows a second over the window
	p50, p99 string  // SUBMIT→REPORT, ms
}

func (r *runner) env() []string {
	env := append(os.Environ(), "M1_HOME="+r.home, "M1_BIN="+r.o.bin)
	if r.o.maxProcs > 0 {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", r.o.maxProcs))
	}
	return env
}

func (r *runner) say(format string, a ...any) {
	fmt.Fprintf(r.out, "%s e2ebench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (r *runner) run(ctx context.Context) (*result, error) {
	for _, b := range []string{"eai_lsnr", "sch", "tkm_files", "dist", "sender", "dbx", "ipcq", "carriersim", "loadgen"} {
		if _, err := os.Stat(filepath.Join(r.o.bin, b)); err != nil {
			return nil, fmt.Errorf("%s: run make build first", err)
		}
	}
	if left := sysvLeft(); left > 0 {
		return nil, fmt.Errorf("%d SysV objects with keys %s... exist already: another e2ebench runs, or one was killed (ipcs; ipcrm)", left, keyPrefix)
	}
	if err := r.makeHome(ctx); err != nil {
		return nil, err
	}
	r.say("home %s, database %s, load average %s", r.home, r.o.db, loadavg())

	// The carrier simulator, with no TPS ceiling, no ack latency, no drops.
	args := []string{"--control", controlAddr, "--every", "0"}
	for _, k := range []string{"kt1", "kt2", "skt1", "skt2", "lg"} {
		args = append(args, "--"+k, carrierAddrs[k])
	}
	simOut, err := os.Create(filepath.Join(r.home, "log", "carriersim.out"))
	if err != nil {
		return nil, err
	}
	defer simOut.Close()
	r.sim = exec.Command(filepath.Join(r.o.bin, "carriersim"), args...)
	r.sim.Stdout, r.sim.Stderr = simOut, simOut
	r.sim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.sim.Start(); err != nil {
		return nil, err
	}
	if err := waitDial(ctx, controlAddr, 10*time.Second); err != nil {
		return nil, fmt.Errorf("carriersim: %w", err)
	}

	r.started = true
	if err := r.script(ctx, "m1start"); err != nil {
		return nil, err
	}
	cfg, err := config.Load(r.home)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN})
	if err != nil {
		return nil, err
	}
	defer st.Close()

	// The load.
	lgOut := filepath.Join(r.home, "log", "loadgen.out")
	f, err := os.Create(lgOut)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r.lg = exec.Command(filepath.Join(r.o.bin, "loadgen"), "--addr", lsnrAddr, "--id", "DEMO01", "--password", "demo01",
		"-c", fmt.Sprint(r.o.conns), "--window", fmt.Sprint(r.o.window), "-n", fmt.Sprint(r.o.max),
		"--lms", fmt.Sprint(r.o.lms), "--report-wait", r.o.drain.String()) // progress lines: the intake over the window
	r.lg.Stdout, r.lg.Stderr = f, f
	r.lg.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	lgDone := make(chan error, 1)
	t0 := time.Now()
	if err := r.lg.Start(); err != nil {
		return nil, err
	}
	go func() { lgDone <- r.lg.Wait() }()
	r.say("loadgen: %d connections, window %d, %v warmup then %v measured", r.o.conns, r.o.window, r.o.warmup, r.o.duration)

	procs, err := r.procs()
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, r.o.warmup); err != nil {
		return nil, err
	}
	c0, err := finalRows(ctx, st)
	if err != nil {
		return nil, err
	}
	w0, cpu0, a0 := time.Now(), cpuTimes(procs), acceptedSoFar(lgOut)
	la0 := loadavg()
	r.say("window starts: %d final rows, load average %s", c0, la0)
	var pprofAt time.Time
	if r.o.pprofDir != "" {
		if pprofAt, err = r.startPprof(procs); err != nil {
			return nil, err
		}
	}
	var perf *exec.Cmd
	if r.o.perfDir != "" {
		if perf, err = r.startPerf(procs); err != nil {
			return nil, err
		}
	}
	for tick := 10 * time.Second; time.Since(w0) < r.o.duration; {
		wait := min(tick, r.o.duration-time.Since(w0))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-lgDone:
			return nil, fmt.Errorf("loadgen ended within the window (raise --max?): %v; %s", err, tail(lgOut))
		case <-time.After(wait):
		}
		if c, err := finalRows(ctx, st); err == nil {
			r.say("%4.0fs: %d final rows, %.0f/s so far, load average %s", time.Since(w0).Seconds(), c, float64(c-c0)/time.Since(w0).Seconds(), loadavg())
		}
	}
	c1, err := finalRows(ctx, st)
	if err != nil {
		return nil, err
	}
	w1, cpu1, a1 := time.Now(), cpuTimes(procs), acceptedSoFar(lgOut)
	rate := float64(c1-c0) / w1.Sub(w0).Seconds()
	intake := float64(a1-a0) / w1.Sub(w0).Seconds()
	// Sustained: the final rows keep up with the intake; otherwise a backlog
	// grows in the queues and the figure is what the suite finishes while
	// overloaded (lower than what it can sustain: intake takes the CPU).
	sustained := "yes"
	if rate < 0.95*intake {
		sustained = fmt.Sprintf("no: the backlog grew by %d messages", (a1-a0)-(c1-c0))
	}
	la := loadavg()
	r.say("window ends: %d final rows: %.0f messages/s over %.1fs; intake %.0f/s; sustained %s; load average %s", c1, rate, w1.Sub(w0).Seconds(), intake, sustained, la)
	// The queues in front of the slowest stage fill: their depths say which it is.
	ls := exec.Command(filepath.Join(r.o.bin, "ipcq"), "ls")
	ls.Env = r.env()
	if out, err := ls.CombinedOutput(); err == nil {
		fmt.Fprintf(r.out, "queues at the end of the window (ipcq ls):\n%s", out)
	}
	if perf != nil {
		if err := r.finishPerf(perf); err != nil {
			r.say("perf: %v", err)
		}
	}
	if !pprofAt.IsZero() {
		if err := r.finishPprof(ctx, pprofAt); err != nil {
			r.say("pprof: %v", err)
		}
	}
	_ = r.lg.Process.Signal(syscall.SIGTERM)
	r.say("loadgen stopped at %.0fs; waiting for every REPORT and final row (at most %v)", time.Since(t0).Seconds(), r.o.drain)
	select {
	case err := <-lgDone:
		r.lg = nil
		if err != nil {
			return nil, fmt.Errorf("loadgen: %v; %s", err, tail(lgOut))
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	lgRes, err := parseLoadgen(lgOut)
	if err != nil {
		return nil, err
	}
	drainErr := drainFinal(ctx, st, lgRes.accepted, r.o.drain)
	total := time.Since(t0)
	fin, _ := finalRows(ctx, st)

	fmt.Fprintf(r.out, "\nper process, CPU seconds over the %.0fs window (of %d cores), and per 1,000 final messages:\n", w1.Sub(w0).Seconds(), numCPU())
	printCPU(r.out, procs, cpu0, cpu1, c1-c0)
	if s, err := sim.ControlStats(controlAddr); err == nil {
		fmt.Fprintf(r.out, "carriersim: received=%d unique=%d dup_submits=%d reports_sent=%d max_unanswered=%d\n",
			s.Received, s.Unique, s.DupSubmits, s.ReportsSent, s.MaxUnanswered)
	}
	fmt.Fprintf(r.out, "loadgen: %s\n", lgRes.summary)
	fmt.Fprintf(r.out, "e2ebench: sustained=%s\n", sustained)
	fmt.Fprintf(r.out, "e2ebench: db=%s window=%.0fs final_rate=%.0f window_intake=%.0f intake_rate=%.0f accepted=%d final=%d total_elapsed=%.0fs overall_rate=%.0f submit_p50=%s submit_p99=%s report_p50=%s report_p99=%s reports=%d load_start=%s load_end=%s\n",
		r.o.db, w1.Sub(w0).Seconds(), rate, intake, lgRes.intakeRate, lgRes.accepted, fin, total.Seconds(), float64(fin)/total.Seconds(),
		lgRes.subP50, lgRes.subP99, lgRes.repP50, lgRes.repP99, lgRes.reports, strings.Fields(la0)[0], strings.Fields(la)[0])
	if drainErr != nil {
		return nil, drainErr
	}
	return &result{rate: rate, p50: lgRes.repP50, p99: lgRes.repP99}, nil
}

// script runs scripts/NAME with the run's home.
func (r *runner) script(ctx context.Context, name string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(r.o.root, "scripts", name))
	cmd.Env = r.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v:\n%s", name, err, out)
	}
	return nil
}

// cleanup stops everything the run started and removes what it made; it
// goes on after an error, returning the first.
func (r *runner) cleanup() error {
	var errs []error
	if r.lg != nil && r.lg.Process != nil {
		_ = syscall.Kill(-r.lg.Process.Pid, syscall.SIGKILL)
		_ = r.lg.Wait()
	}
	if r.started {
		// A fresh context: the run's may be cancelled by the interrupt.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		if err := r.script(ctx, "m1stop"); err != nil {
			errs = append(errs, err)
			r.killLeft()
		}
		cancel()
	}
	if r.sim != nil && r.sim.Process != nil {
		_ = syscall.Kill(-r.sim.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = r.sim.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-r.sim.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if r.started {
		cmd := exec.Command(filepath.Join(r.o.bin, "ipcq"), "rm", "--all", "--yes")
		cmd.Env = r.env()
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ipcq rm --all: %v: %s", err, out))
		}
		if n := sysvLeft(); n > 0 {
			errs = append(errs, fmt.Errorf("%d SysV objects with keys %s... left behind", n, keyPrefix))
		}
	}
	if err := r.dropSchema(); err != nil {
		errs = append(errs, err)
	}
	if r.home != "" {
		if r.o.keep {
			fmt.Fprintf(r.out, "e2ebench: home kept: %s\n", r.home)
		} else if err := os.RemoveAll(r.home); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killLeft kills, by the pid files, the processes m1stop could not stop.
func (r *runner) killLeft() {
	ents, _ := filepath.Glob(filepath.Join(r.home, "var", "run", "*.pid"))
	for _, p := range ents {
		if pid := readPid(p); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
