package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// Options of a run. The child fields are set by the parent only.
type Options struct {
	Records  int   // records per case
	Sizes    []int // record sizes, bytes
	Batch    int   // records per PutBatch/TakeBatch in the batched case
	Capacity int   // slots of the M1 queue
	MsgBytes int   // byte limit asked for the msgq baseline
	Cases    []string

	Child  string // case run by this process as the consumer
	Size   int
	Key    string
	MsgID  int
	Result string // path where the child writes its elapsed time
}

func defaultOptions() Options {
	return Options{
		Records:  1_000_000,
		Sizes:    []int{128, 1024},
		Batch:    64,
		Capacity: 4096,
		MsgBytes: 4 << 20,
		Cases:    []string{"msgq", "socketpair", "m1-single", "m1-batched"},
	}
}

func (o *Options) bind(fs *pflag.FlagSet) {
	fs.IntVarP(&o.Records, "records", "n", o.Records, "records per case")
	fs.IntSliceVar(&o.Sizes, "sizes", o.Sizes, "record sizes in bytes")
	fs.IntVar(&o.Batch, "batch", o.Batch, "records per batch in the batched case")
	fs.IntVar(&o.Capacity, "capacity", o.Capacity, "slots of the M1 queue")
	fs.IntVar(&o.MsgBytes, "msgq-bytes", o.MsgBytes, "byte limit asked for the msgq baseline (kept at kernel.msgmnb without CAP_SYS_RESOURCE)")
	fs.StringSliceVar(&o.Cases, "cases", o.Cases, "cases to run")
	fs.StringVar(&o.Child, "child", "", "internal: run as the consumer of this case")
	fs.IntVar(&o.Size, "size", 0, "internal")
	fs.StringVar(&o.Key, "key", "", "internal")
	fs.IntVar(&o.MsgID, "msgid", 0, "internal")
	fs.StringVar(&o.Result, "result", "", "internal")
	_ = fs.MarkHidden("child")
	_ = fs.MarkHidden("size")
	_ = fs.MarkHidden("key")
	_ = fs.MarkHidden("msgid")
	_ = fs.MarkHidden("result")
}

// Validate checks the options.
func (o *Options) Validate() error {
	if o.Records < 1 || o.Batch < 1 || o.Capacity < o.Batch {
		return fmt.Errorf("records, batch must be positive and capacity at least batch")
	}
	for _, s := range o.Sizes {
		if s < 16 || s > 8192 {
			return fmt.Errorf("record size %d out of 16..8192", s)
		}
	}
	for _, c := range o.Cases {
		switch c {
		case "msgq", "socketpair", "m1-single", "m1-batched":
		default:
			return fmt.Errorf("unknown case %q", c)
		}
	}
	return nil
}
