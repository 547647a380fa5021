package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// pprofFor is how long a daemon's CPU profile runs after SIGUSR2
// (gw/daemon.DefaultProfileFor).
const pprofFor = 30 * time.Second

// startPprof asks every M1 daemon for a CPU profile (SIGUSR2: gw/daemon
// writes 30 s of runtime/pprof into the home's log directory). carriersim
// and loadgen are not M1 and are left out.
func (r *runner) startPprof(ps []proc) (time.Time, error) {
	if err := os.MkdirAll(r.o.pprofDir, 0o755); err != nil {
		return time.Time{}, err
	}
	n := 0
	for _, p := range ps {
		if p.name == "carriersim" || p.name == "loadgen" {
			continue
		}
		if err := syscall.Kill(p.pid, syscall.SIGUSR2); err != nil {
			return time.Time{}, fmt.Errorf("SIGUSR2 to %s (%d): %w", p.name, p.pid, err)
		}
		n++
	}
	r.say("pprof: %d daemons asked for %v of CPU profile (SIGUSR2)", n, pprofFor)
	return time.Now(), nil
}

// finishPprof waits for the profiles, copies them to --pprof DIR and
// writes `go tool pprof -top` of each beside it (NAME.top.txt).
func (r *runner) finishPprof(ctx context.Context, started time.Time) error {
	if left := time.Until(started.Add(pprofFor + 2*time.Second)); left > 0 {
		r.say("pprof: waiting %v for the profiles to be written", left.Round(time.Second))
		if err := sleepCtx(ctx, left); err != nil {
			return err
		}
	}
	files, err := filepath.Glob(filepath.Join(r.home, "log", "*.cpu.pprof"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no profile in %s/log", r.home)
	}
	for _, f := range files {
		base := filepath.Base(f)
		name := strings.SplitN(base, ".", 2)[0] // dbx, eai_lsnr, sender (sender.KT1.PID...)
		if strings.HasPrefix(base, "sender.") {
			name = strings.Join(strings.SplitN(base, ".", 3)[:2], ".")
		}
		dst := filepath.Join(r.o.pprofDir, base)
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		bin := filepath.Join(r.o.bin, strings.SplitN(name, ".", 2)[0])
		out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=40", bin, dst).CombinedOutput()
		if err != nil {
			r.say("pprof: %s: %v", base, err)
		}
		if err := os.WriteFile(filepath.Join(r.o.pprofDir, name+".top.txt"), out, 0o644); err != nil {
			return err
		}
	}
	r.say("pprof: %d profiles and their top lists in %s", len(files), r.o.pprofDir)
	return nil
}
