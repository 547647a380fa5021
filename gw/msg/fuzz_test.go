package msg

import (
	"reflect"
	"testing"
)

func FuzzDecodeMessage(f *testing.F) {
	m := sampleMessage()
	f.Add(m.Encode(nil))
	m.Text = ""
	f.Add(m.Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeMessage(b)
		if err != nil {
			return
		}
		again, err := DecodeMessage(got.Encode(nil))
		if err != nil || again != got {
			t.Fatalf("round trip %+v\n%+v\n%v", got, again, err)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	m := sampleMessage()
	f.Add((&Event{Kind: KindAccept, GWID: "1", HasMsg: true, Msg: m}).Encode(nil))
	f.Add((&Event{Kind: KindReport, GWID: "1", CarrierMsgID: "x", ResultCode: 3001}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeEvent(b)
		if err != nil {
			return
		}
		again, err := DecodeEvent(got.Encode(nil))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip %+v\n%+v\n%v", got, again, err)
		}
	})
}

func FuzzDecodeRPT(f *testing.F) {
	f.Add((&RPT{ClientID: "C", MsgKey: "K", GWID: "1", ReportCode: 3004}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeRPT(b)
		if err != nil {
			return
		}
		again, err := DecodeRPT(got.Encode(nil))
		if err != nil || again != got {
			t.Fatalf("round trip %+v\n%+v\n%v", got, again, err)
		}
	})
}

func FuzzDecodeBulk(f *testing.F) {
	f.Add((&Bulk{ClientID: "C", MsgKey: "K", MsgType: 'S', JobClass: 'B', Text: "hello"}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeBulk(b)
		if err != nil {
			return
		}
		again, err := DecodeBulk(got.Encode(nil))
		if err != nil || again != got {
			t.Fatalf("round trip %+v\n%+v\n%v", got, again, err)
		}
	})
}
