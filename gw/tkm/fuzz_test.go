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
// journal text reads without panicking.
func FuzzCheckAndPending(f *testing.F) {
	b := bulk("F", 1)
	f.Add(b.Encode(nil), []byte("M1TKMP1 1 3\n00000001 17637700001230300042\n"))
	f.Add(make([]byte, msg.BulkRecordLen), []byte("M1TKMP1 x"))
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
	})
}
