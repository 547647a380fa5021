package telegram

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m1gw/m1/gw/layout"
)

func sampleSubmit() Submit {
	return Submit{
		MsgKey: "K0000000001", MsgType: 'S', JobClass: 'R', Callback: "15881234", Dest: "01012345678",
		ReserveTime: "", Subject: "", Text: string(layout.MustEUCKR("입금 10,000원 잔액 1,000원")),
	}
}

func frameBody(t *testing.T, f []byte) (Header, []byte) {
	t.Helper()
	h, body, err := ParseHeader(f)
	if err != nil {
		t.Fatalf("ParseHeader(%q): %v", f, err)
	}
	return h, body
}

func TestRoundTripEveryType(t *testing.T) {
	sub := sampleSubmit()
	sub.Subject = string(layout.MustEUCKR("제목"))
	sub.ReserveTime = "20261231235959"
	h, body := frameBody(t, sub.Append(nil, 7))
	if h.Type != TypeSubmit || h.Seq != 7 || h.Result != OK || h.Len != 16+len(body) {
		t.Fatalf("header %+v", h)
	}
	got, err := DecodeSubmit(body)
	if err != nil || got != sub {
		t.Fatalf("submit: %+v %v", got, err)
	}

	bind := Bind{ClientID: "BANK01", Password: "secret", Version: 1}
	_, body = frameBody(t, bind.Append(nil, 1))
	if gb, err := DecodeBind(body); err != nil || gb != bind {
		t.Errorf("bind %+v %v", gb, err)
	}

	sr := SubmitResp{MsgKey: "K1", GWID: "17637700000000100001"}
	h, body = frameBody(t, sr.Append(nil, 9, OK))
	if gs, err := DecodeSubmitResp(body); err != nil || gs != sr || h.Type != TypeSubmitResp {
		t.Errorf("submit resp %+v %v", gs, err)
	}

	ms := MultiSubmit{MsgType: 'L', JobClass: 'B', Callback: "0212345678", Subject: "subj", Text: "hello",
		Dests: []MultiDest{{"A1", "01011112222"}, {"A2", "0101113333"}}}
	_, body = frameBody(t, ms.Append(nil, 2))
	if gm, err := DecodeMultiSubmit(body); err != nil || !reflect.DeepEqual(gm, ms) {
		t.Errorf("multi %+v %v", gm, err)
	}

	mr := MultiSubmitResp{Results: []MultiResult{{"A1", "1", OK}, {"A2", "", ErrDest}}}
	_, body = frameBody(t, mr.Append(nil, 2, OK))
	gmr, err := DecodeMultiSubmitResp(body)
	mr.Results[0].GWID = "00000000000000000001"
	if err != nil || !reflect.DeepEqual(gmr, mr) {
		t.Errorf("multi resp %+v %v", gmr, err)
	}

	rp := Report{MsgKey: "K1", GWID: "12345678901234567890", Carrier: "SKT", DoneTime: "20261122010203", ReportCode: RptUnreachable}
	_, body = frameBody(t, rp.Append(nil, 3))
	if gr, err := DecodeReport(body); err != nil || gr != rp {
		t.Errorf("report %+v %v", gr, err)
	}
	rr := ReportResp{MsgKey: "K1", GWID: "12345678901234567890"}
	_, body = frameBody(t, rr.Append(nil, 3, OK))
	if g, err := DecodeReportResp(body); err != nil || g != rr {
		t.Errorf("report resp %+v %v", g, err)
	}
	for _, ty := range []Type{TypeBindResp, TypeLink, TypeLinkResp, TypeUnbind, TypeUnbindResp} {
		h, body := frameBody(t, AppendEmpty(nil, ty, 5, ErrAuth))
		if h.Type != ty || h.Len != 16 || h.Result != ErrAuth || CheckEmpty(ty, body) != nil {
			t.Errorf("%v: %+v", ty, h)
		}
		if !ty.Known() || BodyLayout(ty) != nil {
			t.Errorf("%v: known/body layout", ty)
		}
	}
	if Type(1234).Known() || TypeSubmit.Response() != TypeSubmitResp || TypeMultiSubmit.Response() != TypeMultiSubmitResp {
		t.Error("type helpers")
	}
}

func TestCodes(t *testing.T) {
	if len(Codes()) != 19 {
		t.Errorf("%d codes", len(Codes()))
	}
	for _, c := range Codes() {
		if !c.Known() || c.Meaning() == "unknown code" || len(c.String()) != 4 {
			t.Errorf("code %v", c)
		}
	}
	if OK.String() != "0000" || Code(1).Known() {
		t.Error("code strings")
	}
}

