package msg

import (
	"testing"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

func BenchmarkMessageEncode(b *testing.B) {
	m := sampleMessage()
	buf := make([]byte, 0, MaxMessageSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Encode(buf[:0])
	}
}

func BenchmarkMessageDecode(b *testing.B) {
	m := sampleMessage()
	rec := m.Encode(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := DecodeMessage(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageCommonView is dist's cheapest read: decode into a reused
// layout.Record and look at a few fields without building the struct.
func BenchmarkMessageCommonView(b *testing.B) {
	m := sampleMessage()
	rec := m.Encode(nil)
	var r layout.Record
	mDest, mJobClass := MessageLayout.MustIndex("DEST"), MessageLayout.MustIndex("JOB_CLASS")
	b.ReportAllocs()
	for b.Loop() {
		if err := MessageLayout.Decode(rec, &r); err != nil {
			b.Fatal(err)
		}
		if len(r.Field(mDest).Bytes()) == 0 || r.Field(mJobClass).Raw()[0] != 'R' {
			b.Fatal("fields")
		}
	}
}

// BenchmarkListenerPath is the listener's work per SUBMIT outside I/O:
// header and body decode, validation, message record encode, response
// encode. The baseline in the same run is BenchmarkMemcpyRecord.
func BenchmarkListenerPath(b *testing.B) {
	s := telegram.Submit{MsgKey: "K0000000001", MsgType: 'S', JobClass: 'R', Callback: "15881234", Dest: "01012345678",
		Text: string(layout.MustEUCKR("입금 10,000원 잔액 1,000원"))}
	frame := s.Append(nil, 1)
	gen, _ := NewIDGen(1)
	rec := make([]byte, 0, MaxMessageSize)
	resp := make([]byte, 0, 64)
	var gwid [20]byte
	b.ReportAllocs()
	for b.Loop() {
		h, body, err := telegram.ParseHeader(frame)
		if err != nil {
			b.Fatal(err)
		}
		sub, err := telegram.DecodeSubmit(body)
		if err != nil {
			b.Fatal(err)
		}
		if c := sub.Validate(telegram.DefaultLimits); c != telegram.OK {
			b.Fatal(c)
		}
		m := FromSubmit(&sub)
		m.ClientID = "BANK01"
		m.GWID = string(gen.AppendNext(gwid[:0]))
		m.AcceptTime = "20261122083000"
		m.DupChecked = true
		rec = m.Encode(rec[:0])
		r := telegram.SubmitResp{MsgKey: sub.MsgKey, GWID: m.GWID}
		resp = r.Append(resp[:0], h.Seq, telegram.OK)
	}
}

func BenchmarkMemcpyRecord(b *testing.B) {
	m := sampleMessage()
	src := m.Encode(nil)
	dst := make([]byte, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(dst, src)
	}
}

func BenchmarkIDGen(b *testing.B) {
	g, _ := NewIDGen(1)
	var buf [20]byte
	b.ReportAllocs()
	for b.Loop() {
		g.AppendNext(buf[:0])
	}
}
