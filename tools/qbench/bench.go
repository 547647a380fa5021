package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue/shmq"
)

type result struct {
	cas   string
	size  int
	rate  float64
	extra string
}

func runBench(o Options) error {
	host, _ := os.Hostname()
	fmt.Printf("qbench: %d records per case, 2 processes, host %s, %d CPUs\n", o.Records, host, ncpu())
	var results []result
	for _, size := range o.Sizes {
		for _, c := range o.Cases {
			r, err := runCase(o, c, size)
			if err != nil {
				return fmt.Errorf("%s %dB: %w", c, size, err)
			}
			results = append(results, r)
			fmt.Printf("  %-11s %5d B  %12.0f records/s  %s\n", c, size, r.rate, r.extra)
		}
	}
	base := map[int]float64{}
	for _, r := range results {
		if r.cas == "msgq" {
			base[r.size] = r.rate
		}
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\trecord\trecords/s\tvs msgq\t")
	for _, r := range results {
		ratio := "-"
		if b := base[r.size]; b > 0 {
			ratio = fmt.Sprintf("%.2fx", r.rate/b)
		}
		fmt.Fprintf(tw, "%s\t%d B\t%.0f\t%s\t\n", r.cas, r.size, r.rate, ratio)
	}
	tw.Flush()
	get := func(c string) float64 {
		for _, r := range results {
			if r.cas == c && r.size == 1024 {
				return r.rate
			}
		}
		return 0
	}
	s, b, m := get("m1-single"), get("m1-batched"), get("msgq")
	if m > 0 {
		fmt.Printf("queue: single=%.0f batched=%.0f msgq=%.0f single/msgq=%.2f batched/msgq=%.2f\n", s, b, m, s/m, b/m)
	}
	return nil
}

func ncpu() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return set.Count()
	}
	return 0
}

// runCase prepares the channel, starts the consumer child, produces, and
// reads the child's elapsed time.
func runCase(o Options, c string, size int) (result, error) {
	dir, err := os.MkdirTemp("", "qbench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	resPath := filepath.Join(dir, "result")
	args := []string{"--child", c, "--size", strconv.Itoa(size), "--records", strconv.Itoa(o.Records),
		"--batch", strconv.Itoa(o.Batch), "--capacity", strconv.Itoa(o.Capacity), "--result", resPath}
	res := result{cas: c, size: size}
	var produce func() error
	var cleanup func()
	var extra []*os.File
	switch c {
	case "msgq":
		mq, err := ipc.CreateMsgQueue(o.MsgBytes)
		if err != nil {
			return res, err
		}
		cleanup = func() { _ = mq.Remove() }
		qb, _ := mq.Qbytes()
		res.extra = fmt.Sprintf("(queue of %d bytes = %d records)", qb, qb/size)
		args = append(args, "--msgid", strconv.Itoa(mq.ID))
		produce = func() error { return produceMsgq(mq, o, size) }
	case "socketpair":
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			return res, err
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
		cleanup = func() { mine.Close(); theirs.Close() }
		extra = []*os.File{theirs}
		produce = func() error { return produceSocket(mine, o, size) }
	default:
		key := ipc.Key(0x7f000000 | rand.Int32N(0xffffff))
		q, err := shmq.Open(shmq.Options{Name: "QBENCH", Key: key, Capacity: o.Capacity, RecordSize: size, Create: true})
		if err != nil {
			return res, err
		}
		cleanup = func() { _ = q.Close(); _ = shmq.Remove(key) }
		args = append(args, "--key", key.String())
		res.extra = fmt.Sprintf("(ring of %d slots)", o.Capacity)
		produce = func() error { return produceM1(q, o, size, c == "m1-batched") }
	}
	defer cleanup()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = extra
	ready, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	buf := make([]byte, 6)
	if _, err := ready.Read(buf); err != nil { // "ready\n"
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return res, fmt.Errorf("consumer did not start: %w", err)
	}
	start := time.Now()
	if err := produce(); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return res, err
	}
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("consumer: %w", err)
	}
	elapsed := time.Since(start)
	b, err := os.ReadFile(resPath)
	if err != nil {
		return res, err
	}
	if strings.TrimSpace(string(b)) != strconv.Itoa(o.Records) {
		return res, fmt.Errorf("consumer received %s records, %d were sent", b, o.Records)
	}
	res.rate = float64(o.Records) / elapsed.Seconds()
	return res, nil
}

func record(size int, n int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	b[0] = 1 // msgq mtype
	return b
}

func produceMsgq(mq *ipc.MsgQueue, o Options, size int) error {
	msg := record(size, 0)
	for i := 0; i < o.Records; i++ {
		binary.LittleEndian.PutUint64(msg[8:], uint64(i))
		if err := mq.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func produceSocket(f *os.File, o Options, size int) error {
	msg := record(size, 0)
	for i := 0; i < o.Records; i++ {
		binary.LittleEndian.PutUint64(msg[8:], uint64(i))
		if _, err := f.Write(msg); err != nil {
			return err
		}
	}
	return nil
}

func produceM1(q *shmq.Queue, o Options, size int, batched bool) error {
	if !batched {
		msg := record(size, 0)
		for i := 0; i < o.Records; i++ {
			binary.LittleEndian.PutUint64(msg[8:], uint64(i))
			if err := q.Put(msg, -1); err != nil {
				return err
			}
		}
		return nil
	}
	recs := make([][]byte, o.Batch)
	for i := range recs {
		recs[i] = record(size, i)
	}
	for i := 0; i < o.Records; {
		k := min(o.Batch, o.Records-i)
		for j := 0; j < k; j++ {
			binary.LittleEndian.PutUint64(recs[j][8:], uint64(i+j))
		}
		n, err := q.PutBatch(recs[:k], -1)
		if err != nil {
			return err
		}
		i += n
	}
	return nil
}

var errOrder = errors.New("records out of order")
