package config

import (
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// repoHome is the checkout, whose etc/ is the shipped configuration.
func repoHome(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestShippedConfigLoads(t *testing.T) {
	home := repoHome(t)
	c, err := Load(home)
	if err != nil {
		t.Fatalf("shipped etc/ does not load:\n%v", err)
	}
	if got := len(c.Queues); got != 9 {
		t.Errorf("queues: got %d, want 9", got)
	}
	q, ok := c.Queue("DIST.R")
	if !ok || q.Capacity != 190 || q.Key.Value != 0x4d310001 || q.Full != FullSpill || !q.SaveOnStop {
		t.Errorf("DIST.R: %+v", q)
	}
	if want := filepath.Join(c.Home, "var/fileq/DIST.R"); q.FileDir != want {
		t.Errorf("DIST.R file_dir %q, want %q", q.FileDir, want)
	}
	if c.Database.Driver() != "sqlite" || c.Database.DSN != "sqlite:"+filepath.Join(c.Home, "var/m1.db") {
		t.Errorf("dsn %q", c.Database.DSN)
	}
	if len(c.Senders) != 4 {
		t.Fatalf("senders: %d", len(c.Senders))
	}
	if s, _ := c.Sender("SKT"); len(s.Servers) != 2 || s.Queue != "SND.SKT" || s.Process() != "sender.SKT" {
		t.Errorf("SKT: %+v", s)
	}
	if c.Timeouts.Report.D() != 72*time.Hour || c.Listener.SMSMax != 90 || c.Listener.LMSMax != 2000 {
		t.Errorf("timeouts/limits: %+v %+v", c.Timeouts, c.Listener)
	}
	if !c.Clients.Authenticate("DEMO01", "demo01") || c.Clients.Authenticate("DEMO01", "demo02") || c.Clients.Authenticate("NOBODY", "demo01") {
		t.Error("demo client passwords are not as documented")
	}
	if !c.Clients.Authenticate("BANK01", "bank01") || !c.Clients.Authenticate("DEMO02", "demo02") {
		t.Error("demo client passwords are not as documented")
	}
	if id, ok := c.Dedicated.Lookup(netip.MustParseAddr("127.0.0.1"), 9002); !ok || id != "BANK01" {
		t.Errorf("dedicated lookup: %q %v", id, ok)
	}
	if !c.Callbacks.Allowed("DEMO01", "0215880000") || c.Callbacks.Allowed("DEMO02", "0212345678") {
		t.Error("callbacks")
	}
	for dest, want := range map[string]string{"01012345678": "KT", "01112345678": "SKT", "01912345678": "LGT", "01055550000": "SKT", "01055550001": "KT", "01061234567": "LGT"} {
		if got := c.PNX.Carrier(dest); got != want {
			t.Errorf("PNX %s: %s, want %s", dest, got, want)
		}
	}
	for _, tc := range []struct {
		client, class, carrier, dest, want string
	}{
		{"DEMO01", "S", "KT", "01012345678", "kt"},
		{"BANK01", "R", "KT", "01012345678", "bank-realtime-kt"},
		{"BANK01", "S", "KT", "01012345678", "kt"},
		{"DEMO01", "B", "KT", "01012345678", "batch-kt-shared"},
		{"DEMO01", "S", "LGT", "01912345678", "lgt"},
		{"DEMO01", "S", "KT", "01099991234", "test-handsets"},
		{"BANK01", "R", "KT", "01099991234", "bank-realtime-kt"},
	} {
		r := c.Routes.Match(tc.client, tc.class, tc.carrier, tc.dest)
		if r == nil || r.Name != tc.want {
			t.Errorf("route %v: got %+v, want %s", tc, r, tc.want)
		}
	}
	r := c.Routes.Match("BANK01", "R", "KT", "01012345678")
	if len(r.Ratios) != 2 || r.Ratios[1] != (Ratio{"KT2", -1}) {
		t.Errorf("ratios %+v", r.Ratios)
	}
	if c.Log.LevelFor("dist") != "info" || c.Log.LevelFor("sender.KT1") != "info" {
		t.Error("levels")
	}
}
