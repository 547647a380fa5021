// Command qbench measures M1's shared-memory queue between two processes
// beside the baselines it must beat, in one run on one machine: SysV message
// queues (msgsnd/msgrcv) and a Unix socket pair.
//
// Each case runs a producer (this process) and a consumer (this program
// started again with --child) for a fixed number of records, and times from
// the first put to the consumer's report that it received the last one.
// The table gives records/s and each case's ratio to msgq of the same
// record size; the last line is the summary for 1 KB records:
//
//	queue: single=<records/s> batched=<records/s> msgq=<records/s> single/msgq=<ratio> batched/msgq=<ratio>
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "qbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts := defaultOptions()
	fs := pflag.NewFlagSet("qbench", pflag.ContinueOnError)
	opts.bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	if opts.Child != "" {
		return runChild(opts)
	}
	return runBench(opts)
}
