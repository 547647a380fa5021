package tkm

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/queues"
)

// Process is tkm_files as cmd/tkm_files runs it: a Tkm with the lanes and
// the process table opened for it and closed after it stopped.
type Process struct {
	*Tkm
	closers *daemon.Closers
}

// FromEnv builds the tkm_files daemon from its configuration.
func FromEnv(env *daemon.Env) (daemon.Daemon, error) {
	cfg := env.Config.Get()
	log := env.Log.Logger
	p := &Process{closers: daemon.NewClosers("queues, duplicate index and process table", log)}
	fail := func(err error) (daemon.Daemon, error) {
		p.closers.Close()
		return nil, err
	}
	lanes, err := queues.OpenLanes(cfg, log, p.closers.Add)
	if err != nil {
		return fail(err)
	}
	// The index dist checks and records keys in; tkm_files only reads it.
	// A fresh home has no var/ yet.
	idxPath := cfg.Path(cfg.Listener.DupIndex)
	if err := os.MkdirAll(filepath.Dir(idxPath), 0o755); err != nil {
		return fail(fmt.Errorf("tkm_files: %w", err))
	}
	idx, err := dupindex.Open(dupindex.Options{Path: idxPath, Window: cfg.Timeouts.DuplicateWindow.D(), Logger: log})
	if err != nil {
		return fail(fmt.Errorf("tkm_files: duplicate index: %w", err))
	}
	p.closers.Add(idx.Close)
	tab, err := queues.ProcTab(cfg, true, log)
	if err != nil {
		return fail(fmt.Errorf("process table: %w", err))
	}
	p.closers.Add(tab.Close)
	t, err := New(Options{Config: cfg, Log: log, Lanes: lanes, Dup: idx, Table: tab, Node: cfg.GWIDNode(config.SlotTkmFiles)})
	if err != nil {
		return fail(err)
	}
	p.Tkm = t
	return p, nil
}

// Exit stops tkm_files, then closes what FromEnv opened.
func (p *Process) Exit() {
	p.Tkm.Exit()
	p.closers.Close()
}

// Main runs until Exit.
func (p *Process) Main() error {
	err := p.Tkm.Main()
	p.closers.Close()
	return err
}
