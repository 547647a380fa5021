// Command sender is one carrier link: `sender --id KT1` runs the
// [[sender]] of etc/m1.toml with id KT1 as process sender.KT1
// (gw/sender, gw/daemon).
package main

import (
	"fmt"
	"os"

	flag "github.com/spf13/pflag"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/daemon"
	"github.com/m1gw/m1/gw/sender"
)

func main() {
	id := flag.String("id", "", "the [[sender]] id of etc/m1.toml (KT1, KT2, SKT, LG)")
	flag.Parse()
	if *id == "" {
		fmt.Fprintln(os.Stderr, "usage: sender --id ID")
		os.Exit(daemon.ExitConfig)
	}
	os.Exit(daemon.Main(config.SenderProcess(*id), sender.FromEnv(*id)))
}
