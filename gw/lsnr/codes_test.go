package lsnr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/telegram"
)

// TestSubmitResultCodes reaches every SUBMIT result code over TCP.
func TestSubmitResultCodes(t *testing.T) {
	e := newEnv(t, envOpt{})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	dupKey := newKey()
	if code, _, err := c.Submit(ctxT(t), sms(dupKey)); err != nil || code != telegram.OK {
		t.Fatalf("first: %v %v", code, err)
	}
	cases := []struct {
		name string
		mod  func(s *telegram.Submit)
		want telegram.Code
	}{
		{"ok", func(s *telegram.Submit) {}, telegram.OK},
		{"duplicate", func(s *telegram.Submit) { s.MsgKey = dupKey }, telegram.ErrDuplicate},
		{"bad MSG_TYPE", func(s *telegram.Submit) { s.MsgType = 'X' }, telegram.ErrField},
		{"bad JOB_CLASS", func(s *telegram.Submit) { s.JobClass = 'Z' }, telegram.ErrField},
		{"bad time", func(s *telegram.Submit) { s.ReserveTime = "20261340250000" }, telegram.ErrField},
		{"future without store", func(s *telegram.Submit) { s.ReserveTime = time.Now().Add(time.Hour).Format("20060102150405") }, telegram.ErrField},
		{"past time is now", func(s *telegram.Submit) { s.ReserveTime = "20200101000000" }, telegram.OK},
		{"callback not registered", func(s *telegram.Submit) { s.Callback = "0299998888" }, telegram.ErrCallback},
		{"bad destination", func(s *telegram.Submit) { s.Dest = "0212345678" }, telegram.ErrDest},
		{"SMS too long", func(s *telegram.Submit) { s.Text = strings.Repeat("a", 91) }, telegram.ErrTooLong},
		{"LMS fits", func(s *telegram.Submit) { s.MsgType = 'L'; s.Subject = "subj"; s.Text = strings.Repeat("a", 2000) }, telegram.OK},
		{"not EUC-KR", func(s *telegram.Submit) { s.Text = "\xff\xfe\xff" }, telegram.ErrTooLong},
	}
	for _, tc := range cases {
		s := sms(newKey())
		tc.mod(s)
		code, resp, err := c.Submit(ctxT(t), s)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if code != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, code, tc.want)
		}
		if code != telegram.OK && strings.Trim(resp.GWID, "0") != "" {
			t.Errorf("%s: GW_ID %q on a refusal", tc.name, resp.GWID)
		}
	}
	// Nothing refused reached a lane: the accepted ones are all there.
	n := 0
	for _, q := range e.lanes {
		n += len(laneRecords(t, q))
	}
	if n != 4 {
		t.Fatalf("lanes hold %d records, want 4", n)
	}
}

func TestTPSLimit(t *testing.T) {
	e := newEnv(t, envOpt{})
	// Two connections of one client share its bucket of 5 a second.
	c1 := bound(t, e.shared(), cliSlow, pwSl, client.Options{})
	c2 := bound(t, e.shared(), cliSlow, pwSl, client.Options{})
	counts := map[telegram.Code]int{}
	start := time.Now()
	for i := range 12 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		code, _, err := c.Submit(ctxT(t), sms(newKey()))
		if err != nil {
			t.Fatal(err)
		}
		counts[code]++
	}
	// 5 at once, and 5 a second more while the test ran.
	most := 5 + int(time.Since(start).Seconds()*5) + 1
	if counts[telegram.ErrTPS] == 0 || counts[telegram.OK] < 5 || counts[telegram.OK] > most {
		t.Fatalf("results %v: want 5 to %d accepted and the rest 2002", counts, most)
	}
}

// TestBusyThenRetry: a full lane answers 2001, and the same MSG_KEY is
// accepted once there is room (the key was forgotten by the index).
func TestBusyThenRetry(t *testing.T) {
	e := newEnv(t, envOpt{laneCap: 2, putTO: 20 * time.Millisecond})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	keys := []string{newKey(), newKey(), newKey()}
	var codes []telegram.Code
	for _, k := range keys {
		code, _, err := c.Submit(ctxT(t), sms(k))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if codes[0] != telegram.OK || codes[1] != telegram.OK || codes[2] != telegram.ErrBusy {
		t.Fatalf("codes %v, want 0000 0000 2001", codes)
	}
	if got := len(laneRecords(t, e.lanes['S'])); got != 2 {
		t.Fatalf("lane holds %d", got)
	}
	if code, _, err := c.Submit(ctxT(t), sms(keys[2])); err != nil || code != telegram.OK {
		t.Fatalf("retry after 2001: %v %v, want 0000", code, err)
	}
	if code, _, err := c.Submit(ctxT(t), sms(keys[0])); err != nil || code != telegram.ErrDuplicate {
		t.Fatalf("stored key again: %v %v, want 1201", code, err)
	}
}

func TestBindCodes(t *testing.T) {
	e := newEnv(t, envOpt{})
	for _, tc := range []struct {
		id, pw string
		want   telegram.Code
	}{{cliA, "wrong", telegram.ErrAuth}, {"NOBODY", pwA, telegram.ErrAuth}, {cliA, pwA, telegram.OK}} {
		c := dial(t, e.shared(), client.Options{})
		code, err := c.Bind(ctxT(t), tc.id, tc.pw)
		if err != nil || code != tc.want {
			t.Fatalf("BIND %s/%s: %v %v, want %v", tc.id, tc.pw, code, err, tc.want)
		}
		if tc.want != telegram.OK {
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("connection not closed after 1102")
			}
			continue
		}
		code, err = c.Bind(ctxT(t), tc.id, tc.pw)
		if err != nil || code != telegram.ErrAlreadyBound {
			t.Fatalf("second BIND: %v %v, want 1103", code, err)
		}
		if err := c.Link(ctxT(t)); err != nil {
			t.Fatalf("LINK after 1103: %v", err)
		}
	}
}

