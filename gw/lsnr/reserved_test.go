package lsnr

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/dupindex"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/sch"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/internal/testpg"
	"github.com/m1gw/m1/queue"
)

func pgBaseDSN() string { return testpg.BaseDSN() }

// pgSchemaDSN is a DSN on a schema of the test's own (internal/testpg).
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	return testpg.SchemaDSN(t, "m1_lsnr_", "")
}

// eachStore runs fn on a migrated store in a fresh SQLite file and in a
// fresh PostgreSQL schema.
func eachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "m1.db")
			if db == "postgres" {
				dsn = pgSchemaDSN(t)
			}
			st, err := store.Open(store.Options{DSN: dsn, Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, st)
		})
	}
}

// distDupCheck is dist's duplicate check at send time (gw/dist, tx.go): a
// record the listener did not check (DUP_CHECKED N: every T41 row) is
// checked and recorded in the shared index, and ends with 1201 when its
// key is already there.
func distDupCheck(t testing.TB, idx *dupindex.Index, m *msg.Message, now time.Time) telegram.Code {
	t.Helper()
	if m.DupChecked {
		return telegram.OK
	}
	dup, err := idx.CheckAndInsert(m.ClientID, m.MsgKey, now)
	if err != nil {
		t.Fatalf("duplicate index: %v", err)
	}
	if dup {
		return telegram.ErrDuplicate
	}
	return telegram.OK
}

// schClaims runs a real sch on the listener's lanes whose clock is at
// (the reserved time has come for it) until it has queued want records,
// and returns them.
func schClaims(t *testing.T, e *env, st *store.Store, at time.Time, want int) []msg.Message {
	t.Helper()
	lanes := map[byte]queue.Queue{}
	for jc, q := range e.lanes {
		lanes[jc] = q
	}
	s, err := sch.New(sch.Options{Config: e.cfg, Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), Store: st,
		Lanes: lanes, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Main() }()
	defer func() {
		s.Exit()
		if err := <-done; err != nil {
			t.Errorf("sch: %v", err)
		}
	}()
	var got []msg.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		for _, q := range e.lanes {
			got = append(got, laneRecords(t, q)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(got) != want {
		t.Fatalf("sch queued %d records, want %d", len(got), want)
	}
	return got
}

// TestReservedMessageIsSentNotDuplicate: a SUBMIT with a future
// RESERVE_TIME becomes a T41 row and its key is not recorded in the
// duplicate index; when its time comes sch queues it (DUP_CHECKED N) and
// dist's check records the key and lets it through: it is sent, not ended
// with 1201. While it waits, the same key is refused 1201 (T41's unique
// key), as SUBMIT and as a MULTI_SUBMIT destination; once dist recorded it,
// an immediate SUBMIT of the key is 1201 too. Real listener, real
// duplicate index, real store (SQLite and PostgreSQL), real sch.
func TestReservedMessageIsSentNotDuplicate(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, envOpt{future: st})
		c := bound(t, e.shared(), cliA, pwA, client.Options{})
		reserve := time.Now().Add(2 * time.Hour)
		s := sms(newKey())
		s.ReserveTime = reserve.Format("20060102150405")
		if code, resp, err := c.Submit(ctxT(t), s); err != nil || code != telegram.OK || strings.Trim(resp.GWID, "0") != "" {
			t.Fatalf("reserved SUBMIT: %v %q %v", code, resp.GWID, err)
		}
		if in, err := e.dup.Contains(cliA, s.MsgKey, time.Now()); err != nil || in {
			t.Fatalf("the reserved key is recorded in the duplicate index (%v, %v): dist would end the message with 1201", in, err)
		}

		// Refused while it waits in T41.
		if code, _, _ := c.Submit(ctxT(t), s); code != telegram.ErrDuplicate {
			t.Fatalf("same key reserved again: %v, want 1201", code)
		}
		ms := &telegram.MultiSubmit{MsgType: 'S', JobClass: 'S', Callback: cbA, Text: "multi", ReserveTime: s.ReserveTime,
			Dests: []telegram.MultiDest{{MsgKey: s.MsgKey, Dest: "01011112222"}, {MsgKey: newKey(), Dest: "01011113333"}}}
		code, mr, err := c.MultiSubmit(ctxT(t), ms)
		if err != nil || code != telegram.OK || mr.Results[0].Result != telegram.ErrDuplicate || mr.Results[1].Result != telegram.OK {
			t.Fatalf("MULTI_SUBMIT with the reserved key: %v %+v %v", code, mr, err)
		}
		if n, err := st.CountT41(context.Background()); err != nil || n[store.StatusWaiting] != 2 {
			t.Fatalf("T41: %v %v, want 2 waiting rows", n, err)
		}

		// Its time comes: sch queues both reserved rows.
		recs := schClaims(t, e, st, reserve.Add(time.Minute), 2)
		var m *msg.Message
		for i := range recs {
			if recs[i].MsgKey == s.MsgKey {
				m = &recs[i]
			}
		}
		if m == nil || m.Source != msg.SourceT41 || m.DupChecked || m.ClientID != cliA || m.Result != telegram.OK {
			t.Fatalf("sch's record of the reserved message: %+v", m)
		}
		if code := distDupCheck(t, e.dup, m, time.Now()); code != telegram.OK {
			t.Fatalf("dist's check at send time: %v: the reserved message would end with 1201 instead of being sent", code)
		}

		// Now recorded: the same key is a duplicate for every intake.
		if code, _, _ := c.Submit(ctxT(t), sms(s.MsgKey)); code != telegram.ErrDuplicate {
			t.Fatalf("immediate SUBMIT of the sent reserved key: %v, want 1201", code)
		}
		if code, _, _ := c.Submit(ctxT(t), s); code != telegram.ErrDuplicate {
			t.Fatalf("reserved SUBMIT of the key while its row is claimed: %v, want 1201", code)
		}

		// Control: the dist check does find a key the listener recorded
		// (an immediate SUBMIT): had the listener recorded the reserved
		// key, the check above would have failed.
		k2 := newKey()
		if code, _, _ := c.Submit(ctxT(t), sms(k2)); code != telegram.OK {
			t.Fatal(code)
		}
		laneRecords(t, e.lanes['S'])
		if code := distDupCheck(t, e.dup, &msg.Message{ClientID: cliA, MsgKey: k2}, time.Now()); code != telegram.ErrDuplicate {
			t.Fatalf("control: dist check of a recorded key: %v, want 1201", code)
		}
	})
}

