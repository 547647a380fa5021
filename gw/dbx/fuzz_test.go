package dbx

import (
	"testing"
	"unicode/utf8"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// FuzzEventToStore: whatever bytes come off the DBX queue, decoding and
// conversion never panic, and what reaches the database is valid UTF-8
// text of the same GW_ID and kind.
func FuzzEventToStore(f *testing.F) {
	m := message(gwid(1), msg.SourceListener)
	for _, e := range []msg.Event{accept(m), ack(m.GWID), report(m.GWID, telegram.OK), final(m, telegram.ErrDest)} {
		f.Add(e.Encode(nil))
	}
	senders := map[string]string{"KT1": "KT"}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := msg.DecodeEvent(b)
		if err != nil {
			return
		}
		se := ToStore(&e, senders)
		if se.Kind != store.EventKind(e.Kind) || (e.GWID != "" && se.GWID != e.GWID) {
			t.Fatalf("event %+v became %+v", e, se)
		}
		for _, s := range []string{se.Text, se.Subject, se.ClientID, se.MsgKey, se.Callback, se.Dest, se.Carrier,
			se.Sender, se.CarrierMsgID, se.CarrierCode, se.MsgType, se.JobClass, se.PortedCarrier} {
			if !utf8.ValidString(s) {
				t.Fatalf("not UTF-8: %q", s)
			}
		}
		if len(se.ResultCode) > 4 || len(se.AckCode) > 4 {
			t.Fatalf("codes %q %q", se.ResultCode, se.AckCode)
		}
	})
}
