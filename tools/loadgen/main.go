// Command loadgen is M1's load generator: C connections to an eai_lsnr
// (gw/client), N messages of an SMS/LMS mix with some MULTI_SUBMITs, a
// progress line every second, and a summary table at the end: sent,
// results per code, reports received (and repeated), rate, and latency
// p50/p99 of SUBMIT→SUBMIT_RESP (and SUBMIT→REPORT with --report-wait).
//
//	loadgen --addr 127.0.0.1:9001 --id DEMO01 --password demo01 -c 8 -n 100000
//
// --baseline first measures an echo server in this process (no checks, no
// queue) with the same load, and --line ends the output with
//
//	lsnr: accepted=<per s> p50=<ms> p99=<ms>
//
// (bench_procs.sh runs it against the real eai_lsnr process: make
// bench-lsnr). --bench-lsnr measures instead, in one process: a baseline
// (an echo server answering SUBMIT_RESP with no checks and no queue), then
// an in-process eai_lsnr on real shared-memory queues drained by a sink,
// both over TCP with the same load, ending with the same line.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
)

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s loadSpec
	var class string
	var quiet, bench bool
	var laneCap int
	fs.StringVar(&s.Addr, "addr", "127.0.0.1:9001", "eai_lsnr address")
	fs.StringVar(&s.ID, "id", "DEMO01", "CLIENT_ID to BIND as")
	fs.StringVar(&s.Pass, "password", "demo01", "password")
	fs.IntVarP(&s.Conns, "conns", "c", 8, "connections")
	fs.IntVarP(&s.N, "count", "n", 100000, "messages to send (each destination of a MULTI_SUBMIT counts)")
	fs.IntVar(&s.Window, "window", 64, "unanswered requests per connection")
	fs.Float64Var(&s.LMS, "lms", 0, "share of LMS messages, 0..1")
	fs.Float64Var(&s.Multi, "multi", 0, "share of requests sent as MULTI_SUBMIT, 0..1")
	fs.IntVar(&s.MultiDests, "multi-dests", 10, "destinations per MULTI_SUBMIT (1..100)")
	fs.StringVar(&class, "class", "S", "JOB_CLASS: R, S or B")
	fs.StringVar(&s.Callback, "callback", "0215880000", "callback number (registered for the client)")
	fs.DurationVar(&s.ReportWait, "report-wait", 0, "after the last response, wait up to this long for a REPORT per accepted message")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	fs.BoolVar(&bench, "bench-lsnr", false, "measure a baseline echo server and an in-process eai_lsnr (ignores --addr, --id, --password)")
	fs.IntVar(&laneCap, "lane-capacity", 4096, "--bench-lsnr: capacity of each DIST lane")
	sinkHome := fs.String("sink", "", "drain the DIST lanes of this M1 home until interrupted (stand-in for dist)")
	sinkRemove := fs.Bool("sink-remove", false, "with --sink: remove the home's DIST and RPT segments on exit")
	baseline := fs.Bool("baseline", false, "first measure an in-process echo server (no checks, no queue) with the same load, for comparison")
	line := fs.Bool("line", false, "end with the line 'lsnr: accepted=<per s> p50=<ms> p99=<ms>'")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if len(class) != 1 || (class[0] != 'R' && class[0] != 'S' && class[0] != 'B') {
		fmt.Fprintln(stderr, "loadgen: --class must be R, S or B")
		return 2
	}
	if s.Conns < 1 || s.N < 1 || s.MultiDests < 1 || s.MultiDests > 100 || s.LMS < 0 || s.LMS > 1 || s.Multi < 0 || s.Multi > 1 {
		fmt.Fprintln(stderr, "loadgen: bad --conns, --count, --lms, --multi or --multi-dests")
		return 2
	}
	s.JobClass = class[0]
	if !quiet {
		s.Progress = stderr
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *sinkHome != "" {
		return sinkMain(ctx, *sinkHome, *sinkRemove, stdout, stderr)
	}
	if bench {
		return benchMain(ctx, s, laneCap, stdout, stderr)
	}
	var rs []*result
	if *baseline {
		echo, err := startEcho()
		if err != nil {
			fmt.Fprintln(stderr, "loadgen: baseline:", err)
			return 1
		}
		bs := s
		bs.Addr, bs.Label = echo.addr(), "baseline"
		base, err := run(ctx, bs)
		echo.close()
		if err != nil {
			fmt.Fprintln(stderr, "loadgen: baseline:", err)
			return 1
		}
		rs = append(rs, base)
	}
	s.Label = "lsnr"
	r, err := run(ctx, s)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	printTable(stdout, append(rs, r)...)
	if *line {
		fmt.Fprintf(stdout, "lsnr: accepted=%.0f p50=%s p99=%s\n", r.rate(), ms(pct(r.Lat, 0.5)), ms(pct(r.Lat, 0.99)))
	}
	return 0
}

func benchMain(ctx context.Context, s loadSpec, laneCap int, stdout, stderr io.Writer) int {
	echo, err := startEcho()
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: baseline:", err)
		return 1
	}
	bs := s
	bs.Addr, bs.ID, bs.Pass, bs.Label = echo.addr(), benchClient, benchPass, "baseline"
	base, err := run(ctx, bs)
	echo.close()
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: baseline:", err)
		return 1
	}
	b, err := startBenchLsnr(laneCap)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: listener:", err)
		return 1
	}
	ls := s
	ls.Addr, ls.ID, ls.Pass, ls.Label, ls.Callback = b.addr(), benchClient, benchPass, "lsnr", "0215880000"
	res, err := run(ctx, ls)
	time.Sleep(100 * time.Millisecond) // let the sink catch up before counting
	drained := b.drained.Load()
	b.close()
	if err != nil {
		fmt.Fprintln(stderr, "loadgen: listener:", err)
		return 1
	}
	printTable(stdout, base, res)
	fmt.Fprintf(stdout, "lsnr: records drained from the DIST lanes by the sink: %d (accepted %d)\n", drained, res.accepted())
	fmt.Fprintf(stdout, "lsnr: accepted=%.0f p50=%s p99=%s\n", res.rate(), ms(pct(res.Lat, 0.5)), ms(pct(res.Lat, 0.99)))
	return 0
}
