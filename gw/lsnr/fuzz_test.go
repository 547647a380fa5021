package lsnr

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
)

// FuzzLoadPending: whatever a pending report file holds (torn, corrupt,
// foreign), loading it never panics, returns only decodable reports, and
// leaves a file of exactly the pending entries.
func FuzzLoadPending(f *testing.F) {
	r := msg.RPT{ClientID: "CLIA", MsgKey: "K1", GWID: "00000000000000000001", Carrier: "KT", DoneTime: "20261121120000",
		ReportCode: telegram.OK}
	good := appendEntry(nil, &r)
	f.Add(good)
	f.Add(append(append([]byte{}, good...), good[:30]...))
	acked := append([]byte{}, good...)
	acked[0] = stateAcked
	f.Add(append(acked, good...))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "X.rpt")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pf, rpts, _, err := loadPending(path)
		if err != nil {
			t.Fatal(err)
		}
		defer pf.close()
		if pf.n != len(rpts) {
			t.Fatalf("n %d for %d reports", pf.n, len(rpts))
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != int64(len(rpts)*entrySize) {
			t.Fatalf("file of %d bytes for %d reports", fi.Size(), len(rpts))
		}
	})
}
