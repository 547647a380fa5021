// Command carriersim simulates the SMS centers M1's senders talk to: two KT
// centers, two SKT centers and the relay (중계사) in front of LG U+, each on
// the port etc/m1.toml points its sender at. See package sim for what it
// does; this is its command line:
//
//	carriersim [--kt1 ADDR] [--kt2 ADDR] [--skt1 ADDR] [--skt2 ADDR] [--lg ADDR]
//	           [--control ADDR] [--ack-latency D] [--report-delay-min D] [--report-delay-max D]
//	           [--unknown PCT] [--expired PCT] [--spam PCT] [--tps N] [--drop-prob P] [--every D]
//	carriersim --bench [--bench-n N]     the sender benchmark (make bench-sender)
//
// An empty address turns a server off. SIGUSR1 drops every link; SIGUSR2
// prints the counters; SIGINT and SIGTERM print them and exit. Counters are
// also printed every --every, and served on the control port (STATS, DROP,
// RESET: one line each).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

func main() { os.Exit(run()) }

func run() int {
	var (
		kt1      = flag.String("kt1", "127.0.0.1:17001", "KT center 1 (kt dialect)")
		kt2      = flag.String("kt2", "127.0.0.1:17002", "KT center 2 (kt dialect)")
		skt1     = flag.String("skt1", "127.0.0.1:17101", "SKT center 1 (skt dialect)")
		skt2     = flag.String("skt2", "127.0.0.1:17102", "SKT center 2 (skt dialect)")
		lg       = flag.String("lg", "127.0.0.1:17201", "LG U+ relay (lgrelay dialect)")
		control  = flag.String("control", "127.0.0.1:17900", "control port (STATS, DROP [server], RESET)")
		ackLat   = flag.Duration("ack-latency", 0, "delay before each submit response")
		repMin   = flag.Duration("report-delay-min", 10*time.Millisecond, "shortest delay of a report")
		repMax   = flag.Duration("report-delay-max", 200*time.Millisecond, "longest delay of a report (uniform between)")
		unknown  = flag.Int("unknown", 2, "percent of reports: unknown subscriber (3001)")
		expired  = flag.Int("expired", 3, "percent of reports: unreachable or expired (3002)")
		spam     = flag.Int("spam", 1, "percent of reports: spam rejected (3003)")
		tps      = flag.Int("tps", 0, "each server's TPS ceiling, answered with the throttling code beyond (0: none)")
		dropProb = flag.Float64("drop-prob", 0, "chance per submit of dropping the link")
		every    = flag.Duration("every", 10*time.Second, "print the counters this often (0: never)")
		bench    = flag.Bool("bench", false, "run the sender benchmark and exit")
		benchN   = flag.Int("bench-n", 20000, "submits per benchmark run")
		cpuprof  = flag.String("cpuprofile", "", "write a CPU profile to this file")
	)
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "carriersim:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "carriersim:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	log, _ := zap.NewProduction()
	defer func() { _ = log.Sync() }()
	if *bench {
		if err := runBench(*benchN, os.Stdout, log); err != nil {
			fmt.Fprintln(os.Stderr, "carriersim: bench:", err)
			return 1
		}
		return 0
	}
	var servers []sim.Server
	for _, s := range []struct {
		name, addr string
		d          carrier.Dialect
	}{{"KT1", *kt1, carrier.KT}, {"KT2", *kt2, carrier.KT}, {"SKT1", *skt1, carrier.SKT}, {"SKT2", *skt2, carrier.SKT}, {"LG", *lg, carrier.LGRelay}} {
		if s.addr != "" {
			servers = append(servers, sim.Server{Name: s.name, Addr: s.addr, Dialect: s.d})
		}
	}
	s, err := sim.New(sim.Config{Servers: servers, AckLatency: *ackLat, ReportDelayMin: *repMin, ReportDelayMax: *repMax,
		Mix: sim.Mix{UnknownSub: *unknown, Expired: *expired, Spam: *spam}, TPS: *tps, DropProb: *dropProb,
		Seed: uint64(time.Now().UnixNano()), Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "carriersim:", err)
		return 1
	}
	defer s.Close()
	if *control != "" {
		if _, err := s.ServeControl(*control); err != nil {
			fmt.Fprintln(os.Stderr, "carriersim:", err)
			return 1
		}
	}
	for _, sv := range servers {
		fmt.Printf("carriersim: %s (%s) on %s\n", sv.Name, sv.Dialect.Name(), s.Addr(sv.Name))
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	print := func(what string) {
		b, _ := json.Marshal(s.Stats())
		fmt.Printf("carriersim: %s %s\n", what, b)
	}
	for {
		select {
		case <-tick:
			print("stats")
		case g := <-sig:
			switch g {
			case syscall.SIGUSR1:
				fmt.Printf("carriersim: dropped %d links\n", s.Drop(""))
			case syscall.SIGUSR2:
				print("stats")
			default:
				print("exit")
				return 0
			}
		}
	}
}
