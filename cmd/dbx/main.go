// Command dbx is M1's history writer; see gw/dbx.
package main

import (
	"os"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/dbx"
)

func main() { os.Exit(daemon.Main("dbx", dbx.FromEnv)) }
