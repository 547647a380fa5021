package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/internal/testpg"
	"github.com/m1gw/m1/tools/carriersim/sim"
)

// size reads a message count from the environment.
func size(env string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return def
}

type scenario struct {
	db       string // sqlite or postgres
	messages int    // over TCP from the main client; the other intakes scale with it
	chaos    bool
	outage   time.Duration // database outage in the chaos run (postgres)
	kills    int           // processes killed in the chaos run
}

// TestEndToEnd runs the suite under load on SQLite and PostgreSQL and checks
// that every accepted message ends once, with a result and a REPORT.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := size("E2E_MESSAGES", 2000)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { run(t, scenario{db: db, messages: n}) })
	}
}

// TestChaos is the same while processes die by SIGKILL every 2 s (m1check
// brings them back), the database goes away once, a carrier link drops, KT
// center 1 is down past sender_down_reroute, and a queue segment is removed
// with ipcrm.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos")
	}
	n := size("CHAOS_MESSAGES", 1500)
	outage := 5 * time.Second
	kills := 6
	if n >= 10000 {
		// The full run: the database away 20 s, and a kill every 2 s for
		// about as long as the load lasts (≈ 100 TCP messages/s/connection).
		outage, kills = 20*time.Second, max(40, n/400)
	}
	run(t, scenario{db: "postgres", messages: n, chaos: true, outage: outage, kills: kills})
}

