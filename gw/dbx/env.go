package dbx

import (
	"fmt"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
)

// FromEnv builds the production dbx for daemon.Main: the store of
// database.dsn, the DBX queue as its consumer, the RPT queue as a
// producer, and a slot in the process table.
func FromEnv(env *daemon.Env) (daemon.Daemon, error) {
	cfg := env.Config.Get()
	log := env.Log.Logger
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("dbx: database: %w", err)
	}
	in, err := queues.OpenConsumer(cfg, config.QueueDBX, log)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("dbx: open %s: %w", config.QueueDBX, err)
	}
	rpt, err := queues.Open(cfg, config.QueueRPT, log)
	if err != nil {
		_ = in.Close()
		_ = st.Close()
		return nil, fmt.Errorf("dbx: open %s: %w", config.QueueRPT, err)
	}
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		_ = rpt.Close()
		_ = in.Close()
		_ = st.Close()
		return nil, fmt.Errorf("dbx: process table: %w", err)
	}
	d, err := New(Options{Config: cfg, Log: log, Store: st, In: in, RPT: rpt, Table: tab, Closers: []func() error{tab.Close}})
	if err != nil {
		_ = tab.Close()
		_ = rpt.Close()
		_ = in.Close()
		_ = st.Close()
		return nil, err
	}
	return d, nil
}
