package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m1gw/m1/gw/config"
)

// The edits must still match the shipped etc/, and the result must load:
// a changed etc/ fails here rather than in a long benchmark run.
func TestHomeFromShippedEtc(t *testing.T) {
	r := &runner{o: options{root: "../..", senderWin: 256, db: "sqlite"}}
	if err := r.makeHome(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(r.home) })
	cfg, err := config.Load(r.home)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.home, "etc", "m1.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"0x4d31`) || !strings.Contains(string(b), `"`+keyPrefix) {
		t.Errorf("SysV keys not moved to %s", keyPrefix)
	}
	if strings.Contains(string(b), `"127.0.0.1:17`) || strings.Contains(string(b), `listen = ":9001"`) {
		t.Error("shipped ports left in the run's m1.toml")
	}
	if !strings.HasPrefix(cfg.Database.DSN, "sqlite:") {
		t.Errorf("DSN %q", cfg.Database.DSN)
	}
}

func TestParseLoadgen(t *testing.T) {
	out := `run              sent   accepted     rate/s    p50 ms    p99 ms    max ms   reports  repeated
lsnr           249106     248850       9997    11.818   153.970   719.990    249046         0
lsnr       results: 0000=248850 no-response=256
lsnr       SUBMIT->REPORT p50=22338.836ms p99=29828.881ms (248850 reports)
`
	p := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := parseLoadgen(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.accepted != 248850 || r.intakeRate != 9997 || r.subP99 != "153.970" || r.repP50 != "22338.836" || r.repP99 != "29828.881" || r.reports != 248850 {
		t.Errorf("%+v", r)
	}
	if err := os.WriteFile(p, []byte("loadgen: BIND refused\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseLoadgen(p); err == nil {
		t.Error("no summary: no error")
	}
}

func TestByPackage(t *testing.T) {
	rep := `# comment
     7.65%  sender      [kernel.kallsyms]  [k] finish_task_switch.isra.0
     0.77%  eai_lsnr    eai_lsnr           [.] github.com/m1gw/m1/gw/dupindex.(*Index).CheckAndInsert
     0.70%  eai_lsnr    eai_lsnr           [.] github.com/m1gw/m1/gw/dupindex.(*Index).scanWindow
     0.70%  dbx         dbx                [.] modernc.org/sqlite/lib._sqlite3VdbeExec
     0.50%  loadgen     loadgen            [.] runtime.chansend
`
	got := byPackage([]byte(rep))
	for _, want := range []string{"7.65%  sender       kernel", "1.47%  eai_lsnr     gw/dupindex", "0.70%  dbx          modernc.org", "0.50%  loadgen      runtime"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if os.Getenv("E2E_PERF_REPORT") != "" {
		b, err := os.ReadFile(os.Getenv("E2E_PERF_REPORT"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("\n%s", byPackage(b))
	}
}
