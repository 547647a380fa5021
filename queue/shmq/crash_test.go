package shmq

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
)

// Crash tests kill real processes with SIGKILL at random instants and then
// check the queue, in the manner of bbolt's. SHMQ_CRASH_ROUNDS sets the
// number of rounds of each (default 100); make chaos-queue runs more.

const crashCap, crashRec = 256, 128

func crashRounds() int {
	if n, err := strconv.Atoi(os.Getenv("SHMQ_CRASH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 100
}

// crashRecord is record n: n, then bytes derived from n, of a length
// derived from n, so that a torn or mixed-up record is seen.
func crashRecord(n uint64) []byte {
	b := make([]byte, 8+n%100)
	binary.LittleEndian.PutUint64(b, n)
	for i := 8; i < len(b); i++ {
		b[i] = byte(n*31 + uint64(i))
	}
	return b
}

func checkCrashRecord(b []byte) (uint64, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("record of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if want := crashRecord(n); string(want) != string(b) {
		return n, fmt.Errorf("record %d torn or mixed: %x", n, b)
	}
	return n, nil
}

// TestCrashChild is the body of the child processes; it does nothing in a
// normal run.
func TestCrashChild(t *testing.T) {
	role := os.Getenv("SHMQ_CHILD")
	if role == "" {
		t.Skip("child process of the crash tests")
	}
	key, _ := ipc.ParseKey(os.Getenv("SHMQ_KEY"))
	q, err := Open(Options{Name: "CRASH", Key: key, Capacity: crashCap, RecordSize: crashRec})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	out := bufio.NewWriterSize(os.Stdout, 64)
	switch role {
	case "producer":
		n, _ := strconv.ParseUint(os.Getenv("SHMQ_START"), 10, 64)
		for {
			k := 1 + rand.IntN(8)
			batch := make([][]byte, k)
			for i := range batch {
				batch[i] = crashRecord(n + uint64(i))
			}
			put, err := q.PutBatch(batch, -1)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
			// Acknowledged from here on.
			fmt.Fprintf(out, "a %d %d\n", n, put)
			out.Flush()
			n += uint64(put)
		}
	case "consumer":
		for {
			recs, err := q.TakeBatch(nil, 1+rand.IntN(16), time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
			for _, r := range recs {
				if _, err := checkCrashRecord(r.Data); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(5)
				}
			}
			last := recs[len(recs)-1].Pos
			// Work between take and commit, where a kill must not lose
			// anything.
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			if err := q.Commit(last); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
			fmt.Fprintf(out, "c %d\n", last)
			out.Flush()
		}
	}
}

// startChild runs a child role, collects its stdout lines, and kills it
// with SIGKILL after a random delay.
func startChild(t *testing.T, role string, key ipc.Key, env ...string) (lines func() []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), append(env, "SHMQ_CHILD="+role, "SHMQ_KEY="+key.String())...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			got = append(got, sc.Text())
			mu.Unlock()
		}
	}()
	time.Sleep(time.Duration(5+rand.IntN(40)) * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("%s child ended by itself (%v): %s", role, err, stderr.String())
	}
	return func() []string { mu.Lock(); defer mu.Unlock(); return got }
}

