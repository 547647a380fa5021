package lsnr

import (
	"testing"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
)

func TestSubmitStoredInItsLane(t *testing.T) {
	e := newEnv(t, envOpt{})
	c := bound(t, e.shared(), cliA, pwA, client.Options{})
	for _, jc := range []byte{'R', 'S', 'B'} {
		s := sms(newKey())
		s.JobClass = jc
		code, resp, err := c.Submit(ctxT(t), s)
		if err != nil || code != telegram.OK {
			t.Fatalf("SUBMIT %c: %v %v", jc, code, err)
		}
		if resp.MsgKey != s.MsgKey || len(resp.GWID) != 20 || resp.GWID == "00000000000000000000" {
			t.Fatalf("SUBMIT_RESP %+v", resp)
		}
		recs := laneRecords(t, e.lanes[jc])
		if len(recs) != 1 {
			t.Fatalf("lane %c holds %d records", jc, len(recs))
		}
		m := recs[0]
		if m.GWID != resp.GWID || m.ClientID != cliA || m.MsgKey != s.MsgKey || !m.DupChecked || m.JobClass != jc ||
			m.Dest != s.Dest || m.Callback != cbA || m.Text != "hello" || m.AcceptTime == "" || m.Source != 'L' {
			t.Fatalf("record %+v", m)
		}
	}
}