// TestNotBound: anything before BIND gets 1101 and the connection closes.
func TestNotBound(t *testing.T) {
	e := newEnv(t, envOpt{})
	r := raw(t, e.shared())
	s := sms(newKey())
	if _, err := r.Write(s.Append(nil, 7)); err != nil {
		t.Fatal(err)
	}
	h, _, err := readFrame(t, r, 5*time.Second)
	if err != nil || h.Type != telegram.TypeSubmitResp || h.Seq != 7 || h.Result != telegram.ErrNotBound {
		t.Fatalf("got %+v %v, want SUBMIT_RESP 1101 seq 7", h, err)
	}
	if !waitClosed(t, r, 5*time.Second) {
		t.Fatal("not closed after 1101")
	}
}

func TestBindTimeout(t *testing.T) {
	e := newEnv(t, envOpt{m1Extra: "bind_timeout = \"200ms\"\n"})
	r := raw(t, e.shared())
	start := time.Now()
	h, _, err := readFrame(t, r, 5*time.Second)
	if err != nil || h.Type != telegram.TypeBindResp || h.Result != telegram.ErrNotBound {
		t.Fatalf("got %+v %v, want BIND_RESP 1101", h, err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("refused after %v, before the bind timeout", el)
	}
	if !waitClosed(t, r, 5*time.Second) {
		t.Fatal("not closed")
	}
}

// TestUnknownTypeAndFraming: 1002 keeps the connection; a bad LEN is
// 1001 and closes it; a TEXT_LEN that disagrees with LEN is 1001.
func TestUnknownTypeAndFraming(t *testing.T) {
	e := newEnv(t, envOpt{})
	r := raw(t, e.shared())
	bindRaw(t, r, cliA, pwA)
	if _, err := r.Write(telegram.AppendEmpty(nil, 700, 3, telegram.OK)); err != nil {
		t.Fatal(err)
	}
	h, _, err := readFrame(t, r, 5*time.Second)
	if err != nil || h.Result != telegram.ErrUnknownType || h.Seq != 3 {
		t.Fatalf("unknown TYPE: %+v %v", h, err)
	}
	// A non-digit in SEQ: 1003, connection kept.
	if _, err := r.Write([]byte("00160800ABCDEFGH0000")); err != nil {
		t.Fatal(err)
	}
	h, _, err = readFrame(t, r, 5*time.Second)
	if err != nil || h.Result != telegram.ErrField {
		t.Fatalf("bad SEQ: %+v %v", h, err)
	}
	// TEXT_LEN disagreeing with LEN.
	f := sms(newKey()).Append(nil, 4)
	bad := append([]byte(nil), f...)
	copy(bad[20+20+1+1+16+16+14+40:], "0004")
	if _, err := r.Write(bad); err != nil {
		t.Fatal(err)
	}
	h, _, err = readFrame(t, r, 5*time.Second)
	if err != nil || h.Result != telegram.ErrFraming || h.Seq != 4 {
		t.Fatalf("TEXT_LEN: %+v %v", h, err)
	}
	if !waitClosed(t, r, 5*time.Second) {
		t.Fatal("not closed after 1001")
	}
	r2 := raw(t, e.shared())
	bindRaw(t, r2, cliA, pwA)
	if _, err := r2.Write([]byte("garbage that is no telegram at all")); err != nil {
		t.Fatal(err)
	}
	h, _, err = readFrame(t, r2, 5*time.Second)
	if err != nil || h.Result != telegram.ErrFraming {
		t.Fatalf("garbage: %+v %v", h, err)
	}
	if !waitClosed(t, r2, 5*time.Second) {
		t.Fatal("not closed after garbage")
	}
}

// TestReloadConfig: a callback number added to callbacks.conf is in force
// after ReloadConfig (SIGHUP), on a connection bound before it.
func TestReloadConfig(t *testing.T) {
	e := newEnv(t, envOpt{})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	s := sms(newKey())
	s.Callback = "0299998888"
	if code, _, _ := c.Submit(ctxT(t), s); code != telegram.ErrCallback {
		t.Fatalf("before reload: %v", code)
	}
	text := cliA + " " + cbA + " 0299998888\n"
	if err := os.WriteFile(filepath.Join(e.home, "etc/callbacks.conf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(e.home)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.l.ReloadConfig(cfg); err != nil {
		t.Fatal(err)
	}
	s.MsgKey = newKey()
	if code, _, _ := c.Submit(ctxT(t), s); code != telegram.OK {
		t.Fatalf("after reload: %v", code)
	}
}
