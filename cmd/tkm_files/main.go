// Command tkm_files is M1's bulk file intake: it queues the records of the
// files dropped into the spool directory. See gw/tkm and docs/SPOOL.md.
package main

import (
	"os"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/tkm"
)

func main() { os.Exit(daemon.Main("tkm_files", tkm.FromEnv)) }
