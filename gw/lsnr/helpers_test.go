package lsnr

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// Test clients and passwords.
const (
	cliA, pwA     = "CLIA", "passA"
	cliB, pwB     = "CLIB", "passB"
	cliSlow, pwSl = "SLOW", "passS" // tps 5
	cbA           = "0215880000"
)

// env is one test's M1 home, queues, index and listener.
type env struct {
	t     testing.TB
	home  string
	cfg   *config.Config
	lanes map[byte]*shmq.Queue
	rpt   *shmq.Queue
	dup   *dupindex.Index
	opts  Options
	l     *Listener
	done  chan error
}

type envOpt struct {
	m1Extra    string // lines added to [eai_lsnr]
	laneCap    int
	dedicated  string // dedicated.conf text
	noRPT      bool
	writeTO    time.Duration
	putTO      time.Duration
	future     FutureStore
	logger     *zap.Logger
	clientsTPS int         // TPS of cliA and cliB; default 100000
	dbx        queue.Queue // read by the intake brake; nil: no brake
}

func testKey(t testing.TB) ipc.Key {
	t.Helper()
	for {
		k := ipc.Key(0x7e000000 | rand.Int32N(0xffffff))
		if ok, _ := shmq.Exists(k); !ok {
			t.Cleanup(func() { _ = shmq.Remove(k) })
			return k
		}
	}
}

