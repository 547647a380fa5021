package carrier

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

func samples() []PDU {
	text := string(layout.MustEUCKR("입금 10,000원 잔액 1,234원"))
	return []PDU{
		{Type: Login, Seq: 1, Login: "m1kt1", Password: "secret"},
		{Type: LoginResp, Seq: 1, Result: "00"},
		{Type: Submit, Seq: 99999999, Ref: "17637700001230100042", MsgType: 'L', Callback: "0215881234",
			Dest: "01012345678", Subject: string(layout.MustEUCKR("알림")), Text: text},
		{Type: SubmitResp, Seq: 7, Ref: "17637700001230100042", MsgID: "0000001234", Result: "00"},
		{Type: Report, Seq: 8, MsgID: "0000001234", Ref: "17637700001230100042", Dest: "01012345678",
			DoneTime: "20261121235959", Result: "41", RelayID: "RLY001", CarrierMsgID: "LG0001", CarrierResult: "4401"},
		{Type: ReportResp, Seq: 8, MsgID: "0000001234", Result: "00"},
		{Type: Link, Seq: 9},
		{Type: LinkResp, Seq: 9},
	}
}

// want is what d carries of p: fields a dialect has no room for are lost.
func roundTrip(t *testing.T, d Dialect, p PDU) PDU {
	t.Helper()
	b, err := d.Append([]byte("junk"), &p)
	if err != nil {
		t.Fatal(err)
	}
	b = b[4:]
	n, err := d.FrameLen(b[:d.HeaderLen()])
	if err != nil || n != len(b) {
		t.Fatalf("%s %v: FrameLen %d, %v; frame is %d bytes", d.Name(), p.Type, n, err, len(b))
	}
	var q PDU
	if err := d.Decode(b, &q); err != nil {
		t.Fatalf("%s %v: %v\n%q", d.Name(), p.Type, err, b)
	}
	// ReadFrame finds the same frame in a stream.
	r := bufio.NewReader(bytes.NewReader(append(append([]byte{}, b...), b...)))
	for i := 0; i < 2; i++ {
		f, err := ReadFrame(r, d, nil)
		if err != nil || !bytes.Equal(f, b) {
			t.Fatalf("%s: ReadFrame %d: %q, %v", d.Name(), i, f, err)
		}
	}
	return q
}

func TestRoundTrip(t *testing.T) {
	for _, name := range Names() {
		d, _ := ByName(name)
		for _, p := range samples() {
			switch p.Type {
			case LoginResp, SubmitResp, ReportResp:
				p.Result = SubmitCode(d, Accepted, 0)
			case Report:
				p.Result = ReportCode(d, telegram.RptUnknownSub)
			}
			q := roundTrip(t, d, p)
			if q.Type != p.Type || q.Seq != p.Seq {
				t.Fatalf("%s: type/seq %v/%d, want %v/%d", name, q.Type, q.Seq, p.Type, p.Seq)
			}
			switch p.Type {
			case Login:
				if q.Login != p.Login || q.Password != p.Password {
					t.Fatalf("%s login: %+v", name, q)
				}
			case Submit:
				if q.Ref != p.Ref || q.MsgType != p.MsgType || q.Callback != p.Callback || q.Dest != p.Dest ||
					q.Subject != p.Subject || q.Text != p.Text {
					t.Fatalf("%s submit: %+v", name, q)
				}
			case SubmitResp:
				if q.Ref != p.Ref || q.MsgID != p.MsgID || q.Result != p.Result {
					t.Fatalf("%s submit resp: %+v", name, q)
				}
			case Report:
				if q.Ref != p.Ref || q.MsgID != p.MsgID || q.Result != p.Result || q.DoneTime != p.DoneTime {
					t.Fatalf("%s report: %+v", name, q)
				}
				if name == "lgrelay" && (q.RelayID != p.RelayID || q.CarrierMsgID != p.CarrierMsgID || q.CarrierResult != p.CarrierResult) {
					t.Fatalf("%s report relay fields: %+v", name, q)
				}
			}
		}
	}
}

