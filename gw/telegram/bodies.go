package telegram

import (
	"strconv"

	"github.com/m1gw/m1/gw/layout"
)

// The body structs hold AN values without their padding, and K values
// (SUBJECT, TEXT) as the EUC-KR bytes of the telegram, unconverted: M1 keeps
// text in EUC-KR end to end (layout.ToUTF8 shows it). N times are their 14
// digits, "" when the field is all zeros. Decoding a body costs one
// allocation (the string of the body every field is a substring of), plus
// the slice of destinations of a MULTI_SUBMIT.

// Bind is the body of BIND (0600).
type Bind struct {
	ClientID string
	Password string
	Version  int
}

// Submit is the body of SUBMIT (0200).
type Submit struct {
	MsgKey      string
	MsgType     byte // 'S' SMS, 'L' LMS
	JobClass    byte // 'R', 'B', 'S'
	Callback    string
	Dest        string
	ReserveTime string // YYYYMMDDhhmmss, "" = now
	Subject     string // EUC-KR
	Text        string // EUC-KR
}

// SubmitResp is the body of SUBMIT_RESP (0210).
type SubmitResp struct {
	MsgKey string
	GWID   string // 20 digits; "" encodes as zeros
}

// MultiSubmit is the body of MULTI_SUBMIT (0250).
type MultiSubmit struct {
	MsgType     byte
	JobClass    byte
	Callback    string
	ReserveTime string
	Subject     string
	Text        string
	Dests       []MultiDest
}

// MultiDest is one destination of a MULTI_SUBMIT.
type MultiDest struct {
	MsgKey string
	Dest   string
}

// MultiSubmitResp is the body of MULTI_SUBMIT_RESP (0260).
type MultiSubmitResp struct {
	Results []MultiResult
}

// MultiResult is one destination's result in a MULTI_SUBMIT_RESP.
type MultiResult struct {
	MsgKey string
	GWID   string
	Result Code
}

// Report is the body of REPORT (0300).
type Report struct {
	MsgKey     string
	GWID       string
	Carrier    string
	DoneTime   string
	ReportCode Code
}

// ReportResp is the body of REPORT_RESP (0310).
type ReportResp struct {
	MsgKey string
	GWID   string
}

// anByte is an AN1 field's byte; a NUL (legacy padding) reads as a space.
func anByte(v layout.Value) byte {
	if b := v.Raw(); len(b) == 1 && b[0] != 0 {
		return b[0]
	}
	return ' '
}

// timeIn is a time field as a substring of s, "" when all zeros.
func timeIn(v layout.Value, s string) string {
	for _, c := range v.Raw() {
		if c != '0' {
			return v.In(s)
		}
	}
	return ""
}

// appendByte appends an AN1 field; the zero byte (unset) is a space.
func appendByte(dst []byte, c byte) []byte {
	if c == 0 {
		c = ' '
	}
	return append(dst, c)
}

// DecodeBind decodes a BIND body.
func DecodeBind(body []byte) (Bind, error) {
	var r layout.Record
	if err := BindLayout.Decode(body, &r); err != nil {
		return Bind{}, err
	}
	s := string(body)
	return Bind{ClientID: r.Field(0).In(s), Password: r.Field(1).In(s), Version: r.Field(2).Int()}, nil
}

// Append appends the BIND telegram.
func (b *Bind) Append(dst []byte, seq uint32) []byte {
	dst, st := Begin(dst, TypeBind, seq, OK)
	dst = layout.AppendAN(dst, b.ClientID, 10)
	dst = layout.AppendAN(dst, b.Password, 20)
	dst = layout.AppendN(dst, uint64(b.Version), 4)
	return Finish(dst, st)
}

var (
	fSubMsgKey, fSubMsgType, fSubJob, fSubCallback = SubmitLayout.MustFixed("MSG_KEY"), SubmitLayout.MustFixed("MSG_TYPE"), SubmitLayout.MustFixed("JOB_CLASS"), SubmitLayout.MustFixed("CALLBACK")
	fSubDest, fSubReserve, fSubSubject, fSubText   = SubmitLayout.MustFixed("DEST"), SubmitLayout.MustFixed("RESERVE_TIME"), SubmitLayout.MustFixed("SUBJECT"), SubmitLayout.MustFixed("TEXT")
)

// DecodeSubmit decodes a SUBMIT body. A TEXT_LEN that disagrees with the
// body's length is a framing error (1001, ResultOf).
func DecodeSubmit(body []byte) (Submit, error) {
	var r layout.Record
	if err := SubmitLayout.Decode(body, &r); err != nil {
		return Submit{}, err
	}
	s := string(body)
	return Submit{
		MsgKey:      fSubMsgKey.AN(s, 0),
		MsgType:     fSubMsgType.Byte(s, 0),
		JobClass:    fSubJob.Byte(s, 0),
		Callback:    fSubCallback.AN(s, 0),
		Dest:        fSubDest.AN(s, 0),
		ReserveTime: fSubReserve.NonZero(s, 0),
		Subject:     fSubSubject.AN(s, 0),
		Text:        s[fSubText.Off:],
	}, nil
}

