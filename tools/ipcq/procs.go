package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
)

// processes prints the suite's process names in start order, one a line:
// what the scripts start, stop (in reverse) and watch.
func (c *cli) processes() error {
	fmt.Fprintln(c.out, "dbx")
	for _, s := range c.cfg.Senders {
		fmt.Fprintln(c.out, s.Process())
	}
	for _, n := range []string{"dist", "sch", "tkm_files", "eai_lsnr"} {
		fmt.Fprintln(c.out, n)
	}
	return nil
}

// running succeeds when every named process is alive and in state running,
// waiting up to --wait for it: the scripts' way to know a start worked.
func (c *cli) running(names []string) error {
	deadline := time.Now().Add(c.wait)
	for {
		missing, err := c.notRunning(names)
		if err == nil && len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return err
			}
			return fmt.Errorf("not running: %s", strings.Join(missing, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *cli) notRunning(names []string) ([]string, error) {
	tab, err := queues.ProcTab(c.cfg, false, nil)
	if errors.Is(err, ipc.ErrNotExist) {
		return names, nil
	}
	if err != nil {
		return nil, fmt.Errorf("process table: %w", err)
	}
	defer tab.Close()
	var missing []string
	for _, n := range names {
		e, ok := tab.Lookup(n)
		if !ok || !e.Alive || e.State.String() != "running" {
			state := "absent"
			if ok {
				state = e.State.String()
				if !e.Alive {
					state = "dead"
				}
			}
			missing = append(missing, n+" ("+state+")")
		}
	}
	return missing, nil
}
