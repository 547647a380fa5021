package main

import "fmt"

// paths prints the directories of etc/m1.toml's [paths] the scripts need,
// as absolute paths, one NAME=PATH a line: the scripts must put pid files
// and logs where the daemons do, not where the shipped file puts them.
func (c *cli) paths() error {
	fmt.Fprintf(c.out, "run=%s\nlog=%s\n", c.cfg.Paths.Run, c.cfg.Paths.Log)
	return nil
}
