package fileq

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
)

// Child roles, selected by FILEQ_TEST_CHILD in the environment of a
// re-executed test binary (see TestMain):
//
//	producer  FILEQ_GOROUTINES goroutines each Put numbered records (producer
//	          id FILEQ_PRODUCER+g), printing "g n" once Put returned; forever,
//	          or FILEQ_COUNT records each.
//	consumer  TakeBatch/Commit until empty, printing "T pos producer n redelivered"
//	          for each record taken and "C pos" once Commit returned.
//	holdconsumer  open as consumer, print "ready", and wait to be killed.
//	diskfull  with RLIMIT_FSIZE = FILEQ_FSIZE and SIGXFSZ ignored, Put until
//	          the disk is full, printing "A n" per acknowledged record and then
//	          "FULL <error>".
func runChild(role string) int {
	dir := os.Getenv("FILEQ_DIR")
	dur, _ := ParseDurability(os.Getenv("FILEQ_DURABILITY"))
	seg, _ := strconv.ParseInt(os.Getenv("FILEQ_SEGMENT"), 10, 64)
	opts := Options{Name: "CHILD", RecordSize: 1024, Durability: dur, SegmentSize: seg}
	out := os.Stdout
	switch role {
	case "producer":
		gs := envInt("FILEQ_GOROUTINES", 1)
		base := envInt("FILEQ_PRODUCER", 0)
		count := envInt("FILEQ_COUNT", 0)
		size := envInt("FILEQ_SIZE", 100)
		q, err := Open(dir, opts, zap.NewNop())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var wg sync.WaitGroup
		for g := range gs {
			wg.Go(func() {
				for n := 0; count == 0 || n < count; n++ {
					if err := q.Put(rec(uint64(base+g), uint64(n), size), 0); err != nil {
						fmt.Fprintln(os.Stderr, err)
						return
					}
					out.WriteString(fmt.Sprintf("%d %d\n", g, n))
				}
			})
		}
		wg.Wait()
		return 0
	case "consumer":
		opts.Consumer = true
		q, err := Open(dir, opts, zap.NewNop())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for i := 0; ; i++ {
			recs, err := q.TakeBatch(nil, 1+i%7, 50*time.Millisecond)
			if errors.Is(err, queue.ErrEmpty) {
				out.WriteString("E\n")
				return 0
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			for _, r := range recs {
				p, n := parseRecChild(r.Data)
				red := 0
				if r.Redelivered {
					red = 1
				}
				out.WriteString(fmt.Sprintf("T %d %d %d %d\n", r.Pos, p, n, red))
			}
			last := recs[len(recs)-1].Pos
			if err := q.Commit(last); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			out.WriteString(fmt.Sprintf("C %d\n", last))
		}
	case "holdconsumer":
		opts.Consumer = true
		if _, err := Open(dir, opts, zap.NewNop()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out.WriteString("ready\n")
		select {}
	case "diskfull":
		signal.Ignore(syscall.SIGXFSZ)
		lim := uint64(envInt("FILEQ_FSIZE", 1<<20))
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		q, err := Open(dir, opts, zap.NewNop())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for n := 0; ; n++ {
			k, err := q.PutBatch([][]byte{rec(7, uint64(2*n), 300), rec(7, uint64(2*n+1), 300)}, 0)
			for i := range k {
				out.WriteString(fmt.Sprintf("A %d\n", 2*n+i))
			}
			if err != nil {
				if !errors.Is(err, ErrDiskFull) || !errors.Is(err, queue.ErrFull) {
					fmt.Fprintln(os.Stderr, "not ErrDiskFull:", err)
					return 1
				}
				out.WriteString(fmt.Sprintf("FULL %v\n", err))
				// A second try fails the same way and loses nothing.
				if err := q.Put(rec(7, 1<<40, 300), 0); !errors.Is(err, ErrDiskFull) {
					fmt.Fprintln(os.Stderr, "second put:", err)
					return 1
				}
				q.Close()
				return 0
			}
		}
	}
	fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
	return 2
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func parseRecChild(b []byte) (p, n uint64) {
	if len(b) < 16 {
		return 0, 0
	}
	return le.Uint64(b), le.Uint64(b[8:])
}

// child is a running re-executed test binary whose stdout lines are
// collected.
type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startChild(t testing.TB, role string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
		cmd.Wait()
	})
	return c
}

func (c *child) nlines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// kill sends SIGKILL and returns the complete lines the child printed.
func (c *child) kill() []string {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	c.cmd.Wait()
	return c.lines
}

// wait waits for the child to exit and returns its lines.
func (c *child) wait(t testing.TB) []string {
	t.Helper()
	<-c.done
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	return c.lines
}