func TestDecodeErrorCodes(t *testing.T) {
	sub := sampleSubmit()
	good := sub.Append(nil, 1)
	_, body := frameBody(t, good)
	mut := func(off int, s string) []byte {
		b := bytes.Clone(body)
		copy(b[off:], s)
		return b
	}
	textLenOff, _ := SubmitLayout.Offset(SubmitLayout.MustIndex("TEXT_LEN"))
	reserveOff, _ := SubmitLayout.Offset(SubmitLayout.MustIndex("RESERVE_TIME"))
	subjOff, _ := SubmitLayout.Offset(SubmitLayout.MustIndex("SUBJECT"))
	cases := []struct {
		name string
		b    []byte
		want Code
	}{
		{"textlen longer", mut(textLenOff, "0099"), ErrFraming},
		{"textlen shorter", mut(textLenOff, "0001"), ErrFraming},
		{"textlen nondigit", mut(textLenOff, "00x1"), ErrField},
		{"reserve nondigit", mut(reserveOff, "2026-"), ErrField},
		{"subject not euc-kr", mut(subjOff, "\xff\xfe"), ErrTooLong},
		{"truncated", body[:50], ErrFraming},
	}
	for _, c := range cases {
		_, err := DecodeSubmit(c.b)
		if got := ResultOf(err); got != c.want {
			t.Errorf("%s: %v (%v), want %v", c.name, got, err, c.want)
		}
	}
	ms := MultiSubmit{MsgType: 'S', JobClass: 'S', Callback: "15881234", Text: "x", Dests: []MultiDest{{"A", "01012345678"}}}
	_, mb := frameBody(t, ms.Append(nil, 1))
	cntOff := len(mb) - 36 - 3
	for _, cnt := range []string{"000", "101", "0x1"} {
		b := bytes.Clone(mb)
		copy(b[cntOff:], cnt)
		if _, err := DecodeMultiSubmit(b); ResultOf(err) != ErrField {
			t.Errorf("DEST_CNT %s: %v", cnt, err)
		}
	}
	b := bytes.Clone(mb)
	copy(b[cntOff-5:], "0002") // TEXT_LEN 2 instead of 1
	if _, err := DecodeMultiSubmit(b); ResultOf(err) != ErrFraming {
		t.Errorf("TEXT_LEN disagreeing: %v", err)
	}
	b = bytes.Clone(mb)
	copy(b[cntOff:], "002")
	if _, err := DecodeMultiSubmit(b); ResultOf(err) != ErrFraming {
		t.Errorf("DEST_CNT past the end: %v", err)
	}
	// Header problems.
	bad := bytes.Clone(good)
	copy(bad[8:], "0000000x")
	if _, _, err := ParseHeader(bad); ResultOf(err) != ErrField || layout.FieldOf(err) != "SEQ" {
		t.Errorf("bad SEQ: %v", err)
	}
	bad = bytes.Clone(good)
	copy(bad, "0016")
	if _, _, err := ParseHeader(bad); ResultOf(err) != ErrFraming {
		t.Errorf("LEN vs frame: %v", err)
	}
	if err := CheckEmpty(TypeLink, []byte("x")); ResultOf(err) != ErrFraming {
		t.Errorf("body on LINK: %v", err)
	}
	if ResultOf(errors.New("x")) != ErrInternal || ResultOf(nil) != OK {
		t.Error("ResultOf")
	}
}