func run(t *testing.T, sc scenario) {
	var proxy *testpg.Proxy
	o := suiteOptions{}
	if sc.db == "postgres" {
		proxy = testpg.NewProxy(t, "127.0.0.1:5432")
		o.DSN = pgSchema(t, proxy.Addr)
	}
	s := newSuite(t, o)
	s.shorten()
	s.startSim()
	s.mustScript("m1start")
	st := s.store()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()

	pfx := randomPrefix()
	main := newClientSim(s.lsnr, "DEMO01", "demo01", "0215880000", 'S', pfx+"A")
	bank := newClientSim(s.bank, "BANK01", "bank01", "15881234", 'R', pfx+"B")
	nT41, nFuture, nSpool := sc.messages/2, sc.messages/20, sc.messages/4
	nMulti := sc.messages / 5

	start := time.Now()
	// MULTI_SUBMITs first, before any chaos: loadgen does not reconnect.
	multi, err := s.load(ctx, s.lsnr, "DEMO02", "demo02", "0215880000", "-c", "2", "-n", strconv.Itoa(nMulti),
		"--multi", "1", "--multi-dests", "5", "--report-wait", map[bool]string{true: "0s", false: "90s"}[sc.chaos])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: MULTI_SUBMIT client done: %d accepted, %d REPORTs", time.Since(start).Round(time.Millisecond), multi.accepted, multi.reports)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- main.run(ctx, sc.messages, min(8, 4+sc.messages/10000)) }()
	go func() { defer wg.Done(); errs <- bank.run(ctx, sc.messages/5, 1) }()
	s.mustTool("m1db", "t41", "-n", strconv.Itoa(nT41), "--future", strconv.Itoa(nFuture), "--future-in", "8s",
		"--prefix", pfx+"T", "--lms-every", "4")
	s.mustTool("m1db", "spool", "-n", strconv.Itoa(nSpool), "--prefix", pfx+"F")

	var chaos chaosLog
	if sc.chaos {
		chaos = s.chaos(ctx, sc, proxy)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%v: TCP clients done", time.Since(start).Round(time.Millisecond))
	if sc.chaos {
		// Whatever the last kill took down comes back, as cron would
		// bring it: m1check until every process runs.
		for i := 0; i < 10; i++ {
			time.Sleep(500 * time.Millisecond)
			s.script("m1check")
			if code, _ := s.script("m1status"); code == 0 {
				break
			}
		}
	}
	for _, c := range []*clientSim{main, bank} {
		if missing := c.waitReports(ctx, 3*time.Minute); missing > 0 {
			t.Errorf("%s: %d acknowledged messages without a REPORT", c.id, missing)
		}
	}
	t.Logf("%v: REPORTs in", time.Since(start).Round(time.Millisecond))
	mainAcked, mainUnsure, mainReports, mainRepeated := main.counts()
	bankAcked, bankUnsure, bankReports, bankRepeated := bank.counts()
	acked := mainAcked + bankAcked + multi.accepted
	total := acked + nT41 + nFuture + nSpool

	// Every acknowledged message ends with a result.
	wait := 4*time.Minute + time.Duration(sc.messages)*5*time.Millisecond
	deadline := time.Now().Add(wait)
	var k store.KeyCounts
	for {
		k, err = st.CountKeys(ctx)
		pending, _ := st.CountLog(ctx)
		due, _ := st.DueCount(ctx, time.Now())
		if err == nil && k.FinalKeys >= int64(total) && pending['3'] == 0 && due == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after %v: %d of %d messages final (%+v, %d awaiting a report, %d T41 rows due, err %v)",
				wait, k.FinalKeys, total, k, pending['3'], due, err)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(start)
	t.Logf("%v: all final", elapsed.Round(time.Millisecond))

	// Exactly the acknowledged listener messages, each by its GW_ID.
	lost := 0
	for _, c := range []*clientSim{main, bank} {
		c.mu.Lock()
		gwids := make([]string, 0, len(c.acked))
		for _, g := range c.acked {
			gwids = append(gwids, g)
		}
		c.mu.Unlock()
		for i := 0; i < len(gwids); i += 500 {
			rows, err := st.Log(ctx, gwids[i:min(i+500, len(gwids))])
			if err != nil {
				t.Fatal(err)
			}
			final := 0
			for _, r := range rows {
				if r.Status == '4' && r.ResultCode != "" {
					final++
				}
			}
			lost += min(i+500, len(gwids)) - i - final
		}
	}
	// The other intakes by their counts.
	rows, err := st.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[byte]int64{}
	carrierResults, dup1201 := int64(0), int64(0)
	for _, r := range rows {
		if r.Status == '4' {
			bySource[r.Source] += r.Count
		}
		if r.ResultCode == "1201" {
			dup1201 += r.Count
		}
		switch r.ResultCode {
		case "0000", "3001", "3002", "3003":
			carrierResults += r.Count
		}
	}
	if int(bySource['T']) < nT41+nFuture {
		lost += nT41 + nFuture - int(bySource['T'])
	}
	if int(bySource['F']) < nSpool {
		lost += nSpool - int(bySource['F'])
	}
	if int(bySource['L']) < acked {
		t.Errorf("T41_LOG holds %d final listener messages, %d were acknowledged", bySource['L'], acked)
	}
	if c, err := st.CountT41(ctx); err != nil || len(c) != 0 {
		t.Errorf("T41 not empty at the end: %v %v", c, err)
	}
	simSt := s.simStats()
	if int64(simSt.Unique) < carrierResults {
		t.Errorf("the simulator saw %d messages, %d have a carrier's result", simSt.Unique, carrierResults)
	}
	dupRows := k.Rows - k.Keys
	// A second copy of a message (a reclaimed T41 row, a resumed spool
	// file) ends 1201 beside its first: one extra row, one 1201 each. A
	// 1201 beyond those is a message whose only row says duplicate: it was
	// never sent, and counts as lost.
	if never := dup1201 - dupRows; never > 0 {
		t.Errorf("%d messages ended 1201 without a first copy: never sent", never)
		lost += int(never)
	}
	if multi.accepted > 0 && !sc.chaos && multi.reports < multi.accepted {
		t.Errorf("MULTI_SUBMIT client: %d REPORTs for %d accepted", multi.reports, multi.accepted)
	}
	t.Logf("accepted: TCP %d (+%d unsure after a resend), MULTI %d, T41 %d, spool %d; REPORTs %d (%d repeated); simulator: %d messages, %d received more than once (%d resubmits); T41_LOG: %d rows for %d keys",
		mainAcked+bankAcked, mainUnsure+bankUnsure, multi.accepted, nT41+nFuture, nSpool, mainReports+bankReports,
		mainRepeated+bankRepeated, simSt.Unique, simSt.DupMessages, simSt.DupSubmits, k.Rows, k.Keys)
	if sc.chaos {
		t.Logf("chaos: %s", chaos.String())
		// Duplicates toward carriers come only from records submitted and
		// not yet acknowledged when their sender died: a window each.
		bound := uint64(chaos.senderKills+chaos.drops+1) * 64
		if simSt.DupMessages > bound {
			t.Errorf("%d messages sent twice, more than %d (windows of the %d sender kills and %d drops)", simSt.DupMessages, bound, chaos.senderKills, chaos.drops)
		}
	} else if simSt.DupMessages > 0 || dupRows > 0 {
		t.Errorf("without faults: %d messages sent twice, %d duplicate T41_LOG rows", simSt.DupMessages, dupRows)
	}
	if lost > 0 {
		t.Errorf("%d acknowledged messages without a final result", lost)
	}
	name := "e2e"
	if sc.chaos {
		name = "chaos"
	}
	line := fmt.Sprintf("%s: messages=%d lost=%d duplicates=%d rate=%.0f", name, total, lost, int64(simSt.DupMessages)+dupRows,
		float64(total)/elapsed.Seconds())
	t.Log(line)
	fmt.Println(line)
}

// shorten sets the times the tests cannot wait for: a dead sch's rows are
// claimed again after 10 s, a dead sender's backlog goes elsewhere after 5 s.
func (s *suite) shorten() {
	s.t.Helper()
	path := s.home + "/etc/m1.toml"
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^reclaim_after = "5m"`).ReplaceAllString(string(b), `reclaim_after = "10s"`)
	text = regexp.MustCompile(`(?m)^sender_down_reroute = "60s"`).ReplaceAllString(text, `sender_down_reroute = "5s"`)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// chaosLog is what the chaos loop did.
type chaosLog struct {
	kills       []string
	senderKills int
	drops       int
	refused     string // the center held down past sender_down_reroute
	ipcrm       string
	outage      time.Duration
}

func (c chaosLog) String() string {
	return fmt.Sprintf("%d kills (%s), %d link drops, center down %s, removed %s, database away %v",
		len(c.kills), strings.Join(c.kills, " "), c.drops, c.refused, c.ipcrm, c.outage)
}

// chaos runs the faults while the load runs, and returns once they are done.
func (s *suite) chaos(ctx context.Context, sc scenario, proxy *testpg.Proxy) chaosLog {
	var log chaosLog
	for i := 0; i < sc.kills; i++ {
		select {
		case <-ctx.Done():
			return log
		case <-time.After(2 * time.Second):
		}
		pids := s.pids()
		names := make([]string, 0, len(pids))
		for n := range pids {
			names = append(names, n)
		}
		// The tick that removes DIST.S first kills its consumer, dist:
		// the worst case for a removed segment, which must then outlive
		// the removal (held by its producers) until the dist m1check
		// starts adopts and drains it (queue/spill).
		if i == 2 {
			names = names[:0]
			if _, ok := pids["dist"]; ok {
				names = append(names, "dist")
			}
		}
		if len(names) > 0 {
			n := names[rand.IntN(len(names))]
			if syscall.Kill(pids[n], syscall.SIGKILL) == nil {
				log.kills = append(log.kills, n)
				if strings.HasPrefix(n, "sender.") {
					log.senderKills++
				}
			}
		}
		switch i {
		case 1:
			if _, err := sim.Control(s.control, "DROP"); err == nil {
				log.drops++
			}
		case 2:
			if o, err := queues.Options(s.cfg, "DIST.S", false, nil); err == nil {
				if err := exec.Command("ipcrm", "-M", o.Shm.Key.String()).Run(); err == nil {
					log.ipcrm = "DIST.S"
				}
			}
		case 0:
			// KT center 1 down for longer than sender_down_reroute (5 s
			// here): sender.KT1 gives its queue up, dist routes the
			// backlog to KT2, and KT1 takes its queue back when the
			// center returns (gw/sender release.go).
			if _, err := sim.Control(s.control, "REFUSE KT1 8s"); err == nil {
				log.drops++
				log.refused = "KT1 8s"
			}
		case 3:
			if proxy != nil {
				proxy.Down()
				time.Sleep(sc.outage)
				proxy.Up()
				log.outage = sc.outage
			}
		}
		// cron's m1check, every tick here instead of every minute.
		s.script("m1check")
	}
	return log
}
