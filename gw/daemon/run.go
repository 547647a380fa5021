package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Daemon is what each M1 daemon package provides (nsq style).
type Daemon interface {
	// Main runs the daemon and blocks until it has stopped: after Exit, or
	// on a failure it cannot continue from (then it returns the error).
	// A nil return is a clean stop.
	Main() error
	// Exit asks the daemon to stop in the stop order (see the package doc)
	// and returns once it has. It may be called more than once, from any
	// goroutine, also before or after Main returned.
	Exit()
}

// Options for Run.
type Options struct {
	Name   string      // process name: pid file RunDir/Name.pid
	RunDir string      // directory of pid files (var/run)
	Log    *zap.Logger // where Run logs starts, stops and signals
	// Reload is called on SIGHUP. An error is logged and must have changed
	// nothing.
	Reload func() error
	// Reopen is called on SIGUSR1 (logging.Logger.Reopen).
	Reopen func() error
	// ProfileDir receives the CPU profiles SIGUSR2 asks for (profile.go);
	// empty: SIGUSR2 is logged and ignored. ProfileFor is each profile's
	// length, default DefaultProfileFor.
	ProfileDir string
	ProfileFor time.Duration
	// PIDFile, when set, is the pid file the caller already holds (Main
	// takes it before it builds the daemon, so that a second instance is
	// refused before it touches queues or the process table). Run
	// releases it.
	PIDFile *PIDFile
}

// ErrNoName is returned by Run without a process name.
var ErrNoName = errors.New("daemon: no process name")

// Run takes the pid file, owns the signals, and runs d until it stops by
// itself, ctx ends, or TERM/INT arrives; then calls d.Exit, waits for Main
// to return, and removes the pid file. It returns Main's error, or a
// *RunningError when another instance holds the pid file.
func Run(ctx context.Context, d Daemon, o Options) error {
	if o.Name == "" {
		return ErrNoName
	}
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	pf := o.PIDFile
	var err error
	if pf == nil {
		if pf, err = AcquirePIDFile(o.RunDir, o.Name); err != nil {
			return err
		}
	}
	defer func() {
		if err := pf.Release(); err != nil {
			log.Warn("removing pid file", zap.String("path", pf.Path()), zap.Error(err))
		}
	}()

	var once sync.Once
	stopped := make(chan struct{})
	stop := func(why string) {
		once.Do(func() {
			log.Info("stopping", zap.String("why", why))
			d.Exit()
			close(stopped)
		})
	}
	reload := o.Reload
	prof := newCPUProfiler(o.ProfileDir, o.Name, o.ProfileFor, log)
	// Closed after the signals are given back (defers run last first), so
	// no SIGUSR2 can start a profile after it.
	defer prof.close()
	sigs := HandleSignals(Handlers{
		// Exit blocks until the daemon stopped; it runs on its own
		// goroutine so that HUP and USR1 are still served meanwhile.
		Stop: func() { go stop("signal") },
		Reload: func() {
			if reload == nil {
				log.Info("SIGHUP: this process has nothing to reload")
				return
			}
			if err := reload(); err != nil {
				log.Error("SIGHUP: configuration refused; the old one stays in force", zap.Error(err))
				return
			}
			log.Info("SIGHUP: etc/ read again")
		},
		Reopen: func() {
			if o.Reopen == nil {
				return
			}
			if err := o.Reopen(); err != nil {
				log.Error("SIGUSR1: reopening logs", zap.Error(err))
				return
			}
			log.Info("SIGUSR1: logs reopened")
		},
		Profile: func() {
			if o.ProfileDir == "" {
				log.Info("SIGUSR2: no directory for CPU profiles; ignored")
				return
			}
			prof.start()
		},
		Ignored: func(s os.Signal) { log.Info("already stopping", zap.Stringer("signal", s)) },
	})
	defer sigs.Close()

	log.Info("started", zap.String("pidfile", pf.Path()))
	mainErr := make(chan error, 1)
	go func() { mainErr <- d.Main() }()

	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	select {
	case err = <-mainErr:
		// Stopped by itself; Exit lets it release what it still holds.
		stop("main returned")
	case <-ctxDone:
		stop("context done")
		err = <-mainErr
	case <-stopped:
		err = <-mainErr
	}
	<-stopped
	if err != nil {
		return fmt.Errorf("%s: %w", o.Name, err)
	}
	log.Info("stopped")
	return nil
}