func TestValidate(t *testing.T) {
	lim := DefaultLimits
	long := strings.Repeat("a", 91)
	lms := string(layout.MustEUCKR(strings.Repeat("가", 1000))) // 2000 bytes
	cases := []struct {
		name string
		f    func(*Submit)
		want Code
	}{
		{"ok", func(*Submit) {}, OK},
		{"blank key", func(s *Submit) { s.MsgKey = "" }, ErrField},
		{"msg type", func(s *Submit) { s.MsgType = 'X' }, ErrField},
		{"job class", func(s *Submit) { s.JobClass = ' ' }, ErrField},
		{"bad time", func(s *Submit) { s.ReserveTime = "20260230120000" }, ErrField},
		{"bad hour", func(s *Submit) { s.ReserveTime = "20260228240000" }, ErrField},
		{"leap day", func(s *Submit) { s.ReserveTime = "20280229120000" }, OK},
		{"callback letters", func(s *Submit) { s.Callback = "1588-1234" }, ErrDest},
		{"callback short", func(s *Submit) { s.Callback = "1234567" }, ErrDest},
		{"dest letters", func(s *Submit) { s.Dest = "0101234567a" }, ErrDest},
		{"dest landline", func(s *Submit) { s.Dest = "0212345678" }, ErrDest},
		{"dest short", func(s *Submit) { s.Dest = "010123456" }, ErrDest},
		{"dest 10 digits", func(s *Submit) { s.Dest = "0111234567" }, OK},
		{"sms 91", func(s *Submit) { s.Text = long }, ErrTooLong},
		{"sms 90", func(s *Submit) { s.Text = long[:90] }, OK},
		{"lms 2000", func(s *Submit) { s.MsgType = 'L'; s.Text = lms }, OK},
		{"lms 2001", func(s *Submit) { s.MsgType = 'L'; s.Text = lms + "a" }, ErrTooLong},
		{"not euc-kr", func(s *Submit) { s.Text = "\xc9\xa1" }, ErrTooLong},
		{"subject 41", func(s *Submit) { s.MsgType = 'L'; s.Subject = strings.Repeat("s", 41) }, ErrTooLong},
	}
	for _, c := range cases {
		s := sampleSubmit()
		c.f(&s)
		if got := s.Validate(lim); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := (Limits{SMSText: 10, LMSText: 20, Subject: 5}).CheckText('S', "", strings.Repeat("a", 11)); got != ErrTooLong {
		t.Errorf("configured limit: %v", got)
	}
	ms := MultiSubmit{MsgType: 'S', JobClass: 'S', Callback: "15881234", Text: "x", Dests: []MultiDest{{"A", "01012345678"}, {"", "01012345678"}, {"C", "999"}}}
	if ms.Validate(lim) != OK || ms.ValidateDest(0) != OK || ms.ValidateDest(1) != ErrField || ms.ValidateDest(2) != ErrDest || ms.ValidateDest(3) != ErrField {
		t.Error("multi validation")
	}
}

// chunkReader returns its data a few bytes at a time and a timeout error
// between chunks, as a net.Conn with a read deadline would.
type chunkReader struct {
	data  []byte
	chunk int
	flip  bool
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.flip = !c.flip
	if c.flip {
		return 0, timeoutErr{}
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestReaderResumesAfterTimeout(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := 0; i < 50; i++ {
		s := sampleSubmit()
		f := s.Append(nil, uint32(i))
		want = append(want, f)
		stream = append(stream, f...)
		want = append(want, AppendEmpty(nil, TypeLink, uint32(i), OK))
		stream = append(stream, want[len(want)-1]...)
	}
	r := NewReader(&chunkReader{data: stream, chunk: 7}, 0)
	var got [][]byte
	timeouts := 0
	for {
		f, err := r.Next()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			timeouts++
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, bytes.Clone(f))
	}
	if timeouts == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d telegrams (%d timeouts), want %d", len(got), timeouts, len(want))
	}
}

func TestReaderBadLen(t *testing.T) {
	for _, s := range []string{"0015", "x016", "9999", "0000"} {
		in := s + strings.Repeat("0", 20) // for 9999: a valid LEN with a short body
		r := NewReader(strings.NewReader(in), 0)
		_, err := r.Next()
		if s == "9999" {
			if err != io.ErrUnexpectedEOF {
				t.Errorf("short body: %v", err)
			}
			continue
		}
		if ResultOf(err) != ErrFraming {
			t.Errorf("LEN %q: %v", s, err)
		}
		if _, err2 := r.Next(); err2 != err {
			t.Errorf("framing error not sticky: %v", err2)
		}
	}
}

func TestReaderOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		s := sampleSubmit()
		var buf []byte
		for i := 0; i < 1000; i++ {
			buf = s.Append(buf, uint32(i))
		}
		_, err = c.Write(buf)
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := NewReader(c, 0)
	for i := 0; i < 1000; i++ {
		f, err := r.Next()
		if err != nil {
			t.Fatalf("telegram %d: %v", i, err)
		}
		h, body, err := ParseHeader(f)
		if err != nil || h.Seq != uint32(i) {
			t.Fatalf("telegram %d: %+v %v", i, h, err)
		}
		if _, err := DecodeSubmit(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLayoutsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/LAYOUTS.md")
	if err != nil {
		t.Skipf("docs/LAYOUTS.md: %v", err)
	}
	for _, l := range Layouts() {
		if !bytes.Contains(doc, []byte(l.Markdown())) {
			t.Errorf("docs/LAYOUTS.md lacks the current table of %s:\n%s", l.Name, l.Markdown())
		}
	}
}
