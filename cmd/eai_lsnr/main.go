// Command eai_lsnr is M1's client listener: PROTOCOL.md on the ports of
// etc/m1.toml [eai_lsnr]. See gw/lsnr.
package main

import (
	"os"

	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/lsnr"
)

func main() { os.Exit(daemon.Main("eai_lsnr", lsnr.FromEnv)) }