func TestDialectsDiffer(t *testing.T) {
	p := samples()[2]
	seen := map[string]string{}
	for _, name := range Names() {
		d, _ := ByName(name)
		b, _ := d.Append(nil, &p)
		if other, ok := seen[string(b)]; ok {
			t.Fatalf("%s and %s encode a submit the same", name, other)
		}
		seen[string(b)] = name
	}
	if len(seen) != 3 {
		t.Fatalf("dialects: %v", Names())
	}
	if _, err := ByName("smpp"); !errors.Is(err, ErrUnknownDialect) {
		t.Fatalf("ByName(smpp): %v", err)
	}
}

func TestTextCut(t *testing.T) {
	long := bytes.Repeat(layout.MustEUCKR("가"), 1500) // 3000 bytes
	for _, name := range Names() {
		d, _ := ByName(name)
		q := roundTrip(t, d, PDU{Type: Submit, Ref: "1", Text: string(long)})
		if len(q.Text) != 2000 || !layout.ValidEUCKRString(q.Text) {
			t.Fatalf("%s: text of %d bytes", name, len(q.Text))
		}
	}
}

func TestCodeTables(t *testing.T) {
	for _, name := range Names() {
		d, _ := ByName(name)
		// Every dialect can say each result the simulator produces, and
		// throttle.
		for _, c := range []telegram.Code{telegram.OK, telegram.RptUnknownSub, telegram.RptUnreachable, telegram.RptRejected} {
			cc := ReportCode(d, c)
			if cc == "" {
				t.Fatalf("%s: no report code for %v", name, c)
			}
			o := d.ReportOutcome(&PDU{Result: cc})
			if o.Code != c || (c == telegram.OK) != (o.Class == Delivered) || !o.Final() {
				t.Fatalf("%s: report %s → %+v", name, cc, o)
			}
		}
		if o := d.SubmitOutcome(SubmitCode(d, Throttled, 0)); o.Class != Throttled || o.Final() {
			t.Fatalf("%s: throttle %+v", name, o)
		}
		if o := d.SubmitOutcome(SubmitCode(d, Accepted, 0)); o.Class != Accepted || o.Code != telegram.OK {
			t.Fatalf("%s: accepted %+v", name, o)
		}
		if o := d.SubmitOutcome("??"); o.Class != Rejected || o.Code != telegram.ErrInternal || o.CarrierCode != "??" {
			t.Fatalf("%s: unknown submit code %+v", name, o)
		}
		if o := d.ReportOutcome(&PDU{Result: "??"}); o.Class != Failed || o.Code != telegram.ErrInternal {
			t.Fatalf("%s: unknown report code %+v", name, o)
		}
		for _, tab := range [][]CodeEntry{d.SubmitCodes(), d.ReportCodes()} {
			for _, e := range tab {
				if !e.Code.Known() {
					t.Fatalf("%s: code %s maps onto %v, not a PROTOCOL.md code", name, e.CarrierCode, e.Code)
				}
			}
		}
	}
	// The relay keeps its own code and LG's.
	o := LGRelay.ReportOutcome(&PDU{Result: "R01", CarrierResult: "4401"})
	if o.CarrierCode != "R01:4401" || o.Code != telegram.RptUnknownSub {
		t.Fatalf("relay outcome %+v", o)
	}
}

func TestBadFrames(t *testing.T) {
	for _, name := range Names() {
		d, _ := ByName(name)
		good, _ := d.Append(nil, &PDU{Type: Link, Seq: 1})
		cases := map[string][]byte{
			"short":      good[:len(good)-1],
			"long":       append(append([]byte{}, good...), 'x'),
			"non-digits": bytes.Repeat([]byte{'x'}, len(good)),
		}
		for what, b := range cases {
			var p PDU
			if err := d.Decode(b, &p); !errors.Is(err, ErrFrame) {
				t.Fatalf("%s %s: %v", name, what, err)
			}
		}
	}
}
