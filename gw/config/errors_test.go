package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyHome copies the shipped etc/ into a temporary home and applies edits
// (file → function of its text).
func copyHome(t *testing.T, edits map[string]func(string) string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(repoHome(t), "etc")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if f := edits["etc/"+e.Name()]; f != nil {
			s = f(s)
		}
		if err := os.WriteFile(filepath.Join(home, "etc", e.Name()), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit: text not found: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// lineOf returns the 1-based line of the first line of s containing sub.
func lineOf(t *testing.T, home, file, sub string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, sub)
	return 0
}

func TestErrorsNameFileLineSetting(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string
		edit     func(string) string
		lineWith string // the error's line contains this text ("" = line 0)
		setting  string
		msg      string
	}{
		{"syntax", "etc/m1.toml", replace(`capacity = 190`, `capacity = = 190`), "capacity = = 190", "queue.capacity", "expected value"},
		{"type", "etc/m1.toml", replace(`sms_max       = 90`, `sms_max       = "ninety"`), `sms_max       = "ninety"`, "eai_lsnr.sms_max", ""},
		{"bad duration", "etc/m1.toml", replace(`report              = "72h"`, `report              = "three days"`), `"three days"`, "timeouts.report", "duration"},
		{"brake fill", "etc/m1.toml", replace(`brake_dbx_fill = 40 `, `brake_dbx_fill = 140 `), "brake_dbx_fill = 140", "eai_lsnr.brake_dbx_fill", "0 to 100"},
		{"brake wait", "etc/m1.toml", replace(`brake_wait     = "1s"`, `brake_wait     = "30s"`), `brake_wait     = "30s"`, "eai_lsnr.brake_wait", "0 (off) to 5s"},
		{"window not whole seconds", "etc/m1.toml", replace(`duplicate_window    = "24h"`, `duplicate_window    = "1500ms"`), `duplicate_window    = "1500ms"`, "timeouts.duplicate_window", "whole seconds"},
		{"unknown key", "etc/m1.toml", replace(`record_size = 256`, `record_size = 256`+"\ncapacty = 5"), "capacty = 5", "queue.capacty", "unknown setting"},
		{"unknown table", "etc/m1.toml", replace(`[dbx]`, "[dbxx]\nfetch_count = 5\n[dbx]"), "fetch_count = 5", "dbxx.fetch_count", "unknown setting"},
		{"semantic in array", "etc/m1.toml", replace("name = \"DIST.B\"          # batch lane (XCN_batch): bulk\nkey = \"0x4d310003\"\ncapacity = 190", "name = \"DIST.B\"\nkey = \"0x4d310003\"\ncapacity = -5 # here"), "capacity = -5 # here", "queue.capacity", "DIST.B"},
		{"bad policy", "etc/m1.toml", replace(`full = "reject"`+"", `full = "reject"`), "", "", ""}, // placeholder replaced below
		{"duplicate key", "etc/m1.toml", replace(`key = "0x4d310012"`, `key = "0x4d310011" # dup`), `# dup`, "queue.key", "SND.KT1"},
		{"absent setting", "etc/m1.toml", replace("[[sender]]\nid = \"LG\"\ncarrier = \"LGT\"\ndialect = \"lgrelay\"      # LG U+ reached through a relay (중계사)\nservers = [\"127.0.0.1:17201\"]", "[[sender]] # LG here\nid = \"LG\"\ncarrier = \"LGT\"\ndialect = \"lgrelay\""), `# LG here`, "sender.servers", "LG"},
		{"sender table", "etc/m1.toml", replace(`dialect = "lgrelay"`, `dialect = "lg relay"`), `dialect = "lg relay"`, "sender.dialect", "LG"},
		{"levels", "etc/m1.toml", replace(`dist = "info"`, `dsit = "info"`), `dsit = "info"`, "log.levels.dsit", "no such process"},
		{"listener port", "etc/m1.toml", replace(`mode = "dedicated"`, `mode = "private"`), `mode = "private"`, "eai_lsnr.port.mode", "private"},
		{"plain password", "etc/clients.toml", replace(`password = "pbkdf2-sha256$100000$V+Fs`, `password = "demo02" # was pbkdf2-sha256$100000$V+Fs`), `password = "demo02"`, "client.password", "m1passwd"},
		{"route sender", "etc/routes.toml", replace(`senders = "SKT=1"`, `senders = "SKT1=1"`), `senders = "SKT1=1"`, "route.senders", "SKT1"},
		{"route ratio", "etc/routes.toml", replace(`senders = "KT1=3, KT2=1"`, `senders = "KT1=3, KT2=-2"`), `senders = "KT1=3, KT2=-2"`, "route.senders", "KT2=-2"},
		{"route catch-all", "etc/routes.toml", replace(`carrier = "LGT"`, `carrier = "LGT"`+"\nclass = \"R\""), "", "route", "carrier LGT"},
		{"dedicated", "etc/dedicated.conf", replace(`127.0.0.1      9002    BANK01`, `127.0.0.1      90o2    BANK01`), "90o2", "server port", "90o2"},
		{"dedicated port", "etc/dedicated.conf", replace(`127.0.0.1      9002    BANK01`, `127.0.0.1      9001    BANK01`), "9001", "server port", "not a dedicated port"},
		{"dedicated client", "etc/dedicated.conf", replace(`127.0.0.1      9002    BANK01`, `127.0.0.1      9002    BANK02`), "BANK02", "client ID", "clients.toml"},
		{"callbacks", "etc/callbacks.conf", replace(`0215880000 0212345678`, `02-1588-0000`), "02-1588-0000", "callback number", "digits"},
		{"pnx", "etc/pnx.conf", replace(`019          LGT`, `019          LGU`), "LGU", "carrier", "LGU"},
		{"pnx default", "etc/pnx.conf", replace(`default      KT`, ``), "", "default", "missing"},
	} {
		if tc.name == "bad policy" {
			tc.edit = replace(`full = "block"           # a full sender`, `full = "wait"           # a full sender`)
			tc.lineWith, tc.setting, tc.msg = `full = "wait"`, "queue.full", "SND.KT1"
		}
		t.Run(tc.name, func(t *testing.T) {
			home := copyHome(t, map[string]func(string) string{tc.file: tc.edit})
			_, err := Load(home)
			if err == nil {
				t.Fatal("loaded")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("not an *Error: %T %v", err, err)
			}
			want := 0
			if tc.lineWith != "" {
				want = lineOf(t, home, tc.file, tc.lineWith)
			}
			if ce.File != tc.file || ce.Line != want || ce.Setting != tc.setting || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got %q (file %q line %d setting %q), want %s:%d setting %q msg containing %q\nall:\n%v",
					ce.Error(), ce.File, ce.Line, ce.Setting, tc.file, want, tc.setting, tc.msg, err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	home := copyHome(t, nil)
	if err := os.Remove(filepath.Join(home, "etc/pnx.conf")); err != nil {
		t.Fatal(err)
	}
	_, err := Load(home)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "etc/pnx.conf" || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestAllErrorsReported(t *testing.T) {
	home := copyHome(t, map[string]func(string) string{
		"etc/m1.toml":      replace(`fetch_count    = 5000`, `fetch_count    = 0`),
		"etc/pnx.conf":     replace(`016          KT`, `016          XX`),
		"etc/clients.toml": replace(`tps = 500`, `tps = -1`),
	})
	_, err := Load(home)
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

// TestDefaults loads a minimal m1.toml: everything left out takes its
// documented default, and the standard queues appear.
func TestDefaults(t *testing.T) {
	home := copyHome(t, map[string]func(string) string{
		"etc/m1.toml": func(string) string {
			return `
[[eai_lsnr.port]]
listen = "127.0.0.1:9001"
mode = "shared"
[[eai_lsnr.port]]
listen = "127.0.0.1:9002"
mode = "dedicated"
[[sender]]
id = "KT1"
carrier = "KT"
dialect = "kt"
servers = ["127.0.0.1:1"]
[[sender]]
id = "KT2"
carrier = "KT"
dialect = "kt"
servers = ["127.0.0.1:2"]
[[sender]]
id = "SKT"
carrier = "SKT"
dialect = "skt"
servers = ["127.0.0.1:3"]
[[sender]]
id = "LG"
carrier = "LGT"
dialect = "lgrelay"
servers = ["127.0.0.1:4"]
[[queue]]
name = "DBX"
full = "spill"
`
		},
	})
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.Paths.Log != filepath.Join(home, "log") || c.Paths.Run != filepath.Join(home, "var/run") {
		t.Errorf("paths %+v", c.Paths)
	}
	if c.Log.Format != "json" || c.Log.Level != "info" || c.Timeouts.Report.String() != "72h0m0s" || c.Timeouts.DuplicateWindow.String() != "24h0m0s" {
		t.Errorf("defaults: %+v %+v", c.Log, c.Timeouts)
	}
	if c.Listener.BindTimeout.String() != "10s" || c.Listener.LinkInterval.String() != "30s" || c.Listener.IdleTimeout.String() != "1m30s" {
		t.Errorf("listener timers %+v", c.Listener)
	}
	if c.Listener.BrakeDBXFill != 40 || c.Listener.BrakeWait.String() != "1s" {
		t.Errorf("intake brake %d %s", c.Listener.BrakeDBXFill, c.Listener.BrakeWait)
	}
	if len(c.Queues) != 9 {
		t.Fatalf("queues %d", len(c.Queues))
	}
	d, _ := c.Queue("DBX")
	if d.Full != FullSpill || d.Key.Value != 0x4d310021 || d.Capacity != DefaultDBXCapacity || d.RecordSize != 2400 || d.Durability != DurGroup {
		t.Errorf("DBX %+v", d)
	}
	if q, _ := c.Queue("DIST.B"); q.Capacity != 190 || q.Full != FullBlock || q.Key.Value != 0x4d310003 {
		t.Errorf("DIST.B %+v", q)
	}
	if q, _ := c.Queue("RPT"); q.RecordSize != 256 {
		t.Errorf("RPT %+v", q)
	}
	if s, _ := c.Sender("KT1"); s.Window != 64 || s.TPS != 100 || s.ReportTimeout != c.Timeouts.Report || s.Queue != "SND.KT1" {
		t.Errorf("sender %+v", s)
	}
	if c.DBX.FetchCount != 5000 || c.Sch.ReclaimAfter.String() != "5m0s" {
		t.Errorf("dbx/sch %+v %+v", c.DBX, c.Sch)
	}
}

func TestHolderKeepsOldOnError(t *testing.T) {
	home := copyHome(t, nil)
	h, err := NewHolder(home)
	if err != nil {
		t.Fatal(err)
	}
	old := h.Get()
	p := filepath.Join(home, "etc/routes.toml")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), `senders = "SKT=1"`, `senders = "SKT=x"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(); err == nil {
		t.Fatal("bad routes reloaded")
	}
	if h.Get() != old {
		t.Fatal("configuration in force changed after a failed reload")
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), `senders = "KT1=3, KT2=1"`, `senders = "KT1=1, KT2=1"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := h.Reload()
	if err != nil || h.Get() != c || c == old {
		t.Fatalf("good reload: %v", err)
	}
	if r := c.Routes.Match("X", "B", "KT", "0101"); r.Ratios[0].Ratio != 1 {
		t.Errorf("new routes not in force: %+v", r)
	}
}
