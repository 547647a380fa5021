// Package daemon is the process plumbing every M1 daemon shares, so that
// each cmd/ main stays a line long: the pid file, the signal owner, the
// run loop, and the exit codes.
//
// # A main
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/m1gw/m1/gw/daemon"
//		"github.com/m1gw/m1/gw/dist"
//	)
//
//	func main() {
//		os.Exit(daemon.Main("dist", func(env *daemon.Env) (daemon.Daemon, error) {
//			return dist.New(dist.Options{Config: env.Config.Get(), Log: env.Log.Logger})
//		}))
//	}
//
// A sender takes its link id from the command line first and passes
// config.SenderProcess(id) ("sender.KT1") as the name.
//
// Main finds M1_HOME, loads etc/ (a bad file: the error, with file, line
// and setting, on stderr and in the log, exit 2), opens the process's log,
// builds the daemon, and calls Run. Exit codes: 0 stopped cleanly, 1 failed
// (see the log), 2 bad configuration, 3 another instance of the same name
// is running. Scripts act on them: m1check restarts on 1, does nothing on 3.
//
// # The Daemon shape
//
// A daemon package provides New(opts) returning a value with Main and Exit
// (nsq style). Main runs until the daemon stops and returns nil for a
// clean stop; Exit asks it to stop, returns once it has, and is safe to
// call twice. A daemon that can take a new configuration on SIGHUP also
// implements ConfigReloader; returning an error refuses the new
// configuration and the old one stays in force.
//
// # Stop order
//
// Exit must stop in this order, which is what makes a planned stop lose
// nothing:
//
//  1. stop intake: close listeners, stop polling T41 and the spool, stop
//     taking from queues;
//  2. finish in-flight work: answer what was accepted, wait for the
//     carrier's answers within the window (bounded by a timeout);
//  3. commit queues: commit every record whose work is done, so nothing
//     done is delivered again;
//  4. save shared-memory queues to their file queues where save_on_stop is
//     set (the owner of the queue only);
//  5. detach from shared memory and semaphores, mark the process table slot
//     stopped;
//  6. return from Main. Run then removes the pid file.
//
// # Signals
//
// HandleSignals makes one goroutine the owner of the process's signals:
// TERM and INT stop (once; a second one while stopping is logged and
// ignored, never a hard kill: that is what SIGKILL is for), HUP reloads,
// USR1 reopens the logs, USR2 writes a CPU profile of the next 30 s to
// the log directory (log/NAME.PID.TIME.cpu.pprof, for `go tool pprof`; one
// at a time, ended early by a stop). Handlers run one at a time, so a reload never
// races a reopen; HUP and USR1 are still served while stopping.
//
// # Pid file
//
// var/run/NAME.pid holds the pid and a newline, and an exclusive flock(2)
// for the life of the process. The lock decides, not the file: a second
// instance finds the lock taken and refuses, naming the running pid; a file
// left behind by SIGKILL is unlocked and is simply taken over. The file is
// removed on a clean exit, before the lock is dropped. ReadPID tells status
// tools whether a pid file's process is alive (it takes a shared lock for an
// instant, so a daemon starting at that very instant may be refused once).
package daemon
