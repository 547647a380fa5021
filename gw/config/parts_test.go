package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestResolveHome(t *testing.T) {
	env := t.TempDir()
	if h, err := resolveHome(env, ""); err != nil || h != env {
		t.Fatalf("M1_HOME: %q %v", h, err)
	}
	// A checkout: the working directory has etc/m1.toml.
	wd := t.TempDir()
	if err := os.MkdirAll(filepath.Join(wd, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, MainFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	if h, err := resolveHome("", "/nonexistent/bin/dist"); err != nil || h != wd {
		t.Fatalf("cwd: %q %v", h, err)
	}
	// An install: bin/dist beside etc/.
	inst := t.TempDir()
	for _, d := range []string{"etc", "bin"} {
		if err := os.MkdirAll(filepath.Join(inst, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(inst, MainFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if h, err := resolveHome("", filepath.Join(inst, "bin", "dist")); err != nil || h != inst {
		t.Fatalf("exe: %q %v", h, err)
	}
	if _, err := resolveHome("", "/nonexistent/bin/dist"); err == nil || !strings.Contains(err.Error(), EnvHome) {
		t.Fatalf("no home: %v", err)
	}
}

func TestParseDedicated(t *testing.T) {
	d, err := ParseDedicated(strings.NewReader(`
# client IP   port   id
10.0.0.1      9002   BANK01   # main
	10.0.0.2	9002	BANK02
::ffff:10.0.0.3 9003 BANK03
`), "dedicated.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Entries) != 3 || d.Entries[1].Line != 4 {
		t.Fatalf("%+v", d.Entries)
	}
	if id, ok := d.Lookup(netip.MustParseAddr("10.0.0.1"), 9002); !ok || id != "BANK01" {
		t.Error("lookup")
	}
	if id, ok := d.Lookup(netip.MustParseAddr("::ffff:10.0.0.2"), 9002); !ok || id != "BANK02" {
		t.Error("lookup of a v4-mapped address")
	}
	if id, ok := d.Lookup(netip.MustParseAddr("10.0.0.3"), 9003); !ok || id != "BANK03" {
		t.Error("lookup of an entry written v4-mapped")
	}
	if _, ok := d.Lookup(netip.MustParseAddr("10.0.0.1"), 9003); ok {
		t.Error("wrong port matched")
	}

	_, err = ParseDedicated(strings.NewReader("10.0.0.1 9002 A\n\n10.0.0.x 9002 B\n10.0.0.1 9002 C\n10.0.0.4 9002\n10.0.0.5 99999 E\n"), "etc/dedicated.conf")
	var es Errors
	if !errors.As(err, &es) || len(es) != 4 {
		t.Fatalf("want 4 errors: %v", err)
	}
	for i, want := range []string{"etc/dedicated.conf:3: client IP:", "etc/dedicated.conf:4: ", "etc/dedicated.conf:5: want 3 fields", "etc/dedicated.conf:6: server port"} {
		if !strings.HasPrefix(es[i].Error(), want) {
			t.Errorf("error %d: %q, want prefix %q", i, es[i], want)
		}
	}
	if !strings.Contains(es[1].Error(), "line 1") {
		t.Errorf("duplicate does not name the first line: %v", es[1])
	}
}

func TestParseCallbacks(t *testing.T) {
	c, err := ParseCallbacks(strings.NewReader("# c\nA 0211112222 15880000 # x\nB 0211112222\nA 0233334444\n"), "callbacks.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Allowed("A", "0211112222") || !c.Allowed("A", "0233334444") || !c.Allowed("B", "0211112222") || c.Allowed("B", "15880000") || c.Numbers("A") != 3 {
		t.Error("allowed")
	}
	var nilc *Callbacks
	if nilc.Allowed("A", "1") {
		t.Error("nil registry allows")
	}
	_, err = ParseCallbacks(strings.NewReader("A\nB 02-111\nCLIENTIDTOOLONG 1\nD 12345678901234567\n"), "cb")
	var es Errors
	if !errors.As(err, &es) || len(es) != 4 || es[0].Line != 1 || es[1].Line != 2 || es[2].Line != 3 || es[3].Line != 4 {
		t.Fatalf("errors: %v", err)
	}
}

func TestParsePNX(t *testing.T) {
	p, err := ParsePNX(strings.NewReader("default SKT\n010 KT\n0101 LGT\n01011112222 SKT\n"), "pnx")
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{"01011112222": "SKT", "01011112223": "LGT", "01022223333": "KT", "0111": "SKT", "": "SKT", "0": "SKT"} {
		if got := p.Carrier(d); got != want {
			t.Errorf("%q: %s want %s", d, got, want)
		}
	}
	if _, err := ParsePNX(strings.NewReader("default KT\ndefault SKT\n"), "pnx"); err == nil || !strings.Contains(err.Error(), "pnx:2: default") {
		t.Errorf("two defaults: %v", err)
	}
	if _, err := ParsePNX(strings.NewReader("010 KT\n010 SKT\ndefault KT\n"), "pnx"); err == nil || !strings.Contains(err.Error(), "pnx:2:") {
		t.Errorf("duplicate: %v", err)
	}
}

func TestParseRatios(t *testing.T) {
	r, err := ParseRatios("KT1=1, KT2=0 SKT=-1")
	if err != nil || len(r) != 3 || r[2] != (Ratio{"SKT", -1}) {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"", "KT1", "KT1=a", "KT1=-2", "KT1=1,KT1=2", "=1"} {
		if _, err := ParseRatios(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKeys(t *testing.T) {
	for s, want := range map[string]uint32{"0x4d310001": 0x4d310001, "0X4D310001": 0x4d310001, "1295122433": 1295122433} {
		k, err := ParseKey(s)
		if err != nil || k.Auto || k.Value != want {
			t.Errorf("%s: %v %v", s, k, err)
		}
	}
	if k, err := ParseKey("auto"); err != nil || !k.Auto {
		t.Error("auto")
	}
	for _, bad := range []string{"0", "0x", "0x1ffffffff", "-1", "key"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if (QueueKey{Value: 0x4d310001}).String() != "0x4d310001" {
		t.Error("string")
	}
}

func TestFtok(t *testing.T) {
	dir := t.TempDir()
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	want := uint32(st.Ino&0xffff) | uint32(st.Dev&0xff)<<16 | uint32('M')<<24
	got, err := Ftok(dir, 'M')
	if err != nil || got != want {
		t.Fatalf("ftok %#x, want %#x (%v)", got, want, err)
	}
	q := Queue{Key: QueueKey{Auto: true}, FileDir: filepath.Join(dir, "q", "DIST.R")}
	k1, err := q.ResolveKey()
	if err != nil || k1>>24 != 'M' {
		t.Fatalf("auto key %#x %v", k1, err)
	}
	if k2, _ := q.ResolveKey(); k2 != k1 {
		t.Error("auto key not stable")
	}
	if _, err := Ftok(filepath.Join(dir, "missing"), 1); err == nil {
		t.Error("ftok of a missing file")
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPasswordIter("비밀 pw", 1000)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPasswordIter("비밀 pw", 1000)
	if h == h2 {
		t.Error("hashes not salted")
	}
	if !CheckPassword(h, "비밀 pw") || CheckPassword(h, "비밀 pW") || CheckPassword(h, "") {
		t.Error("check")
	}
	for _, bad := range []string{"", "demo01", "pbkdf2-sha256$0$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "pbkdf2-sha1$1000$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", strings.Replace(h, "$1000$", "$x$", 1)} {
		if ValidateHash(bad) == nil || CheckPassword(bad, "demo01") {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseDedicated(f *testing.F) {
	f.Add("10.0.0.1 9002 BANK01 # x\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDedicated(strings.NewReader(s), "f")
		if err == nil {
			for _, e := range d.Entries {
				if id, ok := d.Lookup(e.IP, e.Port); !ok || id != e.ClientID {
					t.Fatal("entry not found by lookup")
				}
			}
		}
	})
}

func FuzzParseCallbacks(f *testing.F) {
	f.Add("A 0211112222 1588\n# c\n")
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseCallbacks(strings.NewReader(s), "f") })
}

func FuzzParsePNX(f *testing.F) {
	f.Add("default KT\n010 SKT\n", "01012")
	f.Fuzz(func(t *testing.T, s, dest string) {
		if p, err := ParsePNX(strings.NewReader(s), "f"); err == nil && p.Carrier(dest) == "" {
			t.Fatal("no carrier")
		}
	})
}

func FuzzLineIndex(f *testing.F) {
	f.Add("[a]\nb = [\n 1,\n]\n[[c]]\nd = \"\"\"x\ny = 1\"\"\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		ix := newLineIndex(s)
		_ = ix.lookup("c[0].d")
		_, _ = ParseRatios(s)
		_, _ = ParseKey(s)
	})
}

func TestValidateAfterChange(t *testing.T) {
	c, err := Load(repoHome(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("loaded config does not validate: %v", err)
	}
	c.Senders[0].Window = -1
	c.Queues[1].Full = "drop"
	err = c.Validate()
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Line == 0 || es[0].Setting != "queue.full" || es[1].Setting != "sender.window" {
		t.Fatalf("got %v", err)
	}
}

func TestLineIndex(t *testing.T) {
	ix := newLineIndex(`# top
[a]
x = 1
[[q]]
name = "A"
servers = [
  "k = v",
  "x",
]
s = """
w = 2
"""
[[q]]
"name" = "B"
[[q.sub]]
z = 3
[[q]]
[[q.sub]]
z = 4
`)
	for path, want := range map[string]int{"a.x": 3, "q[0]": 4, "q[0].name": 5, "q[0].servers": 6, "q[0].s": 10, "q[1].name": 14, "q[1].sub[0].z": 16, "q[2].sub[0].z": 19, "q[2].missing": 17, "q[0].k": 4, "q[0].w": 4, "nothing": 0} {
		if got := ix.lookup(path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
}