// Append appends the SUBMIT telegram.
func (m *Submit) Append(dst []byte, seq uint32) []byte {
	dst, st := Begin(dst, TypeSubmit, seq, OK)
	dst = layout.AppendAN(dst, m.MsgKey, 20)
	dst = appendByte(dst, m.MsgType)
	dst = appendByte(dst, m.JobClass)
	dst = layout.AppendAN(dst, m.Callback, 16)
	dst = layout.AppendAN(dst, m.Dest, 16)
	dst = layout.AppendNDigits(dst, m.ReserveTime, 14)
	dst = layout.AppendK(dst, m.Subject, 40)
	text := layout.CutEUCKRString(m.Text, maxText(MaxLEN-16-SubmitLayout.MinLen()))
	dst = layout.AppendN(dst, uint64(len(text)), 4)
	dst = append(dst, text...)
	return Finish(dst, st)
}

func maxText(n int) int { return max(n, 0) }

// DecodeSubmitResp decodes a SUBMIT_RESP body. A response with a RESULT
// other than 0000 may come without a body (see docs/LAYOUTS.md); an empty
// body decodes to a zero SubmitResp.
func DecodeSubmitResp(body []byte) (SubmitResp, error) {
	if len(body) == 0 {
		return SubmitResp{}, nil
	}
	var r layout.Record
	if err := SubmitRespLayout.Decode(body, &r); err != nil {
		return SubmitResp{}, err
	}
	s := string(body)
	return SubmitResp{MsgKey: r.Field(0).In(s), GWID: zerosEmpty(r.Field(1), s)}, nil
}

func zerosEmpty(v layout.Value, s string) string { return timeIn(v, s) }

// Append appends the SUBMIT_RESP telegram.
func (m *SubmitResp) Append(dst []byte, seq uint32, result Code) []byte {
	dst, st := Begin(dst, TypeSubmitResp, seq, result)
	dst = layout.AppendAN(dst, m.MsgKey, 20)
	dst = layout.AppendNDigits(dst, m.GWID, 20)
	return Finish(dst, st)
}

var (
	fMulMsgType, fMulJob, fMulCallback = MultiSubmitLayout.MustFixed("MSG_TYPE"), MultiSubmitLayout.MustFixed("JOB_CLASS"), MultiSubmitLayout.MustFixed("CALLBACK")
	fMulReserve, fMulSubject, fMulText = MultiSubmitLayout.MustFixed("RESERVE_TIME"), MultiSubmitLayout.MustFixed("SUBJECT"), MultiSubmitLayout.MustFixed("TEXT")
	iMulDests                          = MultiSubmitLayout.MustIndex("DESTS")
	fDestMsgKey, fDestDest             = MultiSubmitLayout.Fields[iMulDests].Sub().MustFixed("MSG_KEY"), MultiSubmitLayout.Fields[iMulDests].Sub().MustFixed("DEST")
)

var (
	mulTextLenOff, _ = MultiSubmitLayout.Offset(MultiSubmitLayout.MustIndex("TEXT_LEN"))
	mulTextOff       = fMulText.Off
	mulDestLen       = MultiSubmitLayout.Fields[iMulDests].Sub().MinLen()
)

// DecodeMultiSubmit decodes a MULTI_SUBMIT body. Before decoding it checks
// that TEXT_LEN agrees with the body's length (what follows TEXT must be
// DEST_CNT and whole destinations): otherwise the decoder would read
// DEST_CNT from the middle of the text and call a framing error (1001) a
// field error (1003).
func DecodeMultiSubmit(body []byte) (MultiSubmit, error) {
	if len(body) >= mulTextOff {
		tl := 0
		for _, c := range body[mulTextLenOff:mulTextOff] {
			tl = tl*10 + int(c-'0')
			if c < '0' || c > '9' {
				tl = -1
				break
			}
		}
		if rest := len(body) - mulTextOff - tl - 3; tl >= 0 && (rest < 0 || rest%mulDestLen != 0) {
			return MultiSubmit{}, &layout.Error{Layout: MultiSubmitLayout.Name, Field: "TEXT_LEN", Kind: layout.Framing, Off: mulTextLenOff,
				Reason: "TEXT_LEN " + string(body[mulTextLenOff:mulTextOff]) + " disagrees with the body length " + strconv.Itoa(len(body))}
		}
	}
	var r layout.Record
	if err := MultiSubmitLayout.Decode(body, &r); err != nil {
		return MultiSubmit{}, err
	}
	s := string(body)
	tl := len(r.Field(MultiSubmitLayout.MustIndex("TEXT")).Raw())
	m := MultiSubmit{
		MsgType:     fMulMsgType.Byte(s, 0),
		JobClass:    fMulJob.Byte(s, 0),
		Callback:    fMulCallback.AN(s, 0),
		ReserveTime: fMulReserve.NonZero(s, 0),
		Subject:     fMulSubject.AN(s, 0),
		Text:        s[fMulText.Off : fMulText.Off+tl],
	}
	n := r.Count(iMulDests)
	m.Dests = make([]MultiDest, n)
	base := fMulText.Off + tl + 3
	for k := range n {
		m.Dests[k] = MultiDest{MsgKey: fDestMsgKey.AN(s, base), Dest: fDestDest.AN(s, base)}
		base += mulDestLen
	}
	return m, nil
}

