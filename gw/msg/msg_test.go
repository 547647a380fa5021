package msg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

func sampleMessage() Message {
	return Message{
		GWID: "17637700001230100042", Source: SourceListener, ClientID: "BANK01", MsgKey: "K0000000001", MsgSeq: 0,
		MsgType: 'L', JobClass: 'R', AcceptTime: "20261122083000", SendTime: "", ExpireTime: "20261122093000",
		Carrier: "KT", Sender: "KT1", Result: telegram.OK, DupChecked: true, Reroutes: 1, SrcRef: "127.0.0.1:40001",
		Callback: "15881234", Dest: "01012345678", Subject: string(layout.MustEUCKR("알림")),
		Text: string(layout.MustEUCKR("입금 10,000원\n잔액 1,000원 ")),
	}
}

func TestSizes(t *testing.T) {
	checks := []struct {
		name      string
		got, want int
	}{
		{"CommonLen", CommonLayout.MaxLen(), CommonLen},
		{"IndividualMin", IndividualLayout.MinLen(), IndividualMin},
		{"MaxMessageSize", MessageLayout.MaxLen(), MaxMessageSize},
		{"EventHead", EventLayout.MinLen(), EventHeadLen},
		{"MaxEventSize", EventLayout.MaxLen(), MaxEventSize},
		{"RPTSize", RPTLayout.MaxLen(), RPTSize},
		{"BulkRecordLen", BulkLayout.MaxLen(), BulkRecordLen},
		{"BulkResultLen", BulkResultLayout.MaxLen(), BulkResultLen},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: layout says %d, constant %d", c.name, c.got, c.want)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	m := sampleMessage()
	b := m.Encode(nil)
	if len(b) != m.Size() {
		t.Errorf("size %d, Size() %d", len(b), m.Size())
	}
	got, err := DecodeMessage(b)
	if err != nil || got != m {
		t.Fatalf("%+v\n%+v\n%v", got, m, err)
	}
	c, ind, ok := SplitMessage(b)
	if !ok || len(c) != CommonLen || !bytes.HasPrefix(ind, []byte("15881234")) {
		t.Errorf("split %q", c)
	}
	var r layout.Record
	if err := CommonLayout.Decode(c, &r); err != nil || r.Get("CLIENT_ID").String() != "BANK01" {
		t.Errorf("common part alone: %v", err)
	}
	// Long values are cut, the record stays decodable.
	m.Text = string(layout.MustEUCKR(strings.Repeat("가", 1001)))
	m.MsgKey = strings.Repeat("k", 30)
	b = m.Encode(nil)
	if len(b) != MaxMessageSize {
		t.Errorf("max record %d", len(b))
	}
	got, err = DecodeMessage(b)
	if err != nil || len(got.Text) != 2000 || len(got.MsgKey) != 20 {
		t.Errorf("cut: %d %d %v", len(got.Text), len(got.MsgKey), err)
	}
	// A record of another version is refused.
	b[1] = '2'
	if _, err := DecodeMessage(b); layout.FieldOf(err) != "VERSION" {
		t.Errorf("version: %v", err)
	}
	if _, err := DecodeMessage(b[:100]); layout.KindOf(err) != layout.Framing {
		t.Errorf("short: %v", err)
	}
}

func TestMessageValidate(t *testing.T) {
	m := sampleMessage()
	if c := m.Validate(telegram.DefaultLimits); c != telegram.OK {
		t.Errorf("valid message: %v", c)
	}
	m.Dest = "12345"
	if c := m.Validate(telegram.DefaultLimits); c != telegram.ErrDest {
		t.Errorf("bad dest: %v", c)
	}
	s := telegram.Submit{MsgKey: "K", MsgType: 'S', JobClass: 'S', Callback: "15881234", Dest: "01012345678", Text: "hi"}
	fm := FromSubmit(&s)
	if fm.Source != SourceListener || fm.Dest != s.Dest || fm.Text != "hi" {
		t.Errorf("FromSubmit %+v", fm)
	}
	ms := telegram.MultiSubmit{MsgType: 'S', JobClass: 'B', Callback: "15881234", Text: "x", Dests: []telegram.MultiDest{{MsgKey: "A", Dest: "01011112222"}}}
	if fm := FromMultiSubmit(&ms, 0); fm.MsgKey != "A" || fm.Dest != "01011112222" || fm.JobClass != 'B' {
		t.Errorf("FromMultiSubmit %+v", fm)
	}
}

func TestEventRoundTrip(t *testing.T) {
	m := sampleMessage()
	events := []Event{
		{Kind: KindAccept, GWID: m.GWID, EventTime: "20261122083001", Carrier: "KT", Sender: "KT1", HasMsg: true, Msg: m},
		{Kind: KindAck, GWID: m.GWID, EventTime: "20261122083002", Carrier: "KT", Sender: "KT1", CarrierMsgID: "KT-000123456789", AckCode: telegram.OK, CarrierCode: "00"},
		{Kind: KindReport, GWID: m.GWID, EventTime: "20261122083010", Carrier: "KT", CarrierMsgID: "KT-000123456789", ResultCode: telegram.RptUnreachable, CarrierCode: "E105"},
		{Kind: KindFinal, GWID: m.GWID, EventTime: "20261122083000", ResultCode: telegram.ErrDuplicate, HasMsg: true, Msg: m},
	}
	for _, e := range events {
		b := e.Encode(nil)
		if len(b) > MaxEventSize {
			t.Errorf("%c: %d bytes", e.Kind, len(b))
		}
		got, err := DecodeEvent(b)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("%c: %+v %v", e.Kind, got, err)
		}
	}
	bad := events[0]
	bad.HasMsg = false
	if _, err := DecodeEvent(bad.Encode(nil)); layout.FieldOf(err) != "MSG_CNT" {
		t.Errorf("accept without message: %v", err)
	}
	bad.Kind = 'Z'
	if _, err := DecodeEvent(bad.Encode(nil)); layout.FieldOf(err) != "KIND" {
		t.Errorf("bad kind: %v", err)
	}
}

