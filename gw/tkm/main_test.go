package tkm

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
)

// TestMain runs the child role when TKM_CHILD is set: a real tkm_files
// process over the home in M1_HOME, stopped by SIGTERM or killed.
func TestMain(m *testing.M) {
	if os.Getenv("TKM_CHILD") != "" {
		if err := childMain(); err != nil {
			fmt.Fprintln(os.Stderr, "tkm child:", err)
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
	lanes := map[byte]queue.Queue{}
	for jc, n := range laneNames {
		q, err := queues.Open(cfg, n, zap.NewNop())
		if err != nil {
			return err
		}
		defer q.Close()
		lanes[jc] = q
	}
	k, err := New(Options{Config: cfg, Lanes: lanes, Batch: 50, Node: 21})
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
