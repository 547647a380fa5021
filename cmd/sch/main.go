// Command sch is M1's T41 poller: it claims the T41 rows whose time has
// come and queues them to the distributor. See gw/sch.
package main

import (
	"os"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/sch"
)

func main() { os.Exit(daemon.Main("sch", sch.FromEnv)) }
