// Command m1db is the operator's and the demo's window on M1's database:
// insert T41 rows as a business system would, summarise what became of the
// messages, and wait until every accepted message has its final result.
//
//	m1db migrate                         create or upgrade the schema
//	m1db t41 -n N [--future K] [...]     insert N due rows (and K due later)
//	m1db spool -n N [...]                write a bulk file of N records into the spool
//	m1db summary                         T41 and T41_LOG, by intake, result and sender
//	m1db wait --final N [--timeout D]    until N messages are final and none waits
//
// The database is the one etc/m1.toml names (M1_HOME, or --home).
// Exit codes: 0 ok, 1 error, 2 usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command line that cannot be run.
var errUsage = errors.New("usage")

// Options are m1db's flags.
type Options struct {
	Home     string
	N        int
	Future   int
	FutureIn time.Duration
	Client   string
	Callback string
	Class    string
	LMSEvery int
	Prefix   string
	Final    int
	Timeout  time.Duration
}

const usage = `usage: m1db [--home DIR] COMMAND [flags]

  migrate                           create or upgrade the schema
  t41 -n N [--future K] [--future-in D] [--client ID] [--callback NUM] [--class R|S|B]
      [--lms-every M] [--prefix P]  insert N due T41 rows and K rows due after D
  spool -n N [--client ID] [--callback NUM] [--prefix P]
                                    write a bulk file of N records into the spool directory
  summary                           T41 and T41_LOG by intake, result and sender
  wait --final N [--timeout D]      wait until N messages are final and none is pending
`

func run(ctx context.Context, args []string, out, errw io.Writer) int {
	o := Options{N: 100, FutureIn: 20 * time.Second, Client: "BATCH01", Callback: "15881234", Class: "S",
		LMSEvery: 5, Prefix: fmt.Sprintf("T%d-", time.Now().Unix()%100000), Timeout: 2 * time.Minute}
	fs := pflag.NewFlagSet("m1db", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Home, "home", "", "M1 home")
	fs.IntVarP(&o.N, "n", "n", o.N, "t41: due rows")
	fs.IntVar(&o.Future, "future", 0, "t41: rows due later")
	fs.DurationVar(&o.FutureIn, "future-in", o.FutureIn, "t41: how much later")
	fs.StringVar(&o.Client, "client", o.Client, "t41: CLIENT_ID")
	fs.StringVar(&o.Callback, "callback", o.Callback, "t41: CALLBACK (registered for the client)")
	fs.StringVar(&o.Class, "class", o.Class, "t41: JOB_CLASS")
	fs.IntVar(&o.LMSEvery, "lms-every", o.LMSEvery, "t41: every M-th row is an LMS (0: none)")
	fs.StringVar(&o.Prefix, "prefix", o.Prefix, "t41: MSG_KEY prefix")
	fs.IntVar(&o.Final, "final", 0, "wait: messages that must be final")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "wait: how long")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintf(errw, "m1db: %v\n%s", err, usage)
		return 2
	}
	err := dispatch(ctx, fs.Arg(0), o, out)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(errw, "m1db: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(errw, "m1db: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, cmd string, o Options, out io.Writer) error {
	switch cmd {
	case "migrate", "t41", "spool", "summary", "wait":
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	home := o.Home
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
	if cmd == "spool" {
		return writeSpool(cfg, o, out)
	}
	s, err := store.Open(store.Options{DSN: cfg.Database.DSN})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	switch cmd {
	case "t41":
		return insertT41(ctx, s, o, out)
	case "summary":
		return summary(ctx, s, out)
	case "wait":
		if o.Final <= 0 {
			return fmt.Errorf("%w: wait needs --final N", errUsage)
		}
		return wait(ctx, s, o, out)
	}
	fmt.Fprintln(out, "schema up to date")
	return nil
}
