package sch

import (
	"fmt"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
)

// Process is sch as cmd/sch runs it: a Sch with the lanes, the store and
// the process table opened for it and closed after it stopped.
type Process struct {
	*Sch
	closers *daemon.Closers
}

// FromEnv builds the sch daemon from its configuration: DIST.R/S/B through
// gw/queues, the store of [database], the process table, and DBX (only
// looked at: see Sch.dbxBehind).
func FromEnv(env *daemon.Env) (daemon.Daemon, error) {
	cfg := env.Config.Get()
	log := env.Log.Logger
	p := &Process{closers: daemon.NewClosers("queues, process table and store", log)}
	fail := func(err error) (daemon.Daemon, error) {
		p.closers.Close()
		return nil, err
	}
	lanes, err := queues.OpenLanes(cfg, log, p.closers.Add)
	if err != nil {
		return fail(err)
	}
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		return fail(fmt.Errorf("process table: %w", err))
	}
	p.closers.Add(tab.Close)
	st, err := store.Open(store.Options{DSN: cfg.Database.DSN, Logger: log})
	if err != nil {
		return fail(fmt.Errorf("store: %w", err))
	}
	p.closers.Add(st.Close)
	dbx, err := queues.Open(cfg, config.QueueDBX, log)
	if err != nil {
		return fail(fmt.Errorf("queue %s: %w", config.QueueDBX, err))
	}
	p.closers.Add(dbx.Close)
	s, err := New(Options{Config: cfg, Log: log, Store: st, Lanes: lanes, DBX: dbx, Table: tab, Node: cfg.GWIDNode(config.SlotSch)})
	if err != nil {
		return fail(err)
	}
	p.Sch = s
	return p, nil
}

// Exit stops sch, then closes what FromEnv opened.
func (p *Process) Exit() {
	p.Sch.Exit()
	p.closers.Close()
}

// Main polls until Exit.
func (p *Process) Main() error {
	err := p.Sch.Main()
	p.closers.Close()
	return err
}
