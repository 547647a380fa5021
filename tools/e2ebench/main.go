// Command e2ebench is M1's end-to-end throughput run: the whole suite as
// real processes, measured from TCP intake to the final T41_LOG row.
//
//	e2ebench [--db sqlite|postgres] [--duration 60s] [--warmup 10s] [-c 4] [--window 64]
//
// What it does, in order:
//
//  1. A temporary M1_HOME: a copy of etc/ with the SysV keys moved to
//     0x4d34xxxx (production is 0x4d31, the demo 0x4d32), the listener on
//     127.0.0.1:24091/24092 and the carrier links on 127.0.0.1:24xxx (so the
//     run never meets a demo or a production suite on the host), DEMO01's
//     TPS and each sender's TPS raised out of the way, sender windows of
//     256, and KT numbers shared 1:1 between KT1 and KT2 (loadgen's numbers
//     are all KT numbers). The database is a SQLite file in the home, or
//     (--db postgres) a schema of the run's own on 127.0.0.1:5432, database
//     test, dropped at the end.
//  2. carriersim with no artificial limits (no TPS ceiling, no ack latency,
//     no dropped links; reports 10–200 ms after the submit, its default).
//  3. The suite through scripts/m1start.
//  4. loadgen, closed loop (-c connections, --window requests each), for
//     --warmup + --duration; then SIGTERM, which makes it stop sending and
//     wait for the REPORTs of what it sent. The default load is 4
//     connections of window 64, the most unanswered requests PROTOCOL.md
//     allows: clients that pipeline fully. The listener's intake brake
//     (gw/lsnr/brake.go) keeps that sustained; before it, such a load
//     outran dbx, DBX spilled to its file queue and the final rate fell
//     while the backlog grew (docs/BENCHMARKS.md). --window 2 is the
//     lighter load of the earlier reports: lower latency, fewer messages.
//  5. The figure: T41_LOG rows with STATUS 4 counted at the end of the
//     warmup and at the end of --duration: their difference over the
//     time between is the rate, messages/s from TCP intake to final row,
//     sustained. Latency p50/p99 from SUBMIT to REPORT is loadgen's. The
//     intake over the same window (loadgen's progress lines) says whether
//     the rate was sustained: "sustained=no" when the final rows fell
//     behind the intake by more than 5%, with the backlog's growth.
//  6. Wait until every accepted message is final (--drain), scripts/m1stop,
//     ipcq rm --all, carriersim stopped; it checks that no 0x4d34 SysV
//     object is left.
//
// It also prints each process's CPU seconds over the measured window
// (from /proc), which says where the time goes, and with --perf DIR
// records a perf profile of every process for --perf-secs in the middle
// of the window (perf record -g; its report goes to DIR/perf.txt); with
// --pprof DIR it asks every M1 daemon for 30 s of CPU profile (SIGUSR2,
// gw/daemon) from the window's start and writes `go tool pprof -top` of
// each to DIR/NAME.top.txt.
//
// The last line is the figure of `make bench-e2e`:
//
//	e2e: db=<sqlite|postgres> rate=<msgs/s> p50=<ms> p99=<ms>
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
)

// options are e2ebench's flags.
type options struct {
	db        string
	pg        string
	root      string
	bin       string
	duration  time.Duration
	warmup    time.Duration
	conns     int
	window    int
	max       int
	lms       float64
	drain     time.Duration
	senderWin int
	keep      bool
	perfDir   string
	perfSecs  int
	pprofDir  string
	distCap   int
	maxProcs  int
}

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

func realMain(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("e2ebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", "sqlite", "database: sqlite or postgres")
	fs.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "--db postgres: the server (a schema of the run's own is made in it)")
	fs.StringVar(&o.root, "root", ".", "the M1 tree (etc/ and scripts/)")
	fs.StringVar(&o.bin, "bin", "bin", "the built binaries")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "sustained load measured, after the warmup")
	fs.DurationVar(&o.warmup, "warmup", 10*time.Second, "load before the measured window")
	fs.IntVarP(&o.conns, "conns", "c", 4, "loadgen connections")
	fs.IntVar(&o.window, "window", 64, "loadgen unanswered requests per connection (64: PROTOCOL.md's most)")
	fs.IntVar(&o.max, "max", 3000000, "loadgen -n: messages at most (it is stopped after warmup+duration anyway)")
	fs.Float64Var(&o.lms, "lms", 0, "share of LMS messages")
	fs.DurationVar(&o.drain, "drain", 10*time.Minute, "after the load, wait this long at most for every message to be final")
	fs.IntVar(&o.senderWin, "sender-window", 256, "window of each sender")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary home (logs, database)")
	fs.StringVar(&o.perfDir, "perf", "", "record a perf profile of every process into this directory")
	fs.IntVar(&o.perfSecs, "perf-secs", 20, "--perf: seconds recorded")
	fs.StringVar(&o.pprofDir, "pprof", "", "CPU profiles (runtime/pprof, 30 s from the window's start, by SIGUSR2) of every M1 daemon into this directory, with go tool pprof -top of each")
	fs.IntVar(&o.distCap, "dist-capacity", 0, "experiment: capacity of the DIST lanes (0: etc/'s)")
	fs.IntVar(&o.maxProcs, "gomaxprocs", 0, "experiment: GOMAXPROCS of the M1 processes (0: Go's default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (o.db != "sqlite" && o.db != "postgres") || o.conns < 1 || o.window < 1 || o.duration <= 0 || o.max < 1 {
		fmt.Fprintln(stderr, "e2ebench: bad --db, --conns, --window, --duration or --max")
		return 2
	}
	var err error
	if o.root, err = filepath.Abs(o.root); err == nil {
		o.bin, err = filepath.Abs(o.bin)
	}
	if err != nil {
		fmt.Fprintln(stderr, "e2ebench:", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	r := &runner{o: o, out: stdout}
	res, err := r.run(ctx)
	if cerr := r.cleanup(); cerr != nil {
		fmt.Fprintln(stderr, "e2ebench: cleanup:", cerr)
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "e2ebench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "e2e: db=%s rate=%.0f p50=%s p99=%s\n", o.db, res.rate, res.p50, res.p99)
	return 0
}
