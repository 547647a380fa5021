package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/logging"
)

// Exit codes of Main, for scripts and operators.
const (
	ExitOK      = 0 // stopped cleanly
	ExitFailed  = 1 // failed while starting or running: see the log
	ExitConfig  = 2 // bad configuration: fix etc/ and start again
	ExitRunning = 3 // another instance of the same name is running
)

// Env is what Main gives a daemon's constructor.
type Env struct {
	Name   string          // process name (dist, sender.KT1, ...)
	Home   string          // M1_HOME
	Config *config.Holder  // the configuration in force
	Log    *logging.Logger // the process's logger (embeds *zap.Logger)
}

// ConfigReloader is implemented by daemons that take a new configuration
// on SIGHUP. ReloadConfig returns an error to refuse it; the daemon must
// then go on exactly as before.
type ConfigReloader interface {
	ReloadConfig(c *config.Config) error
}

// Main is the whole of a daemon's main function:
//
//	func main() { os.Exit(daemon.Main("dist", dist.FromEnv)) }
//
// It finds M1_HOME, loads etc/ (refusing to start on an error, said on
// stderr and in the log), opens the process's log, builds the daemon,
// and runs it with Run. SIGHUP loads etc/ again and, when it is valid and
// the daemon (a ConfigReloader) accepts it, puts it in force and applies
// the new log level. It returns an exit code.
func Main(name string, build func(*Env) (Daemon, error)) int {
	return mainWith(context.Background(), name, os.Stderr, build)
}

func mainWith(ctx context.Context, name string, stderr io.Writer, build func(*Env) (Daemon, error)) int {
	// SIGUSR2's default action ends the process, and Run handles it (a CPU
	// profile) only from when the daemon is built: until then it is
	// ignored, so a profile asked for a moment too early kills nothing.
	// HandleSignals' Notify takes it over.
	signal.Ignore(syscall.SIGUSR2)
	home, err := config.Home()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitConfig
	}
	holder, err := config.NewHolder(home)
	if err != nil {
		fmt.Fprintf(stderr, "%s: refusing to start, bad configuration in %s:\n%v\n", name, home, err)
		// Also in the log, where operators look first; best effort, in the
		// default log directory since the configured one is not known.
		if l, lerr := logging.New(logging.Options{Dir: filepath.Join(home, "log"), Process: name}); lerr == nil {
			l.Error("refusing to start: bad configuration", zap.String("home", home), zap.Error(err))
			_ = l.Close()
		}
		return ExitConfig
	}
	cfg := holder.Get()
	log, err := logging.ForProcess(cfg, name, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFailed
	}
	defer log.Close()

	// The pid file first: a second instance is refused before it builds
	// anything, so it never touches the running one's queues or slot.
	pf, err := AcquirePIDFile(cfg.Paths.Run, name)
	var re *RunningError
	if errors.As(err, &re) {
		fmt.Fprintf(stderr, "%s: refusing to start: %v\n", name, err)
		log.Warn("refusing to start: another instance is running", zap.Int("running_pid", re.PID))
		return ExitRunning
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		log.Error("cannot start", zap.Error(err))
		return ExitFailed
	}
	d, err := build(&Env{Name: name, Home: home, Config: holder, Log: log})
	if err != nil {
		_ = pf.Release()
		fmt.Fprintf(stderr, "%s: cannot start: %v\n", name, err)
		log.Error("cannot start", zap.Error(err))
		return ExitFailed
	}
	err = Run(ctx, d, Options{
		Name:    name,
		PIDFile: pf,
		RunDir:  cfg.Paths.Run,
		// CPU profiles (SIGUSR2) beside the logs: operators look there.
		ProfileDir: cfg.Paths.Log,
		Log:        log.Logger,
		Reopen:     log.Reopen,
		Reload: func() error {
			c, err := holder.Load()
			if err != nil {
				return err
			}
			r, ok := d.(ConfigReloader)
			if ok {
				if err := r.ReloadConfig(c); err != nil {
					return err
				}
			}
			holder.Set(c)
			if err := log.SetLevel(c.Log.LevelFor(name)); err != nil {
				return err
			}
			if !ok {
				// Said plainly: an operator who edited [sch] and sent HUP
				// must not think it took.
				log.Warn("SIGHUP: the files are valid and the log level is applied; " +
					"this process takes the rest of etc/ only at its next start")
			}
			return nil
		},
	})
	switch {
	case errors.As(err, &re):
		fmt.Fprintf(stderr, "%s: refusing to start: %v\n", name, err)
		log.Warn("refusing to start: another instance is running", zap.Int("running_pid", re.PID))
		return ExitRunning
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		log.Error("stopped with an error", zap.Error(err))
		return ExitFailed
	}
	return ExitOK
}
