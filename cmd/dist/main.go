// Command dist is M1's distributor (분배기); see gw/dist.
package main

import (
	"os"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/dist"
)

func main() { os.Exit(daemon.Main("dist", dist.FromEnv)) }