func TestRPTRoundTrip(t *testing.T) {
	p := RPT{ClientID: "BANK01", MsgKey: "K1", GWID: "17637700001230100042", Carrier: "SKT", DoneTime: "20261122083010", ReportCode: telegram.RptTimeout}
	b := p.Encode(nil)
	if len(b) != RPTSize {
		t.Errorf("%d bytes", len(b))
	}
	got, err := DecodeRPT(b)
	if err != nil || got != p {
		t.Errorf("%+v %v", got, err)
	}
	if r := got.Report(); r.GWID != p.GWID || r.ReportCode != p.ReportCode {
		t.Errorf("report %+v", r)
	}
}

func TestBulk(t *testing.T) {
	b := Bulk{ClientID: "BANK01", MsgKey: "F1", MsgType: 'L', JobClass: 'B', Callback: "15881234", Dest: "01012345678",
		Subject: string(layout.MustEUCKR("제목")), Text: string(layout.MustEUCKR("첫 줄\r\n둘째 줄  "))}
	rec := b.Encode(nil)
	if len(rec) != BulkRecordLen {
		t.Fatalf("record %d bytes", len(rec))
	}
	got, err := DecodeBulk(rec)
	if err != nil || got != b {
		t.Fatalf("%+v %v", got, err)
	}
	if m := got.Message(); m.Source != SourceFile || m.Text != b.Text {
		t.Errorf("message %+v", m)
	}
	// A file: LF, CR LF, no line end at the end; TEXT holds a line break.
	var file []byte
	file = append(append(file, rec...), '\n')
	file = append(append(file, rec...), '\r', '\n')
	file = append(file, rec...)
	br := bufio.NewReader(bytes.NewReader(file))
	var buf []byte
	for i := 0; i < 3; i++ {
		line, err := ReadBulkRecord(br, buf)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if g, err := DecodeBulk(line); err != nil || g != b {
			t.Fatalf("record %d: %v", i, err)
		}
		buf = line
	}
	if _, err := ReadBulkRecord(br, buf); err != io.EOF {
		t.Errorf("end: %v", err)
	}
	br = bufio.NewReader(bytes.NewReader(append(bytes.Clone(rec), 'X')))
	if _, err := ReadBulkRecord(br, nil); !errors.Is(err, ErrBulkLineEnd) {
		t.Errorf("no line end: %v", err)
	}
	br = bufio.NewReader(bytes.NewReader(rec[:100]))
	if _, err := ReadBulkRecord(br, nil); err != io.ErrUnexpectedEOF {
		t.Errorf("short: %v", err)
	}
	// Bad records.
	tlOff, _ := BulkLayout.Offset(BulkLayout.MustIndex("TEXT_LEN"))
	bad := bytes.Clone(rec)
	copy(bad[tlOff:], "2001")
	if _, err := DecodeBulk(bad); telegram.ResultOf(err) != telegram.ErrField {
		t.Errorf("TEXT_LEN 2001: %v", err)
	}
	bad = bytes.Clone(rec)
	copy(bad[tlOff:], "0001") // cuts 첫 in two
	if _, err := DecodeBulk(bad); telegram.ResultOf(err) != telegram.ErrField {
		t.Errorf("bytes after TEXT_LEN: %v", err)
	}
	short := Bulk{Text: string(layout.MustEUCKR("가"))}
	bad = short.Encode(nil)
	copy(bad[tlOff:], "0001")
	if _, err := DecodeBulk(bad); telegram.ResultOf(err) != telegram.ErrField {
		t.Errorf("split character then a trail byte: %v", err)
	}
	res := AppendBulkResult(nil, 12, "F1", telegram.ErrDest, "")
	if string(res) != "00000012F1                  120300000000000000000000\n" {
		t.Errorf("result line %q", res)
	}
}

