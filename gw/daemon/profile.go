package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultProfileFor is how long a CPU profile asked for with SIGUSR2 runs.
const DefaultProfileFor = 30 * time.Second

// cpuProfiler writes a CPU profile (runtime/pprof) of the running process
// when an operator sends SIGUSR2: the daemons serve no HTTP, and a
// profile of the production process under its real load is what tells
// where its time goes. One profile at a time; the file is
// DIR/NAME.PID.YYYYMMDDhhmmss.cpu.pprof, for `go tool pprof`.
type cpuProfiler struct {
	dir, name string
	dur       time.Duration
	log       *zap.Logger

	mu      sync.Mutex
	running bool
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup // the profileLoop running
}

func newCPUProfiler(dir, name string, dur time.Duration, log *zap.Logger) *cpuProfiler {
	if dur <= 0 {
		dur = DefaultProfileFor
	}
	return &cpuProfiler{dir: dir, name: name, dur: dur, log: log, stop: make(chan struct{})}
}

// start begins a profile, unless one is running or the process stops.
func (p *cpuProfiler) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.running {
		p.log.Info("SIGUSR2: a CPU profile is already being written; this one is ignored")
		return
	}
	path := filepath.Join(p.dir, fmt.Sprintf("%s.%d.%s.cpu.pprof", p.name, os.Getpid(), time.Now().Format("20060102150405")))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		p.log.Error("SIGUSR2: cannot create the CPU profile", zap.Error(err))
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		p.log.Error("SIGUSR2: cannot start a CPU profile", zap.Error(err))
		return
	}
	p.running = true
	p.log.Info("SIGUSR2: CPU profile started", zap.String("path", path), zap.Duration("for", p.dur))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.profileLoop(f, path)
	}()
}

// profileLoop ends the profile after its time, or at once when the
// process stops (a partial profile is still a profile).
func (p *cpuProfiler) profileLoop(f *os.File, path string) {
	t := time.NewTimer(p.dur)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.stop:
	}
	pprof.StopCPUProfile()
	err := f.Close()
	p.mu.Lock()
	p.running = false
	p.mu.Unlock()
	if err != nil {
		p.log.Error("SIGUSR2: writing the CPU profile", zap.String("path", path), zap.Error(err))
		return
	}
	p.log.Info("SIGUSR2: CPU profile written", zap.String("path", path))
}

// close ends a running profile and waits for it to be written.
func (p *cpuProfiler) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
