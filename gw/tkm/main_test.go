package tkm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
)

// Environment of the child role.
const (
	childEnv      = "TKM_CHILD"       // set: run as a tkm_files child over M1_HOME
	childDupEnv   = "TKM_CHILD_DUP"   // path of the duplicate index (testDupOptions)
	childLogEnv   = "TKM_CHILD_LOG"   // file for the child's JSON log
	childDelayEnv = "TKM_CHILD_DELAY" // up to this long after a batch's put on each lane
)

// TestMain runs the child role when TKM_CHILD is set: a real tkm_files
// process over the home in M1_HOME, stopped by SIGTERM or killed.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := childMain(); err != nil {
			fmt.Fprintln(os.Stderr, "tkm child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testDupOptions is the small index geometry every test process opens.
func testDupOptions(path string) dupindex.Options {
	return dupindex.Options{Path: path, Capacity: 1 << 16, Locks: 1 << 8}
}

func childMain() error {
	cfg, err := config.Load(os.Getenv("M1_HOME"))
	if err != nil {
		return err
	}
	log := zap.NewNop()
	if p := os.Getenv(childLogEnv); p != "" {
		zc := zap.NewProductionConfig()
		zc.OutputPaths = []string{p}
		if log, err = zc.Build(); err != nil {
			return err
		}
		defer func() { _ = log.Sync() }()
	}
	lanes := map[byte]queue.Queue{}
	for jc, n := range laneNames {
		q, err := queues.Open(cfg, n, zap.NewNop())
		if err != nil {
			return err
		}
		defer q.Close()
		lanes[jc] = q
	}
	o := Options{Config: cfg, Log: log, Lanes: lanes, Batch: 50, Node: 21}
	if p := os.Getenv(childDupEnv); p != "" {
		idx, err := dupindex.Open(testDupOptions(p))
		if err != nil {
			return err
		}
		defer idx.Close()
		o.Dup = idx
	}
	if v := os.Getenv(childDelayEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		testHookAfterPut = func(byte) { time.Sleep(rand.N(d)) }
	}
	k, err := New(o)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- k.Main() }()
	select {
	case <-sig:
		k.Exit()
		return <-done
	case err := <-done:
		return err
	}
}
