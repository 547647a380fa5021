package sim

import (
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/carrier"
)

func start(t *testing.T, cfg Config) *Sim {
	t.Helper()
	if cfg.Servers == nil {
		cfg.Servers = []Server{{Name: "KT1", Addr: "127.0.0.1:0", Dialect: carrier.KT},
			{Name: "SKT1", Addr: "127.0.0.1:0", Dialect: carrier.SKT}, {Name: "LG", Addr: "127.0.0.1:0", Dialect: carrier.LGRelay}}
	}
	cfg.Log = zaptest.NewLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBlastEveryDialect(t *testing.T) {
	s := start(t, Config{Mix: Mix{UnknownSub: 10, Expired: 10, Spam: 10}, ReportDelayMax: 5 * time.Millisecond})
	ctl, err := s.ServeControl("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, sv := range []struct {
		name string
		d    carrier.Dialect
	}{{"KT1", carrier.KT}, {"SKT1", carrier.SKT}, {"LG", carrier.LGRelay}} {
		res, err := Blast(s.Addr(sv.name), sv.d, "acct", 500, 32, true, 20*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", sv.name, err)
		}
		if res.Accepted != 500 || res.Reports != 500 {
			t.Fatalf("%s: %+v", sv.name, res)
		}
	}
	st, err := ControlStats(ctl)
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != 1500 || st.DupSubmits != 0 || st.Logins != 3 {
		t.Fatalf("stats %+v", st)
	}
	var reports uint64
	for _, n := range st.ReportsByCode {
		reports += n
	}
	if reports != 1500 || st.ReportsByCode["0000"] < 600 || st.ReportsByCode["3003"] == 0 {
		t.Fatalf("reports by code %v", st.ReportsByCode)
	}
	// Reports acked arrive asynchronously after the blast returns.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().ReportsAcked != 1500 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.ReportsAcked != 1500 || st.ReportsPending != 0 {
		t.Fatalf("acked %d pending %d", st.ReportsAcked, st.ReportsPending)
	}
	if line, err := Control(ctl, "RESET"); err != nil || line != "OK" {
		t.Fatalf("RESET: %q %v", line, err)
	}
	if st := s.Stats(); st.Received != 0 {
		t.Fatalf("after reset %+v", st)
	}
}

func TestThrottle(t *testing.T) {
	s := start(t, Config{TPS: 100})
	res, err := Blast(s.Addr("KT1"), carrier.KT, "acct", 300, 300, false, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 300 submits within at most 2 seconds' windows: at most 200 accepted.
	if res.Throttled == 0 || res.Accepted > 200 || res.Accepted+res.Throttled != 300 {
		t.Fatalf("%+v", res)
	}
}

func TestDuplicatesCounted(t *testing.T) {
	s := start(t, Config{})
	for _, ref := range []string{"1", "2", "1", "1", "3", "2"} {
		s.refs.add(ref)
	}
	st := s.Stats()
	if st.Unique != 3 || st.DupSubmits != 3 || st.DupMessages != 2 {
		t.Fatalf("%+v", st)
	}
}

func TestRandomDrops(t *testing.T) {
	s := start(t, Config{DropProb: 1})
	if _, err := Blast(s.Addr("SKT1"), carrier.SKT, "acct", 10, 10, false, 5*time.Second); err == nil {
		t.Fatal("blast through a link dropped at every submit succeeded")
	}
	if st := s.Stats(); st.Drops == 0 || st.Accepted != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestLoginRefused(t *testing.T) {
	s := start(t, Config{Accounts: map[string]string{"m1": "right"}})
	if _, err := Blast(s.Addr("LG"), carrier.LGRelay, "m1", 1, 1, false, 5*time.Second); err == nil {
		t.Fatal("login with a wrong password accepted")
	}
	if st := s.Stats(); st.LoginsRefused != 1 || st.Logins != 0 {
		t.Fatalf("%+v", st)
	}
}
