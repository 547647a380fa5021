package sch

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// TestMain runs the child role when SCH_CHILD is set: a real sch process
// over the home in M1_HOME and the store in SCH_DSN, stopped by SIGTERM
// (or killed).
func TestMain(m *testing.M) {
	if os.Getenv("SCH_CHILD") != "" {
		if err := childMain(); err != nil {
			fmt.Fprintln(os.Stderr, "sch child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childMain() error {
	cfg, err := config.Load(os.Getenv("M1_HOME"))
	if err != nil {
		return err
	}
	log := zap.NewNop()
	lanes := map[byte]queue.Queue{}
	for jc, n := range laneNames {
		q, err := queues.Open(cfg, n, log)
		if err != nil {
			return err
		}
		defer q.Close()
		lanes[jc] = q
	}
	st, err := store.Open(store.Options{DSN: os.Getenv("SCH_DSN"), Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	node, _ := strconv.Atoi(os.Getenv("SCH_NODE"))
	s, err := New(Options{Config: cfg, Log: log, Store: st, Lanes: lanes, Node: node, Name: os.Getenv("SCH_CHILD")})
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	select {
	case <-sig:
		s.Exit()
		err = <-done
	case err = <-done:
	}
	if err != nil {
		return err
	}
	st2 := s.Stats()
	fmt.Fprintf(os.Stderr, "sch child %s: claimed %d queued %d\n", os.Getenv("SCH_CHILD"), st2.Claimed, st2.Queued)
	return nil
}
