package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/internal/testhome"
	"github.com/m1gw/m1/ipc"
)

type env struct {
	t    *testing.T
	home string
	cfg  *config.Config
}

func newEnv(t *testing.T) *env {
	home := testhome.New(t, nil)
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = queues.RemoveAll(cfg) })
	return &env{t: t, home: home, cfg: cfg}
}

// ipcq runs the command and returns its exit code and output.
func (e *env) ipcq(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"--home", e.home}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func (e *env) mustOK(args ...string) string {
	e.t.Helper()
	code, out, errs := e.ipcq("", args...)
	if code != 0 {
		e.t.Fatalf("ipcq %v: exit %d: %s%s", args, code, out, errs)
	}
	return out
}

func message(key string) []byte {
	m := msg.Message{GWID: "00000000000000000001", Source: msg.SourceListener, ClientID: "DEMO01", MsgKey: key,
		MsgType: 'S', JobClass: 'R', Callback: "0212345678", Dest: "01012345678", Text: "hello"}
	return m.Encode(nil)
}

func TestIpcq(t *testing.T) {
	e := newEnv(t)
	out := e.mustOK("create")
	if !strings.Contains(out, "created DIST.R") || !strings.Contains(out, "created RPT") {
		t.Fatalf("create: %s", out)
	}
	if out := e.mustOK("create", "DIST.R"); !strings.Contains(out, "exists  DIST.R") {
		t.Fatalf("second create: %s", out)
	}
	p, err := queues.Open(e.cfg, "DIST.R", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, k := range []string{"K1", "K2", "K3"} {
		if err := p.Put(message(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	out = e.mustOK("ls")
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "DIST.R ") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) < 14 || f[6] != "190" || f[7] != "3" || f[8] != "0" || f[12] != "3" {
		t.Fatalf("ls line for DIST.R: %q\n%s", line, out)
	}
	if out := e.mustOK("peek", "DIST.R", "-n", "2"); !strings.Contains(out, "msg_key=K2") || strings.Contains(out, "msg_key=K3") || !strings.Contains(out, "2 of 3") {
		t.Fatalf("peek: %s", out)
	}
	if out := e.mustOK("stat", "DIST.R"); !strings.Contains(out, "mutex 1") || !strings.Contains(out, "used           3") {
		t.Fatalf("stat: %s", out)
	}
	if out := e.mustOK("dump", "DIST.R"); !strings.Contains(out, "00000000  ") {
		t.Fatalf("dump: %s", out)
	}
	// mv 2 records to DIST.S, then save and load the rest.
	if out := e.mustOK("mv", "DIST.R", "DIST.S", "-n", "2"); !strings.Contains(out, "moved 2") {
		t.Fatalf("mv: %s", out)
	}
	if out := e.mustOK("peek", "DIST.S"); !strings.Contains(out, "msg_key=K1") || !strings.Contains(out, "msg_key=K2") {
		t.Fatalf("DIST.S after mv: %s", out)
	}
	dir := filepath.Join(t.TempDir(), "saved")
	if out := e.mustOK("save", "DIST.R", dir); !strings.Contains(out, "saved 1") {
		t.Fatalf("save: %s", out)
	}
	if out := e.mustOK("load", "DIST.B", dir); !strings.Contains(out, "loaded 1") {
		t.Fatalf("load: %s", out)
	}
	if out := e.mustOK("peek", "DIST.B"); !strings.Contains(out, "msg_key=K3") {
		t.Fatalf("DIST.B after load: %s", out)
	}
	// purge asks; "n" keeps the records.
	if code, _, _ := e.ipcq("n\n", "purge", "DIST.S"); code != 1 {
		t.Fatalf("purge answered no: exit %d", code)
	}
	if out := e.mustOK("purge", "DIST.S", "--yes"); !strings.Contains(out, "purged 2") {
		t.Fatalf("purge: %s", out)
	}
	if out := e.mustOK("rm", "DIST.S"); !strings.Contains(out, "removed DIST.S") {
		t.Fatalf("rm: %s", out)
	}
	if code, _, errs := e.ipcq("", "rm", "DIST.S"); code != 1 || !strings.Contains(errs, "DIST.S") {
		t.Fatalf("rm of a missing segment: %d %s", code, errs)
	}
	if out := e.mustOK("ps"); !strings.Contains(out, "no process table") {
		t.Fatalf("ps: %s", out)
	}
	tab, err := queues.ProcTab(e.cfg, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	s, _ := tab.Register("sender.KT1", "sender")
	s.SetState(proctab.Running)
	s.SetLink(true)
	s.SetWindow(2, 64)
	if out := e.mustOK("ps"); !strings.Contains(out, "sender.KT1") || !strings.Contains(out, "2/64") {
		t.Fatalf("ps: %s", out)
	}
	e.mustOK("running", "sender.KT1")
	if code, _, errs := e.ipcq("", "running", "sender.KT1", "dist", "--wait", "50ms"); code != 1 || !strings.Contains(errs, "dist (absent)") {
		t.Fatalf("running with dist absent: %d %s", code, errs)
	}
	if code, _, errs := e.ipcq("", "rm", "--all", "--yes"); code != 1 || !strings.Contains(errs, "sender.KT1") {
		t.Fatalf("rm --all with a live process: %d %s", code, errs)
	}
	s.Release()
	// A segment removed by hand leaves its semaphores: rm --all takes them too.
	if o, err := queues.Options(e.cfg, "DBX", false, nil); err == nil {
		id, err := ipc.OpenShm(o.Shm.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := ipc.RemoveShm(id); err != nil {
			t.Fatal(err)
		}
	}
	if out := e.mustOK("rm", "--all", "--yes"); !strings.Contains(out, "removed DIST.R") || !strings.Contains(out, "process table") {
		t.Fatalf("rm --all: %s", out)
	}
	if o, _ := queues.Options(e.cfg, "DBX", false, nil); o.Shm.Key != 0 {
		if _, err := ipc.OpenSem(o.Shm.Key, 0); err == nil {
			t.Fatal("rm --all left the semaphores of a queue whose segment was gone")
		}
	}
	for _, l := range strings.Split(e.mustOK("ls"), "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.HasPrefix(l, "DIST.R ") && f[2] != "-" {
			t.Fatalf("DIST.R still has a segment after rm --all: %s", l)
		}
	}
	if out := e.mustOK("processes"); !strings.HasPrefix(out, "dbx\nsender.KT1\n") || !strings.HasSuffix(out, "eai_lsnr\n") {
		t.Fatalf("processes: %q", out)
	}
}

func TestIpcqExitCodes(t *testing.T) {
	e := newEnv(t)
	if code, _, _ := e.ipcq(""); code != 2 {
		t.Fatalf("no command: %d", code)
	}
	if code, _, _ := e.ipcq("", "frobnicate"); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
	if code, _, _ := e.ipcq("", "stat"); code != 2 {
		t.Fatalf("missing argument: %d", code)
	}
	if code, _, errs := e.ipcq("", "stat", "NOPE"); code != 1 || !strings.Contains(errs, "NOPE") {
		t.Fatalf("unknown queue: %d %s", code, errs)
	}
	if code, _, errs := e.ipcq("", "peek", "DIST.R"); code != 1 || !strings.Contains(errs, "DIST.R") {
		t.Fatalf("peek of a missing segment: %d %s", code, errs)
	}
}
