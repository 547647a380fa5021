package daemon

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Handlers are what a process does on each signal. Each runs on the signal
// owner's goroutine, one at a time; a nil handler ignores its signal.
type Handlers struct {
	Stop    func() // SIGTERM, SIGINT: stop cleanly (called once; later ones are ignored)
	Reload  func() // SIGHUP: read etc/ again
	Reopen  func() // SIGUSR1: reopen log files
	Profile func() // SIGUSR2: write a CPU profile
	// Ignored is called for a TERM/INT that arrives while stopping, so it
	// can be logged; nil to ignore silently.
	Ignored func(os.Signal)
}

// Signals owns the process's signals from HandleSignals until Close.
type Signals struct {
	ch   chan os.Signal
	done chan struct{}
	wg   sync.WaitGroup
}

// HandleSignals makes the caller the owner of TERM, INT, HUP, USR1 and USR2 for
// the process: from now on they call h's handlers instead of their default
// actions. Only one owner per process.
func HandleSignals(h Handlers) *Signals {
	s := &Signals{ch: make(chan os.Signal, 8), done: make(chan struct{})}
	signal.Notify(s.ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	s.wg.Add(1)
	go s.signalLoop(h)
	return s
}

func (s *Signals) signalLoop(h Handlers) {
	defer s.wg.Done()
	stopping := false
	call := func(f func()) {
		if f != nil {
			f()
		}
	}
	for {
		select {
		case <-s.done:
			return
		case sig := <-s.ch:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				if stopping {
					if h.Ignored != nil {
						h.Ignored(sig)
					}
					continue
				}
				stopping = true
				call(h.Stop)
			case syscall.SIGHUP:
				call(h.Reload)
			case syscall.SIGUSR1:
				call(h.Reopen)
			case syscall.SIGUSR2:
				call(h.Profile)
			}
		}
	}
}

// Close gives the signals back (their default actions return) and waits
// for a handler that is running to return.
func (s *Signals) Close() {
	signal.Stop(s.ch)
	close(s.done)
	s.wg.Wait()
}