// TestReservedKoreanText: a reserved LMS with Korean SUBJECT and TEXT
// (EUC-KR on the wire) is stored in T41 as UTF-8, on PostgreSQL (whose
// UTF-8 columns refuse EUC-KR bytes) and on SQLite, and sch's claim turns it
// back into the very EUC-KR bytes the client sent. The subject is chosen so
// that its EUC-KR bytes are also valid UTF-8 ("짜짝 짤" is C2 A5 C2 A6 20
// C2 A9: "¥¦ ©"): stored raw, sch would read it as that UTF-8 text.
func TestReservedKoreanText(t *testing.T) {
	const subjectUTF8, textUTF8 = "짜짝 짤", "[M1은행] 홍길동님 10,000원 입금되었습니다. 잔액 1,234,567원"
	subject, text := string(layout.MustEUCKR(subjectUTF8)), string(layout.MustEUCKR(textUTF8))
	if !utf8.ValidString(subject) || utf8.ValidString(text) {
		t.Fatal("test text: the subject must be valid UTF-8 as EUC-KR bytes, the text not")
	}
	eachStore(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, envOpt{future: st})
		c := bound(t, e.shared(), cliA, pwA, client.Options{})
		reserve := time.Now().Add(time.Hour)
		s := &telegram.Submit{MsgKey: newKey(), MsgType: 'L', JobClass: 'R', Callback: cbA, Dest: "01012345678",
			ReserveTime: reserve.Format("20060102150405"), Subject: subject, Text: text}
		if code, _, err := c.Submit(ctxT(t), s); err != nil || code != telegram.OK {
			t.Fatalf("reserved Korean SUBMIT: %v %v", code, err)
		}
		row, ok, err := st.T41ByKey(context.Background(), cliA, s.MsgKey)
		if err != nil || !ok {
			t.Fatalf("T41 row: %v %v", ok, err)
		}
		if row.Subject != subjectUTF8 || row.Text != textUTF8 {
			t.Fatalf("T41 holds subject %q text %q, want the UTF-8 %q %q", row.Subject, row.Text, subjectUTF8, textUTF8)
		}
		recs := schClaims(t, e, st, reserve.Add(time.Minute), 1)
		m := recs[0]
		if m.Result != telegram.OK || m.MsgKey != s.MsgKey || m.JobClass != 'R' {
			t.Fatalf("sch's record: %+v", m)
		}
		if m.Subject != subject || m.Text != text {
			t.Fatalf("sch's record holds subject % x text % x, want the EUC-KR sent % x % x", m.Subject, m.Text, subject, text)
		}
	})
}
