package tkm

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
)

// FuzzCheckAndPending: any record bytes give an item without panicking (a
// queued item encodes within the lane's record size), and any pending
// journal text reads without panicking, and a journal that parses is
// exactly what encoding it gives.
func FuzzCheckAndPending(f *testing.F) {
	b := bulk("F", 1)
	f.Add(b.Encode(nil), encodeJournal(journal{first: 1, last: 3, entries: []pendEntry{
		{line: 1, gwid: "17637700001230300042", lane: 'S', state: stateFresh, clientID: "BANK01", msgKey: "K1"},
		{line: 3, gwid: "17637700001230300043", lane: 'B', state: stateQueued, clientID: "BANK01", msgKey: "키"}}}))
	f.Add(make([]byte, msg.BulkRecordLen), []byte("M1TKMP2 x"))
	f.Add(make([]byte, 10), []byte("M1TKMP1 1 3\n00000001 17637700001230300042\n"))
	dir := f.TempDir()
	cfg := &config.Config{}
	t := &Tkm{opts: Options{Config: cfg, Now: nowFixed}, log: zap.NewNop(), lim: msg.Limits{SMSText: 90, LMSText: 2000, Subject: 40}, spool: dir}
	f.Fuzz(func(tt *testing.T, rec, journal []byte) {
		it := t.check(rec, 1, "fuzz.dat")
		if it.m != nil {
			if n := len(it.m.Encode(nil)); n > msg.MaxMessageSize {
				tt.Fatalf("record of %d bytes", n)
			}
		}
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p+SuffixPending, journal, 0o600); err != nil {
			tt.Fatal(err)
		}
		j := &job{t: t, path: p, log: zap.NewNop()}
		_ = j.readPending()
		// What parses encodes back to the same bytes: entries are fixed.
		if jr, err := parseJournal(journal); err == nil && string(encodeJournal(jr)) != string(journal) {
			tt.Fatalf("journal %q reads back as %q", journal, encodeJournal(jr))
		}
	})
}
