package dupindex

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Child processes are this test binary run again with envRole naming what
// to do (in the manner of bbolt's and the standard library's tests).
const (
	envRole     = "DUPINDEX_CHILD"
	envPath     = "DUPINDEX_PATH"
	envGeometry = "DUPINDEX_GEOMETRY" // slots,probe,locks,windowSeconds
	envKeys     = "DUPINDEX_KEYS"     // first,count[,first,count...]
	envSeed     = "DUPINDEX_SEED"
	envClient   = "DUPINDEX_CLIENT"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func geometryEnv(g Geometry) string {
	return fmt.Sprintf("%d,%d,%d,%d", g.Slots, g.Probe, g.Locks, int64(g.Window/time.Second))
}

func optionsFromEnv() (Options, error) {
	var o Options
	f := strings.Split(os.Getenv(envGeometry), ",")
	if len(f) != 4 {
		return o, fmt.Errorf("bad %s %q", envGeometry, os.Getenv(envGeometry))
	}
	var n [4]uint64
	for i := range f {
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return o, err
		}
		n[i] = v
	}
	return Options{Path: os.Getenv(envPath), Capacity: n[0], Probe: uint32(n[1]), Locks: uint32(n[2]),
		Window: time.Duration(n[3]) * time.Second}, nil
}

// keyRanges decodes envKeys into the key numbers to insert, shuffled by
// envSeed so children contend on the same keys in different orders.
func keyRanges() ([]int, error) {
	f := strings.Split(os.Getenv(envKeys), ",")
	var keys []int
	for i := 0; i+1 < len(f); i += 2 {
		first, err1 := strconv.Atoi(f[i])
		count, err2 := strconv.Atoi(f[i+1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad %s %q", envKeys, os.Getenv(envKeys))
		}
		for k := first; k < first+count; k++ {
			keys = append(keys, k)
		}
	}
	seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	r := rand.New(rand.NewPCG(seed, 7))
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys, nil
}

func testKey(n int) string { return fmt.Sprintf("K%011d", n) }

// runChild runs one child role:
//
//	insert: wait for a line on stdin, insert the keys, print "W <key>" for
//	        each key it won, then "DONE".
//	crash:  print "READY", insert the keys, writing "I <key>" the moment
//	        each won insert returned, then wait to be killed.
//	bench:  wait for a line on stdin, insert the keys on benchClock,
//	        print "DONE".
func runChild(role string) error {
	o, err := optionsFromEnv()
	if err != nil {
		return err
	}
	keys, err := keyRanges()
	if err != nil {
		return err
	}
	client := os.Getenv(envClient)
	x, err := Open(o)
	if err != nil {
		return err
	}
	defer x.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch role {
	case "insert":
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil && err != io.EOF {
			return err
		}
		now := time.Now()
		for _, k := range keys {
			dup, err := x.CheckAndInsert(client, testKey(k), now)
			if err != nil {
				return err
			}
			if !dup {
				fmt.Fprintf(out, "W %s\n", testKey(k))
			}
		}
		fmt.Fprintln(out, "DONE")
		return nil
	case "bench":
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = testKey(k)
		}
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil && err != io.EOF {
			return err
		}
		for i, k := range names {
			if _, err := x.CheckAndInsert(client, k, benchClock(i)); err != nil {
				return err
			}
		}
		fmt.Fprintln(out, "DONE")
		return nil
	case "crash":
		// Unbuffered: a line is in the pipe before the next insert, so
		// the parent knows of every insert that returned before the kill
		// (save the one whose write the kill interrupted).
		os.Stdout.WriteString("READY\n")
		now := time.Now()
		line := make([]byte, 0, 64)
		for _, k := range keys {
			dup, err := x.CheckAndInsert(client, testKey(k), now)
			if err != nil {
				return err
			}
			if !dup {
				line = append(append(line[:0], "I "...), testKey(k)...)
				os.Stdout.Write(append(line, '\n'))
			}
		}
		os.Stdout.WriteString("END\n")
		time.Sleep(time.Hour) // wait for the kill (select{} would be reported as a deadlock)
	}
	return fmt.Errorf("unknown role %q", role)
}

// child is a started child process with its stdout lines collected.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startChild(t testing.TB, role, path string, g Geometry, client, keys string, seed int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRole+"="+role, envPath+"="+path, envGeometry+"="+geometryEnv(g),
		envKeys+"="+keys, envSeed+"="+strconv.Itoa(seed), envClient+"="+client)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() { // ends when the child's stdout closes; drained by the test
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			for range c.lines {
			}
			c.cmd.Wait()
		}
	})
	return c
}

// finish reads the child's lines until its stdout closes, then reaps it.
// Lines must be read before Wait, which closes the pipe.
func (c *child) finish() ([]string, error) {
	var lines []string
	for l := range c.lines {
		lines = append(lines, l)
	}
	return lines, c.cmd.Wait()
}