func openQueue(t testing.TB, name string, capacity, recSize int) *shmq.Queue {
	t.Helper()
	q, err := shmq.Open(shmq.Options{Name: name, Key: testKey(t), Capacity: capacity, RecordSize: recSize, Create: true, Spin: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

var routes = "[[route]]\nname = \"kt\"\ncarrier = \"KT\"\nsenders = \"KT1=1\"\n" +
	"[[route]]\nname = \"skt\"\ncarrier = \"SKT\"\nsenders = \"KT1=1\"\n" +
	"[[route]]\nname = \"lg\"\ncarrier = \"LGT\"\nsenders = \"KT1=1\"\n"

func writeHome(t testing.TB, o envOpt) string {
	t.Helper()
	home := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(home, "etc"), 0o755))
	m1 := "[eai_lsnr]\n" + o.m1Extra + "\n[[eai_lsnr.port]]\nlisten = \"127.0.0.1:19001\"\nmode = \"shared\"\n" +
		"\n[[sender]]\nid = \"KT1\"\ncarrier = \"KT\"\ndialect = \"kt\"\nservers = [\"127.0.0.1:17001\"]\nlogin = \"x\"\npassword = \"y\"\n"
	must(os.WriteFile(filepath.Join(home, "etc/m1.toml"), []byte(m1), 0o644))
	tps := o.clientsTPS
	if tps == 0 {
		tps = 100000
	}
	var cl strings.Builder
	for _, c := range []struct {
		id, pw string
		tps    int
	}{{cliA, pwA, tps}, {cliB, pwB, tps}, {cliSlow, pwSl, 5}} {
		h, err := config.HashPasswordIter(c.pw, 1000)
		must(err)
		fmt.Fprintf(&cl, "[[client]]\nid = %q\nname = \"test\"\npassword = %q\ntps = %d\n\n", c.id, h, c.tps)
	}
	must(os.WriteFile(filepath.Join(home, "etc/clients.toml"), []byte(cl.String()), 0o644))
	must(os.WriteFile(filepath.Join(home, "etc/dedicated.conf"), []byte(o.dedicated), 0o644))
	must(os.WriteFile(filepath.Join(home, "etc/callbacks.conf"), []byte(cliA+" "+cbA+"\n"+cliB+" "+cbA+"\n"+cliSlow+" "+cbA+"\n"), 0o644))
	must(os.WriteFile(filepath.Join(home, "etc/pnx.conf"), []byte("default KT\n"), 0o644))
	must(os.WriteFile(filepath.Join(home, "etc/routes.toml"), []byte(routes), 0o644))
	return home
}

func newEnv(t testing.TB, o envOpt) *env {
	t.Helper()
	home := writeHome(t, o)
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, home: home, cfg: cfg, lanes: map[byte]*shmq.Queue{}}
	if o.laneCap == 0 {
		o.laneCap = 4096
	}
	lanes := map[byte]queue.Queue{}
	for _, jc := range jobClasses {
		q := openQueue(t, "DIST."+string(jc), o.laneCap, 2400)
		e.lanes[jc] = q
		lanes[jc] = q
	}
	var rpt queue.Queue
	if !o.noRPT {
		e.rpt = openQueue(t, "RPT", 1024, 256)
		rpt = e.rpt
	}
	e.dup, err = dupindex.Open(dupindex.Options{Path: filepath.Join(t.TempDir(), "dup.idx"), Capacity: 1 << 16, Locks: 1 << 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.dup.Close() })
	log := o.logger
	if log == nil {
		log = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	e.opts = Options{Config: cfg, Log: log, Lanes: lanes, RPT: rpt, DBX: o.dbx, Dup: e.dup, Future: o.future,
		Ports:     []config.Port{{Listen: "127.0.0.1:0", Mode: config.ModeShared}, {Listen: "127.0.0.1:0", Mode: config.ModeDedicated}},
		ReportDir: filepath.Join(home, "var/reports"), WriteTimeout: o.writeTO, PutTimeout: o.putTO}
	e.start()
	return e
}

// start runs a listener on e's options (again, after stop).
func (e *env) start() {
	e.t.Helper()
	l, err := New(e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.l = l
	e.done = make(chan error, 1)
	go func() { e.done <- l.Main() }()
	// Later starts listen on the same ports, so clients reconnect.
	for i, a := range l.Addrs() {
		e.opts.Ports[i].Listen = a.String()
	}
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.l == nil {
		return
	}
	e.l.Exit()
	if err := <-e.done; err != nil {
		e.t.Errorf("Main: %v", err)
	}
	e.l = nil
}

func (e *env) shared() string    { return e.opts.Ports[0].Listen }
func (e *env) dedicated() string { return e.opts.Ports[1].Listen }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects a client without binding.
func dial(t testing.TB, addr string, o client.Options) *client.Client {
	t.Helper()
	if o.LinkInterval == 0 {
		o.LinkInterval = -1
	}
	c, err := client.Dial(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// bound connects and binds as id.
func bound(t testing.TB, addr, id, pw string, o client.Options) *client.Client {
	t.Helper()
	c := dial(t, addr, o)
	code, err := c.Bind(ctxT(t), id, pw)
	if err != nil || code != telegram.OK {
		t.Fatalf("BIND %s: %v %v", id, code, err)
	}
	return c
}

var keySeq = rand.Uint64()

func newKey() string {
	keySeq++
	return fmt.Sprintf("K%019d", keySeq%1e19)
}

func sms(key string) *telegram.Submit {
	return &telegram.Submit{MsgKey: key, MsgType: 'S', JobClass: 'S', Callback: cbA, Dest: "01012345678", Text: "hello"}
}

// laneRecords takes and commits every record of a lane now.
func laneRecords(t testing.TB, q queue.Queue) []msg.Message {
	t.Helper()
	var out []msg.Message
	for {
		r, err := q.Take(0)
		if err != nil {
			return out
		}
		m, err := msg.DecodeMessage(r.Data)
		if err != nil {
			t.Fatalf("lane record: %v", err)
		}
		out = append(out, m)
		if err := q.Commit(r.Pos); err != nil {
			t.Fatal(err)
		}
	}
}

// raw is a plain TCP connection for malformed input.
func raw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readFrame reads one telegram from a raw connection within d.
func readFrame(t testing.TB, c net.Conn, d time.Duration) (telegram.Header, []byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	rd := telegram.NewReader(c, 0)
	f, err := rd.Next()
	if err != nil {
		return telegram.Header{}, nil, err
	}
	h, body, err := telegram.ParseHeader(f)
	return h, append([]byte(nil), body...), err
}

func bindRaw(t testing.TB, c net.Conn, id, pw string) {
	t.Helper()
	b := telegram.Bind{ClientID: id, Password: pw, Version: 1}
	if _, err := c.Write(b.Append(nil, 1)); err != nil {
		t.Fatal(err)
	}
	h, _, err := readFrame(t, c, 5*time.Second)
	if err != nil || h.Result != telegram.OK {
		t.Fatalf("BIND: %+v %v", h, err)
	}
}

// waitClosed waits until the peer closes c (reads and discards).
func waitClosed(t testing.TB, c net.Conn, d time.Duration) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				return false
			}
			return true
		}
	}
}

// waitNoConns waits until the dedicated port holds no connection in its
// one-per-IP registry: a connection the listener closed is gone from it.
func (e *env) waitNoConns(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := e.l.ports[1]
		p.mu.Lock()
		n := len(p.byAddr)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dedicated port still holds %d connections", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