// Producers killed at random instants: every acknowledged record is in the
// queue, whole; no record is there twice; nobody is left blocked.
func TestCrashProducers(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	key := testKey(t)
	cons := openTest(t, key, crashCap, crashRec)
	var mu sync.Mutex
	seen := map[uint64]int{}
	var consErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the consumer drains all along, as dist would
		defer wg.Done()
		for {
			recs, err := cons.TakeBatch(nil, 64, 20*time.Millisecond)
			if errors.Is(err, queue.ErrEmpty) {
				select {
				case <-stop:
					return
				default:
					continue
				}
			}
			if err != nil {
				consErr = err
				return
			}
			mu.Lock()
			for _, r := range recs {
				n, err := checkCrashRecord(r.Data)
				if err != nil && consErr == nil {
					consErr = err
				}
				seen[n]++
			}
			mu.Unlock()
			if err := cons.Commit(recs[len(recs)-1].Pos); err != nil {
				consErr = err
				return
			}
		}
	}()
	acked := 0
	type span struct{ from, k uint64 }
	var ackedSpans []span
	next := uint64(0)
	for round := 0; round < crashRounds(); round++ {
		lines := startChild(t, "producer", key, fmt.Sprintf("SHMQ_START=%d", next))()
		for _, l := range lines {
			var from, k uint64
			if _, err := fmt.Sscanf(l, "a %d %d", &from, &k); err != nil {
				t.Fatalf("child said %q", l)
			}
			acked += int(k)
			ackedSpans = append(ackedSpans, span{from, k})
		}
		// Numbers of the next child start beyond anything this one may
		// have put without acknowledging it.
		next += 1 << 24
	}
	// Everything still in the ring reaches the consumer; then stop it.
	if err := cons.Put(crashRecord(1<<62), 2*time.Second); err != nil {
		t.Fatalf("queue blocked after the crashes: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for cons.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if consErr != nil {
		t.Fatal(consErr)
	}
	mu.Lock()
	defer mu.Unlock()
	for n, c := range seen {
		if c > 1 {
			t.Errorf("record %d delivered %d times", n, c)
		}
	}
	lost := 0
	for _, sp := range ackedSpans {
		for n := sp.from; n < sp.from+sp.k; n++ {
			if seen[n] == 0 {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d acknowledged records lost", lost)
	}
	if acked == 0 {
		t.Fatal("no child acknowledged anything: the test tested nothing")
	}
	v, err := cons.SemValues()
	if err != nil || v[semMutex] != 1 {
		t.Fatalf("mutex after the crashes = %v, %v; want 1", v, err)
	}
	t.Logf("%d rounds, %d records acknowledged", crashRounds(), acked)
}

// Consumers killed at random instants: nothing is lost, nothing committed is
// delivered again, and what a dead consumer took without committing comes
// again marked Redelivered.
func TestCrashConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	key := testKey(t)
	prod := openTest(t, key, crashCap, crashRec)
	total := uint64(0)
	fill := func() {
		for prod.Len() < crashCap {
			if err := prod.Put(crashRecord(total), 0); err != nil {
				t.Fatal(err)
			}
			total++
		}
	}
	maxReported := int64(-1)
	for round := 0; round < crashRounds(); round++ {
		fill()
		for _, l := range startChild(t, "consumer", key)() {
			var pos int64
			if _, err := fmt.Sscanf(l, "c %d", &pos); err != nil {
				t.Fatalf("child said %q", l)
			}
			if pos <= maxReported {
				t.Fatalf("position %d committed again after %d", pos, maxReported)
			}
			maxReported = pos
		}
	}
	// The last consumer: everything left is intact and in order, starting
	// after what the children committed, and ending at the tail.
	cons := openTest(t, key, crashCap, crashRec)
	st0, _ := cons.Stat()
	var first, expect uint64
	redelivered := 0
	for i := 0; ; i++ {
		r, err := cons.Take(0)
		if errors.Is(err, queue.ErrEmpty) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n, err := checkCrashRecord(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if n != r.Pos {
			t.Fatalf("position %d holds record %d", r.Pos, n)
		}
		if i == 0 {
			first = r.Pos
			expect = r.Pos
		}
		if r.Pos != expect {
			t.Fatalf("position %d after %d", r.Pos, expect-1)
		}
		expect++
		if r.Redelivered {
			redelivered++
		}
		if err := cons.Commit(r.Pos); err != nil {
			t.Fatal(err)
		}
	}
	if int64(first) <= maxReported && expect > first {
		t.Fatalf("record %d delivered after a child committed up to %d", first, maxReported)
	}
	if expect != total && !(expect == 0 && uint64(maxReported+1) <= total) {
		t.Fatalf("drained up to %d, %d were put", expect, total)
	}
	st, _ := cons.Stat()
	if st.Redelivered == 0 {
		t.Errorf("no redelivery in %d kills: the test did not catch a consumer between take and commit", crashRounds())
	}
	t.Logf("%d rounds: %d records, children committed up to %d, %d redelivered in all (%d at the end, header had head %d commit %d)",
		crashRounds(), total, maxReported, st.Redelivered, redelivered, st0.Head, st0.Commit)
}

// A producer killed while it holds the mutex blocks nobody.
func TestCrashMutexHolder(t *testing.T) {
	key := testKey(t)
	q := openTest(t, key, 8, 8)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "SHMQ_CHILD=holder", "SHMQ_KEY="+key.String())
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := out.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := q.Put([]byte("x"), 0); !errors.Is(err, queue.ErrFull) {
		t.Fatalf("put while another process holds the mutex: %v", err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if err := q.Put([]byte("x"), time.Second); err != nil {
		t.Fatalf("put after the holder was killed: %v", err)
	}
}

func init() {
	if os.Getenv("SHMQ_CHILD") == "holder" {
		key, _ := ipc.ParseKey(os.Getenv("SHMQ_KEY"))
		s, err := ipc.OpenSem(key, semCount)
		if err == nil {
			err = s.Op(-1, ipc.Sembuf{Num: semMutex, Op: -1, Flags: ipc.SemUndo})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Stdout.WriteString("held")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
}