// Append appends the MULTI_SUBMIT telegram. Destinations beyond 100 are
// not written (the gateway would refuse the telegram).
func (m *MultiSubmit) Append(dst []byte, seq uint32) []byte {
	dst, st := Begin(dst, TypeMultiSubmit, seq, OK)
	dst = appendByte(dst, m.MsgType)
	dst = appendByte(dst, m.JobClass)
	dst = layout.AppendAN(dst, m.Callback, 16)
	dst = layout.AppendNDigits(dst, m.ReserveTime, 14)
	dst = layout.AppendK(dst, m.Subject, 40)
	dests := m.Dests[:min(len(m.Dests), MaxDestCnt)]
	room := MaxLEN - 16 - 76 - 3 - 36*len(dests)
	text := layout.CutEUCKRString(m.Text, maxText(room))
	dst = layout.AppendN(dst, uint64(len(text)), 4)
	dst = append(dst, text...)
	dst = layout.AppendN(dst, uint64(len(dests)), 3)
	for _, d := range dests {
		dst = layout.AppendAN(dst, d.MsgKey, 20)
		dst = layout.AppendAN(dst, d.Dest, 16)
	}
	return Finish(dst, st)
}

// DecodeMultiSubmitResp decodes a MULTI_SUBMIT_RESP body (empty: no
// results).
func DecodeMultiSubmitResp(body []byte) (MultiSubmitResp, error) {
	if len(body) == 0 {
		return MultiSubmitResp{}, nil
	}
	var r layout.Record
	if err := MultiSubmitRespLayout.Decode(body, &r); err != nil {
		return MultiSubmitResp{}, err
	}
	s := string(body)
	n := r.Count(1)
	m := MultiSubmitResp{Results: make([]MultiResult, n)}
	for k := range n {
		m.Results[k] = MultiResult{MsgKey: r.Elem(1, k, 0).In(s), GWID: zerosEmpty(r.Elem(1, k, 1), s), Result: Code(r.Elem(1, k, 2).Int())}
	}
	return m, nil
}

// Append appends the MULTI_SUBMIT_RESP telegram.
func (m *MultiSubmitResp) Append(dst []byte, seq uint32, result Code) []byte {
	dst, st := Begin(dst, TypeMultiSubmitResp, seq, result)
	res := m.Results[:min(len(m.Results), MaxDestCnt)]
	dst = layout.AppendN(dst, uint64(len(res)), 3)
	for _, x := range res {
		dst = layout.AppendAN(dst, x.MsgKey, 20)
		dst = layout.AppendNDigits(dst, x.GWID, 20)
		dst = layout.AppendN(dst, uint64(x.Result), 4)
	}
	return Finish(dst, st)
}

// DecodeReport decodes a REPORT body.
func DecodeReport(body []byte) (Report, error) {
	var r layout.Record
	if err := ReportLayout.Decode(body, &r); err != nil {
		return Report{}, err
	}
	s := string(body)
	return Report{MsgKey: r.Field(0).In(s), GWID: zerosEmpty(r.Field(1), s), Carrier: r.Field(2).In(s),
		DoneTime: timeIn(r.Field(3), s), ReportCode: Code(r.Field(4).Int())}, nil
}

// Append appends the REPORT telegram.
func (m *Report) Append(dst []byte, seq uint32) []byte {
	dst, st := Begin(dst, TypeReport, seq, OK)
	dst = layout.AppendAN(dst, m.MsgKey, 20)
	dst = layout.AppendNDigits(dst, m.GWID, 20)
	dst = layout.AppendAN(dst, m.Carrier, 4)
	dst = layout.AppendNDigits(dst, m.DoneTime, 14)
	dst = layout.AppendN(dst, uint64(m.ReportCode), 4)
	return Finish(dst, st)
}

// DecodeReportResp decodes a REPORT_RESP body.
func DecodeReportResp(body []byte) (ReportResp, error) {
	var r layout.Record
	if err := ReportRespLayout.Decode(body, &r); err != nil {
		return ReportResp{}, err
	}
	s := string(body)
	return ReportResp{MsgKey: r.Field(0).In(s), GWID: zerosEmpty(r.Field(1), s)}, nil
}

// Append appends the REPORT_RESP telegram.
func (m *ReportResp) Append(dst []byte, seq uint32, result Code) []byte {
	dst, st := Begin(dst, TypeReportResp, seq, result)
	dst = layout.AppendAN(dst, m.MsgKey, 20)
	dst = layout.AppendNDigits(dst, m.GWID, 20)
	return Finish(dst, st)
}

// CheckEmpty checks that a telegram of a type without a body has none: a
// body there is a framing error (LEN disagrees with the type).
func CheckEmpty(t Type, body []byte) error {
	if len(body) != 0 {
		return &layout.Error{Layout: t.String(), Kind: layout.Framing, Reason: "a body on a telegram that has none"}
	}
	return nil
}