func TestIDGenUnique(t *testing.T) {
	g, err := NewIDGen(7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewIDGen(100); err == nil {
		t.Error("node 100 accepted")
	}
	const workers, per = 4, 20000
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				ids[w] = append(ids[w], g.Next())
			}
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, workers*per)
	for w := range workers {
		for i, id := range ids[w] {
			if len(id) != 20 || id[13:15] != "07" {
				t.Fatalf("bad id %q", id)
			}
			if i > 0 && id <= ids[w][i-1] {
				t.Fatalf("ids of one goroutine not increasing: %s after %s", id, ids[w][i-1])
			}
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
	}
}

func TestIDGenClock(t *testing.T) {
	g, _ := NewIDGen(1)
	clock := int64(1763770000000)
	g.now = func() int64 { return clock }
	first := g.Next()
	if first != "17637700000000100000" {
		t.Errorf("first id %s", first)
	}
	// Clock steps back: ids keep increasing.
	clock -= 5000
	prev := first
	for i := 0; i < 150000; i++ { // more than one millisecond's counter
		id := g.Next()
		if id <= prev {
			t.Fatalf("id %s after %s with the clock behind", id, prev)
		}
		prev = id
	}
	if prev[:13] != "1763770000001" {
		t.Errorf("ran ahead to %s, want the next millisecond", prev)
	}
	// Counter used up in the current millisecond: Next waits for the clock.
	g2, _ := NewIDGen(2)
	var mu sync.Mutex
	c2 := int64(1000)
	calls := 0
	g2.now = func() int64 {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 100005 {
			return c2 + 1
		}
		return c2
	}
	var last string
	for i := 0; i <= ctrMax+1; i++ {
		last = g2.Next()
	}
	if last != "00000000010010200000" {
		t.Errorf("after overflow %s", last)
	}
}
