package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// runChild consumes o.Records records of its case, checking their order,
// and writes the count it received to o.Result.
func runChild(o Options) error {
	var consume func() (int, error)
	switch o.Child {
	case "msgq":
		mq := &ipc.MsgQueue{ID: o.MsgID}
		consume = func() (int, error) {
			buf := make([]byte, o.Size+8)
			for i := 0; i < o.Records; i++ {
				if _, err := mq.Receive(buf); err != nil {
					return i, err
				}
				if err := check(buf, i); err != nil { // buf holds mtype then the text: the same offsets as the record sent
					return i, err
				}
			}
			return o.Records, nil
		}
	case "socketpair":
		f := os.NewFile(3, "socket")
		consume = func() (int, error) {
			buf := make([]byte, o.Size)
			for i := 0; i < o.Records; i++ {
				if _, err := io.ReadFull(f, buf); err != nil {
					return i, err
				}
				if err := check(buf, i); err != nil {
					return i, err
				}
			}
			return o.Records, nil
		}
	default:
		key, err := ipc.ParseKey(o.Key)
		if err != nil {
			return err
		}
		q, err := shmq.Open(shmq.Options{Name: "QBENCH", Key: key, Capacity: o.Capacity, RecordSize: o.Size})
		if err != nil {
			return err
		}
		defer q.Close()
		batch := 1
		if o.Child == "m1-batched" {
			batch = o.Batch
		}
		consume = func() (int, error) {
			recs := make([]queue.Record, 0, batch)
			for i := 0; i < o.Records; {
				var err error
				recs, err = q.TakeBatch(recs[:0], batch, -1)
				if err != nil {
					return i, err
				}
				for _, r := range recs {
					if err := check(r.Data, i); err != nil {
						return i, err
					}
					i++
				}
				if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
					return i, err
				}
			}
			return o.Records, nil
		}
	}
	fmt.Println("ready")
	n, err := consume()
	if werr := os.WriteFile(o.Result, []byte(strconv.Itoa(n)), 0o600); werr != nil && err == nil {
		err = werr
	}
	return err
}

// check verifies the record's sequence number. The 8 bytes before it are
// msgq's mtype, so it sits at offset 8 of the record.
func check(b []byte, want int) error {
	if got := binary.LittleEndian.Uint64(b[8:]); got != uint64(want) {
		return fmt.Errorf("%w: got %d, want %d", errOrder, got, want)
	}
	return nil
}
