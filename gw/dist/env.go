package dist

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/queue"
)

// FromEnv builds the production dist for daemon.Main: queues through
// gw/queues, sender states from the process table, the shared duplicate
// index of the listener.
func FromEnv(env *daemon.Env) (daemon.Daemon, error) {
	cfg := env.Config.Get()
	log := env.Log.Logger
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		return nil, fmt.Errorf("dist: process table: %w", err)
	}
	// A fresh home has no var/ yet; the index and the journal live there.
	for _, dir := range []string{filepath.Dir(cfg.Path(cfg.Listener.DupIndex)), cfg.Paths.Var} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			_ = tab.Close()
			return nil, fmt.Errorf("dist: %w", err)
		}
	}
	idx, err := dupindex.Open(dupindex.Options{Path: cfg.Path(cfg.Listener.DupIndex), Window: cfg.Timeouts.DuplicateWindow.D(), Logger: log})
	if err != nil {
		_ = tab.Close()
		return nil, fmt.Errorf("dist: duplicate index: %w", err)
	}
	// The database only for what PNX learned from carrier reports: opening
	// connects to nothing, and a database that is down leaves routing to
	// the copy held and etc/pnx.conf (pnxLoop).
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, MaxConns: 1, Logger: log})
	if err != nil {
		_ = idx.Close()
		_ = tab.Close()
		return nil, fmt.Errorf("dist: store: %w", err)
	}
	d, err := New(Options{
		Config: cfg,
		Log:    log,
		Open: func(name string, consumer bool) (queue.Queue, error) {
			if consumer {
				return queues.OpenConsumer(cfg, name, log)
			}
			return queues.Open(cfg, name, log)
		},
		Health: TableHealth{T: tab},
		Dup:    idx,
		Table:  tab,
		PNX:    st,
	})
	if err != nil {
		_ = st.Close()
		_ = idx.Close()
		_ = tab.Close()
		return nil, err
	}
	d.closers = append(d.closers, st.Close, idx.Close, tab.Close)
	return d, nil
}
