package sch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/internal/testpg"
	"github.com/m1gw/m1/queue"
)

func pgBaseDSN() string { return testpg.BaseDSN() }

// pgSchemaDSN is a DSN on a schema of the test's own (internal/testpg).
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	return testpg.SchemaDSN(t, "m1_sch_", "")
}

// eachDB runs fn on a fresh SQLite file and a fresh PostgreSQL schema.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "m1.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgSchemaDSN(t)) })
}

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	log := zap.NewNop()
	if tt, ok := t.(*testing.T); ok {
		log = zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel))
	}
	s, err := store.Open(store.Options{DSN: dsn, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// home makes a test home (keys of its own) with the given [sch] settings
// and removes its queues and process table at cleanup.
func home(t testing.TB, schSection string) (string, *config.Config) {
	t.Helper()
	dir := testhome.New(t, func(name, text string) string {
		if name != "m1.toml" || schSection == "" {
			return text
		}
		i := strings.Index(text, "[sch]")
		j := strings.Index(text[i:], "\n\n")
		return text[:i] + "[sch]\n" + schSection + text[i+j:]
	})
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = queues.RemoveAll(cfg) })
	// m1start creates the queues before any daemon starts.
	for _, n := range laneNames {
		if _, err := queues.Create(cfg, n); err != nil {
			t.Fatal(err)
		}
	}
	return dir, cfg
}

var laneNames = map[byte]string{'R': config.QueueDistR, 'S': config.QueueDistS, 'B': config.QueueDistB}

// openLanes opens the three lanes as a producer.
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

// got is one record a sink took.
type got struct {
	m    msg.Message
	at   time.Time
	lane string
}

// sink drains the three lanes as their consumer (dist's place). With a
// store it also applies an Accept per record, as dist and dbx would, so
// the T41 row leaves T41.
type sink struct {
	t     testing.TB
	st    *store.Store
	mu    sync.Mutex
	recs  []got
	stop  chan struct{}
	wg    sync.WaitGroup
	pause chan bool
}

func newSink(t testing.TB, cfg *config.Config, st *store.Store, paused bool) *sink {
	s := &sink{t: t, st: st, stop: make(chan struct{}), pause: make(chan bool, 1)}
	var qs []queue.Queue
	for _, n := range []string{config.QueueDistR, config.QueueDistS, config.QueueDistB} {
		q, err := queues.OpenConsumer(cfg, n, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	s.wg.Add(1)
	go s.drainLoop(qs, paused)
	t.Cleanup(s.close)
	return s
}

func (s *sink) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

func (s *sink) resume() { s.pause <- false }

func (s *sink) drainLoop(qs []queue.Queue, paused bool) {
	defer s.wg.Done()
	defer func() {
		for _, q := range qs {
			_ = q.Close()
		}
	}()
	var buf []queue.Record
	for {
		select {
		case <-s.stop:
			return
		case p := <-s.pause:
			paused = p
		default:
		}
		if paused {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		n := 0
		for _, q := range qs {
			var err error
			buf, err = q.TakeBatch(buf[:0], 1000, 0)
			if len(buf) == 0 {
				if err != nil && err != queue.ErrEmpty {
					s.t.Errorf("sink take %s: %v", q.Name(), err)
					return
				}
				continue
			}
			n += len(buf)
			now := time.Now()
			var evs []store.Event
			s.mu.Lock()
			for _, r := range buf {
				m, err := msg.DecodeMessage(r.Data)
				if err != nil {
					s.t.Errorf("sink: undecodable record: %v", err)
					continue
				}
				s.recs = append(s.recs, got{m: m, at: now, lane: q.Name()})
				evs = append(evs, store.Event{Kind: store.EventAccept, Message: store.Message{GWID: m.GWID,
					Source: m.Source, ClientID: m.ClientID, MsgKey: m.MsgKey, MsgSeq: int64(m.MsgSeq),
					MsgType: string(m.MsgType), JobClass: string(m.JobClass), AcceptTime: m.AcceptTime}})
			}
			s.mu.Unlock()
			if s.st != nil {
				for {
					_, err := s.st.ApplyEvents(context.Background(), evs)
					if err == nil {
						break
					}
					if !store.IsUnavailable(err) {
						s.t.Errorf("sink apply: %v", err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			if err := q.Commit(buf[len(buf)-1].Pos); err != nil {
				s.t.Errorf("sink commit: %v", err)
				return
			}
		}
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

func (s *sink) snapshot() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.recs...)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// waitFor polls cond until it holds or the time is up.
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

// dueRows makes n valid due rows, JOB_CLASS cycling R, S, B.
func dueRows(n int, prefix string, send time.Time) []store.T41Row {
	rows := make([]store.T41Row, n)
	cls := []string{"R", "S", "B"}
	for i := range rows {
		rows[i] = store.T41Row{ClientID: "BANK01", MsgKey: fmt.Sprintf("%s%08d", prefix, i), SendTime: store.FormatTime(send),
			MsgType: "S", JobClass: cls[i%3], Callback: "0215880000", Dest: "01012345678", Text: "입금 10,000원 잔액 1,000원"}
	}
	return rows
}

func insert(t testing.TB, st *store.Store, rows []store.T41Row) {
	t.Helper()
	for i := 0; i < len(rows); i += 1000 {
		if err := st.InsertT41(context.Background(), rows[i:min(i+1000, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
}

// runSch starts a Sch in this process; stopped at cleanup.
func runSch(t testing.TB, o Options) *Sch {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	t.Cleanup(func() {
		s.Exit()
		if err := <-done; err != nil {
			t.Errorf("Main: %v", err)
		}
	})
	return s
}

// child starts this test binary as a child process in the given role.
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
