package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/m1gw/m1/gw/config"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errUsage marks a command line that cannot be run.
var errUsage = errors.New("usage")

type cli struct {
	in       io.Reader
	out, err io.Writer
	home     string
	n        int
	yes      bool
	force    bool
	all      bool
	wait     time.Duration
	cfg      *config.Config
}

const usage = `usage: ipcq [--home DIR] COMMAND [ARGS]

  ls                      one line per configured queue
  stat NAME               the queue's header, semaphores and file part
  peek NAME [-n N]        the oldest N records (default 10), decoded where known
  dump NAME               every record, decoded and in hex
  mv SRC DST [-n N]       move N records (default all) from SRC to DST
  purge NAME [--yes]      drop every record of the ring (asks unless --yes)
  rm NAME [--force]       remove the ring's segment and semaphores
  rm --all [--yes]        remove every queue's ring and the process table
                          (refused while an M1 process runs)
  create [NAME...]        create configured queues that are missing (default all)
  save NAME DIR           move the ring's records into a file queue in DIR
  save NAME               move the ring's records into the queue's own file part
  save --all              the same for every queue with save_on_stop (m1stop does)
  load NAME DIR           move the records of a file queue in DIR into the queue
  ps                      the process table
  processes               the suite's process names in start order
  paths                   run= and log= directories of etc/m1.toml, for the scripts
  running NAME... [--wait D]  exit 0 when every NAME is alive and running (waits up to D)

M1_HOME (or --home) locates etc/. Exit codes: 0 ok, 1 error, 2 usage.
`

func run(args []string, in io.Reader, out, errw io.Writer) int {
	c := &cli{in: in, out: out, err: errw}
	fs := pflag.NewFlagSet("ipcq", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.home, "home", "", "M1 home (default: $M1_HOME, or the checkout)")
	fs.IntVarP(&c.n, "n", "n", 0, "number of records")
	fs.BoolVarP(&c.yes, "yes", "y", false, "do not ask")
	fs.BoolVar(&c.force, "force", false, "remove even with a live consumer")
	fs.BoolVar(&c.all, "all", false, "rm: every configured queue and the process table; save: every queue with save_on_stop")
	fs.DurationVar(&c.wait, "wait", 0, "running: how long to wait")
	fs.BoolP("help", "h", false, "help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(errw, "ipcq: %v\n%s", err, usage)
		return exitUsage
	}
	if h, _ := fs.GetBool("help"); h || fs.NArg() == 0 {
		fmt.Fprint(out, usage)
		if h {
			return exitOK
		}
		return exitUsage
	}
	err := c.dispatch(fs.Arg(0), fs.Args()[1:])
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(errw, "ipcq: %v\n%s", err, usage)
		return exitUsage
	default:
		fmt.Fprintf(errw, "ipcq: %v\n", err)
		return exitError
	}
}

func (c *cli) dispatch(cmd string, args []string) error {
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%w: %s takes %d argument(s), got %d", errUsage, cmd, n, len(args))
		}
		return nil
	}
	var err error
	switch cmd {
	case "ls", "ps", "processes", "paths":
		err = want(0)
	case "running":
		if len(args) == 0 {
			err = fmt.Errorf("%w: running needs process names", errUsage)
		}
	case "rm":
		if !c.all {
			err = want(1)
		} else {
			err = want(0)
		}
	case "stat", "peek", "dump", "purge":
		err = want(1)
	case "save":
		switch {
		case c.all:
			err = want(0)
		case len(args) != 1:
			err = want(2)
		}
	case "mv", "load":
		err = want(2)
	case "create":
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if err != nil {
		return err
	}
	if err := c.load(); err != nil {
		return err
	}
	switch cmd {
	case "ls":
		return c.ls()
	case "ps":
		return c.ps()
	case "processes":
		return c.processes()
	case "paths":
		return c.paths()
	case "running":
		return c.running(args)
	case "stat":
		return c.stat(args[0])
	case "peek":
		n := c.n
		if n <= 0 {
			n = 10
		}
		return c.peek(args[0], n, false)
	case "dump":
		return c.peek(args[0], 1<<30, true)
	case "mv":
		return c.mv(args[0], args[1])
	case "purge":
		return c.purge(args[0])
	case "rm":
		if c.all {
			return c.rmAll()
		}
		return c.rm(args[0])
	case "create":
		return c.create(args)
	case "save":
		switch {
		case c.all:
			return c.saveAll()
		case len(args) == 1:
			return c.saveOwn(args[0])
		}
		return c.save(args[0], args[1])
	case "load":
		return c.loadDir(args[0], args[1])
	}
	return nil
}

func (c *cli) load() error {
	home := c.home
	if home == "" {
		var err error
		if home, err = config.Home(); err != nil {
			return err
		}
	}
	cfg, err := config.Load(home)
	if err != nil {
		return fmt.Errorf("configuration of %s:\n%w", home, err)
	}
	c.cfg = cfg
	return nil
}

func (c *cli) confirm(question string) bool {
	if c.yes {
		return true
	}
	fmt.Fprintf(c.out, "%s [y/N] ", question)
	var answer string
	_, _ = fmt.Fscanln(c.in, &answer)
	return strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes")
}
