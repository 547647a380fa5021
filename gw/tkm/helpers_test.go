package tkm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/queue"
)

var laneNames = map[byte]string{'R': config.QueueDistR, 'S': config.QueueDistS, 'B': config.QueueDistB}

// home makes a test home with keys of its own, a fast spool poll; its queues and process table are
// removed at cleanup. The lanes keep their capacity of 190; what a test
// queues beyond it spills to their file parts.
func home(t testing.TB) (string, *config.Config) {
	t.Helper()
	dir := testhome.New(t, func(name, text string) string {
		if name != "m1.toml" {
			return text
		}
		return strings.Replace(text, `poll_interval = "2s"`, `poll_interval = "20ms"`, 1)
	})
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = queues.RemoveAll(cfg) })
	for _, n := range laneNames {
		if _, err := queues.Create(cfg, n); err != nil {
			t.Fatal(err)
		}
	}
	return dir, cfg
}

func openLanes(t testing.TB, cfg *config.Config) map[byte]queue.Queue {
	t.Helper()
	lanes := map[byte]queue.Queue{}
	for jc, n := range laneNames {
		q, err := queues.Open(cfg, n, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Close() })
		lanes[jc] = q
	}
	return lanes
}

// drain takes everything the lanes hold now, as dist would.
func drain(t testing.TB, cfg *config.Config) []msg.Message {
	t.Helper()
	var out []msg.Message
	for _, n := range laneNames {
		q, err := queues.OpenConsumer(cfg, n, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		for {
			recs, err := queue.GetBatch(q, 1000, 0)
			if len(recs) == 0 {
				if err != nil && err != queue.ErrEmpty {
					t.Fatal(err)
				}
				break
			}
			for _, r := range recs {
				m, err := msg.DecodeMessage(r)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, m)
			}
		}
		_ = q.Close()
	}
	return out
}

// bulk is a valid record for line i.
func bulk(prefix string, i int) msg.Bulk {
	cls := []byte{'R', 'S', 'B'}
	return msg.Bulk{ClientID: "BANK01", MsgKey: fmt.Sprintf("%s%08d", prefix, i), MsgType: 'S', JobClass: cls[i%3],
		Callback: "0215880000", Dest: "01012345678", Text: string(layout.MustEUCKR(fmt.Sprintf("정기 안내 %d번", i)))}
}

// writeFile writes a bulk file of raw lines into the spool and, when
// marker, its .done marker after it.
func writeFile(t testing.TB, spool, name string, lines [][]byte, marker bool) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	if err := os.WriteFile(filepath.Join(spool, name), b, 0o640); err != nil {
		t.Fatal(err)
	}
	if marker {
		if err := os.WriteFile(filepath.Join(spool, name+SuffixDone), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// resultLine is one parsed line of a result file.
type resultLine struct {
	line int
	key  string
	code int
	gwid string
}

func readResult(t testing.TB, path string) []resultLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []resultLine
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l == "" {
			continue
		}
		if len(l) != msg.BulkResultLen {
			t.Fatalf("result line %q: %d bytes", l, len(l))
		}
		var r resultLine
		fmt.Sscanf(l[:8], "%d", &r.line)
		r.key = strings.TrimRight(l[8:28], " ")
		fmt.Sscanf(l[28:32], "%d", &r.code)
		r.gwid = l[32:52]
		out = append(out, r)
	}
	return out
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// run starts a Tkm in this process; stopped at cleanup.
func run(t testing.TB, o Options) *Tkm {
	t.Helper()
	k, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := k.Main(); err != nil {
			t.Errorf("Main: %v", err)
		}
	}()
	t.Cleanup(func() { k.Exit(); wg.Wait() })
	return k
}

func child(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func nowFixed() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.Local) }
