package tkm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/spill"
)

// crashRounds is how many times TestExactlyOnceAfterSIGKILL kills
// tkm_files: 8, or TKM_CRASH_ROUNDS.
func crashRounds() int {
	if v := os.Getenv("TKM_CRASH_ROUNDS"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
			return n
		}
	}
	return 8
}

// TestExactlyOnceAfterSIGKILL: a real tkm_files process is killed with
// SIGKILL again and again while it takes a bulk file, and started again; a
// test hook makes each batch wait a little after its put on each lane, so
// that many kills land between its puts and its result lines, some between
// two lanes' puts. Beside it a consumer stands in for
// dist on the real lanes: it records each record's key in a real
// duplicate index before it commits the lane record, sometimes lets
// records pile up (the rings fill and spill to their file parts), holds
// taken records uncommitted for a while, restarts without committing
// (records delivered again), and saves rings to their file parts.
//
// At the end, counted over every record the consumer committed: each
// GW_ID once, each MSG_KEY once, every record of the file there; the
// result file has one 0000 line per record naming the GW_ID the lane
// carried; and no record met its own key in the index (dist would have
// ended it 1201).
func TestExactlyOnceAfterSIGKILL(t *testing.T) {
	dir, cfg := home(t)
	spool := cfg.TkmFiles.SpoolDir
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	idxPath := filepath.Join(dir, "dup.idx")
	idx, err := dupindex.Open(testDupOptions(idxPath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	rounds := crashRounds()
	n := max(1500, rounds*150)
	var lines [][]byte
	for i := 1; i <= n; i++ {
		b := bulk("X", i)
		lines = append(lines, b.Encode(nil))
	}
	writeFile(t, spool, "big.dat", lines, true)
	resPath := filepath.Join(spool, "big.dat.result")
	pendPath := filepath.Join(spool, "big.dat.pending")
	donePath := filepath.Join(spool, DoneDir, "big.dat.result")
	const ll = msg.BulkResultLen + 1
	size := func() int64 {
		fi, err := os.Stat(resPath)
		if err != nil {
			return 0
		}
		return fi.Size()
	}

	fd := startFakeDist(t, cfg, idx)
	logPath := filepath.Join(dir, "tkm.log")
	env := []string{childEnv + "=1", "M1_HOME=" + dir, childDupEnv + "=" + idxPath, childLogEnv + "=" + logPath,
		childDelayEnv + "=2ms"}
	kills, inWindow := 0, 0
	for round := 0; round < rounds && !exists(donePath); round++ {
		c := child(t, env...)
		target := size() + int64(ll*(10+rand.IntN(120)))
		deadline := time.Now().Add(20 * time.Second)
		for size() < target && !exists(donePath) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(rand.N(4 * time.Millisecond))
		_ = c.Process.Kill()
		_ = c.Wait()
		kills++
		// Did the kill land between a journal and its result lines?
		if b, err := os.ReadFile(pendPath); err == nil {
			if jr, err := parseJournal(b); err == nil && int64(jr.last) > size()/ll {
				inWindow++
			}
		}
	}
	c := child(t, env...)
	waitFor(t, 60*time.Second, "file done", func() bool { return exists(donePath) })
	_ = c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		t.Errorf("last tkm_files: %v", err)
	}
	got := fd.drainAndStop(t)

	byID := map[string]int{}
	byKey := map[string]string{} // MSG_KEY -> GW_ID
	keyCopies := map[string]int{}
	for _, m := range got.committed {
		byID[m.gwid]++
		keyCopies[m.key]++
		byKey[m.key] = m.gwid
	}
	for id, c := range byID {
		if c != 1 {
			t.Errorf("GW_ID %s committed %d times", id, c)
		}
	}
	dupKeys := 0
	for k, c := range keyCopies {
		if c != 1 {
			dupKeys++
			t.Errorf("MSG_KEY %s queued %d times", k, c)
		}
	}
	if len(keyCopies) != n {
		t.Errorf("%d distinct MSG_KEYs queued, want %d", len(keyCopies), n)
	}
	if got.dups != 0 {
		t.Errorf("%d records met their key in the duplicate index on first delivery (dist: 1201)", got.dups)
	}
	res := readResult(t, donePath)
	if len(res) != n {
		t.Fatalf("%d result lines, want %d", len(res), n)
	}
	for i, r := range res {
		want := bulk("X", i+1).MsgKey
		if r.line != i+1 || r.code != 0 || r.key != want {
			t.Fatalf("result line %d: %+v", i+1, r)
		}
		if byKey[r.key] != r.gwid {
			t.Fatalf("line %d: result GW_ID %s, the lane carried %q", r.line, r.gwid, byKey[r.key])
		}
	}
	rs := resumeFigures(t, logPath)
	t.Logf("%d records, %d SIGKILLs, %d of them between a batch's journal and its result lines; "+
		"consumer: %d committed, %d restarts without commit, %d ring saves; duplicates: %d GW_IDs, %d MSG_KEYs, %d index hits",
		n, kills, inWindow, len(got.committed), got.restarts, got.saves, len(byID)-countOnce(byID), dupKeys, got.dups)
	t.Logf("resumes: %d; interrupted-batch records found queued %d (in the lanes %d, in the duplicate index %d, by put order %d), put at resume %d",
		rs.resumes, rs.before, rs.inLanes, rs.inIndex, rs.before-rs.inLanes-rs.inIndex, rs.now)
}

func countOnce(m map[string]int) int {
	k := 0
	for _, c := range m {
		if c == 1 {
			k++
		}
	}
	return k
}

// figures are the resume lines of the children's logs, summed.
type figures struct{ resumes, before, now, inLanes, inIndex int }

func resumeFigures(t *testing.T, path string) figures {
	t.Helper()
	var f figures
	fh, err := os.Open(path)
	if err != nil {
		return f
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg     string `json:"msg"`
			Before  int    `json:"queued_before"`
			Now     int    `json:"to_queue_now"`
			InLanes int    `json:"found_in_lanes"`
			InIndex int    `json:"found_in_dup_index"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.HasPrefix(l.Msg, "resuming a batch interrupted") {
			continue
		}
		f.resumes++
		f.before += l.Before
		f.now += l.Now
		f.inLanes += l.InLanes
		f.inIndex += l.InIndex
	}
	return f
}

// fakeDist stands in for dist on the lanes: take, record the key in the
// duplicate index, commit; with pauses, uncommitted holds, restarts and
// saves at random.
type fakeDist struct {
	cfg  *config.Config
	idx  *dupindex.Index
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	result fakeResult
}

type fakeRec struct{ gwid, key string }

type fakeResult struct {
	committed       []fakeRec
	dups            int // a key found on a first delivery
	restarts, saves int
}

func startFakeDist(t *testing.T, cfg *config.Config, idx *dupindex.Index) *fakeDist {
	d := &fakeDist{cfg: cfg, idx: idx, stop: make(chan struct{})}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.runLoop(t)
	}()
	t.Cleanup(func() {
		select {
		case <-d.stop:
		default:
			close(d.stop)
		}
		d.wg.Wait()
	})
	return d
}

func (d *fakeDist) openLanes(t *testing.T) []*spill.Queue {
	var qs []*spill.Queue
	for _, n := range []string{config.QueueDistR, config.QueueDistS, config.QueueDistB} {
		q, err := queues.OpenConsumer(d.cfg, n, zap.NewNop())
		if err != nil {
			t.Errorf("fake dist: %v", err)
			return qs
		}
		qs = append(qs, q)
	}
	return qs
}

func (d *fakeDist) runLoop(t *testing.T) {
	qs := d.openLanes(t)
	defer func() {
		for _, q := range qs {
			_ = q.Close()
		}
	}()
	var buf []queue.Record
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		if rand.IntN(100) < 15 {
			time.Sleep(rand.N(40 * time.Millisecond)) // let the lanes fill
		}
		took := 0
		for _, q := range qs {
			recs, err := q.TakeBatch(buf[:0], 1+rand.IntN(60), 0)
			buf = recs
			if len(recs) == 0 {
				if err != nil && err != queue.ErrEmpty {
					t.Errorf("fake dist: take %s: %v", q.Name(), err)
					return
				}
				continue
			}
			took += len(recs)
			var these []fakeRec
			dups := 0
			for _, r := range recs {
				m, err := msg.DecodeMessage(r.Data)
				if err != nil {
					t.Errorf("fake dist: %v", err)
					return
				}
				dup, err := d.idx.CheckAndInsert(m.ClientID, m.MsgKey, time.Now())
				if err != nil {
					t.Errorf("fake dist: index: %v", err)
					return
				}
				if dup && !r.Redelivered {
					dups++
				}
				these = append(these, fakeRec{gwid: m.GWID, key: m.MsgKey})
			}
			if rand.IntN(100) < 10 {
				time.Sleep(rand.N(5 * time.Millisecond)) // keys recorded, lane not committed
			}
			if rand.IntN(100) < 2 {
				// dist dies before its commit: the next one gets them again.
				for _, q := range qs {
					_ = q.Close()
				}
				qs = d.openLanes(t)
				d.mu.Lock()
				d.result.restarts++
				d.mu.Unlock()
				break
			}
			if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
				t.Errorf("fake dist: commit %s: %v", q.Name(), err)
				return
			}
			d.mu.Lock()
			d.result.committed = append(d.result.committed, these...)
			d.result.dups += dups
			d.mu.Unlock()
		}
		if len(qs) == 3 && rand.IntN(100) < 2 {
			if _, err := qs[rand.IntN(3)].Save(); err != nil {
				t.Errorf("fake dist: save: %v", err)
				return
			}
			d.mu.Lock()
			d.result.saves++
			d.mu.Unlock()
		}
		if took == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// drainAndStop waits until the lanes are empty, stops the consumer and
// returns what it did.
func (d *fakeDist) drainAndStop(t *testing.T) fakeResult {
	t.Helper()
	lanes := openLanes(t, d.cfg)
	waitFor(t, 60*time.Second, "lanes drained", func() bool {
		for _, q := range lanes {
			if q.Len() != 0 {
				return false
			}
		}
		return true
	})
	close(d.stop)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.result
}
