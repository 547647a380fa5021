package carrier

import (
	"fmt"
	"strconv"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// SeqModulo bounds every dialect's SEQ: senders count SEQ modulo it. Every
// dialect's SEQ field has at least 8 digits. Part of the format.
const SeqModulo = 100_000_000

// bind names the PDU field a wire field carries.
type bind uint8

const (
	bNone bind = iota
	bLogin
	bPassword
	bRef
	bMsgType
	bCallback
	bDest
	bSubject
	bTextLen
	bText
	bResult
	bMsgID
	bDoneTime
	bRelayID
	bCarrierMsgID
	bCarrierResult
)

func (p *PDU) get(b bind) string {
	switch b {
	case bLogin:
		return p.Login
	case bPassword:
		return p.Password
	case bRef:
		return p.Ref
	case bMsgType:
		if p.MsgType == 0 {
			return ""
		}
		return string([]byte{p.MsgType})
	case bCallback:
		return p.Callback
	case bDest:
		return p.Dest
	case bSubject:
		return p.Subject
	case bText:
		return p.Text
	case bResult:
		return p.Result
	case bMsgID:
		return p.MsgID
	case bDoneTime:
		return p.DoneTime
	case bRelayID:
		return p.RelayID
	case bCarrierMsgID:
		return p.CarrierMsgID
	case bCarrierResult:
		return p.CarrierResult
	}
	return ""
}

func (p *PDU) set(b bind, v string) {
	switch b {
	case bLogin:
		p.Login = v
	case bPassword:
		p.Password = v
	case bRef:
		p.Ref = v
	case bMsgType:
		if len(v) > 0 {
			p.MsgType = v[0]
		}
	case bCallback:
		p.Callback = v
	case bDest:
		p.Dest = v
	case bSubject:
		p.Subject = v
	case bText:
		p.Text = v
	case bResult:
		p.Result = v
	case bMsgID:
		p.MsgID = v
	case bDoneTime:
		p.DoneTime = v
	case bRelayID:
		p.RelayID = v
	case bCarrierMsgID:
		p.CarrierMsgID = v
	case bCarrierResult:
		p.CarrierResult = v
	}
}

// spec is a dialect declared as data: a header layout, a body layout per
// PDU type, which PDU field each wire field carries, and the code tables.
// Every M1 dialect is one; a new carrier is one more declaration.
type spec struct {
	name, carrier string
	header        *layout.Layout
	hLen, hType   string // header field names of the length and type
	hSeq          string
	// lenBase is added to the LEN value to get the whole frame's length:
	// the header's length when LEN counts the body, LEN's offset+length
	// when it counts what follows it, 0 when it counts the whole frame.
	lenBase int
	types   map[Type]string
	bodies  map[Type]*layout.Layout
	binds   map[string]bind
	submit  []CodeEntry
	report  []CodeEntry
	// reportCarrierCode is the code kept as CARRIER_CODE for a report
	// (a relay keeps its own and the carrier's).
	reportCarrierCode func(p *PDU) string

	// compiled
	fLen, fType, fSeq layout.Fixed
	rtypes            map[string]Type
	submitIx          map[string]CodeEntry
	reportIx          map[string]CodeEntry
}

func (s *spec) init() *spec {
	s.fLen, s.fType, s.fSeq = s.header.MustFixed(s.hLen), s.header.MustFixed(s.hType), s.header.MustFixed(s.hSeq)
	s.rtypes = map[string]Type{}
	for t, v := range s.types {
		s.rtypes[v] = t
	}
	for _, l := range s.bodies {
		for _, f := range l.Fields {
			if _, ok := s.binds[f.Name]; !ok {
				panic("carrier " + s.name + ": field " + f.Name + " not bound")
			}
		}
	}
	s.submitIx, s.reportIx = map[string]CodeEntry{}, map[string]CodeEntry{}
	for _, e := range s.submit {
		s.submitIx[e.CarrierCode] = e
	}
	for _, e := range s.report {
		s.reportIx[e.CarrierCode] = e
	}
	return s
}

func (s *spec) Name() string               { return s.name }
func (s *spec) Carrier() string            { return s.carrier }
func (s *spec) HeaderLen() int             { return s.header.MinLen() }
func (s *spec) SubmitCodes() []CodeEntry   { return s.submit }
func (s *spec) ReportCodes() []CodeEntry   { return s.report }
func (s *spec) Header() *layout.Layout     { return s.header }
func (s *spec) Body(t Type) *layout.Layout { return s.bodies[t] }
func (s *spec) WireType(t Type) string     { return s.types[t] }

func (s *spec) FrameLen(hdr []byte) (int, error) {
	hl := s.HeaderLen()
	if len(hdr) < hl {
		return 0, fmt.Errorf("%w: %s: header of %d bytes, want %d", ErrFrame, s.name, len(hdr), hl)
	}
	var r layout.Record
	if err := s.header.Decode(hdr[:hl], &r); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrFrame, s.name, err)
	}
	n := int(s.fLen.Uint(string(hdr[:hl]), 0)) + s.lenBase
	if n < hl || n > MaxFrame {
		return 0, fmt.Errorf("%w: %s: frame length %d out of range %d..%d", ErrFrame, s.name, n, hl, MaxFrame)
	}
	return n, nil
}

func (s *spec) Append(dst []byte, p *PDU) ([]byte, error) {
	wt, ok := s.types[p.Type]
	if !ok {
		return dst, fmt.Errorf("carrier %s: cannot encode PDU type %v", s.name, p.Type)
	}
	start := len(dst)
	for _, f := range s.header.Fields {
		switch f.Name {
		case s.hLen:
			dst = layout.AppendN(dst, 0, f.Len) // filled in below
		case s.hType:
			if f.Type == layout.N {
				dst = layout.AppendNDigits(dst, wt, f.Len)
			} else {
				dst = layout.AppendAN(dst, wt, f.Len)
			}
		case s.hSeq:
			dst = layout.AppendN(dst, uint64(p.Seq%SeqModulo), f.Len)
		default:
			dst = layout.AppendAN(dst, "", f.Len)
		}
	}
	if body := s.bodies[p.Type]; body != nil {
		text := p.Text
		for _, f := range body.Fields {
			if s.binds[f.Name] == bText {
				text = layout.CutEUCKRString(text, f.Max)
			}
		}
		for _, f := range body.Fields {
			b := s.binds[f.Name]
			switch {
			case b == bTextLen:
				dst = layout.AppendN(dst, uint64(len(text)), f.Len)
			case b == bText:
				dst = append(dst, text...)
			case f.Type == layout.N:
				dst = layout.AppendNDigits(dst, p.get(b), f.Len)
			case f.Type == layout.K:
				dst = layout.AppendK(dst, p.get(b), f.Len)
			default:
				dst = layout.AppendAN(dst, p.get(b), f.Len)
			}
		}
	}
	n := len(dst) - start - s.lenBase
	layout.AppendN(dst[:start+s.fLen.Off], uint64(n), s.fLen.Len)
	return dst, nil
}

func (s *spec) Decode(frame []byte, p *PDU) error {
	*p = PDU{}
	n, err := s.FrameLen(frame)
	if err != nil {
		return err
	}
	if n != len(frame) {
		return fmt.Errorf("%w: %s: length field says %d bytes, frame has %d", ErrFrame, s.name, n, len(frame))
	}
	hl := s.HeaderLen()
	hs := string(frame[:hl])
	wt := s.fType.AN(hs, 0)
	t, ok := s.rtypes[wt]
	if !ok {
		return fmt.Errorf("%w: %s: unknown type %q", ErrFrame, s.name, wt)
	}
	p.Type = t
	p.Seq = uint32(s.fSeq.Uint(hs, 0) % SeqModulo)
	body := s.bodies[t]
	if body == nil {
		if n != hl {
			return fmt.Errorf("%w: %s: %v has no body, got %d bytes", ErrFrame, s.name, t, n-hl)
		}
		return nil
	}
	var r layout.Record
	if err := body.Decode(frame[hl:], &r); err != nil {
		return fmt.Errorf("%w: %s: %v: %w", ErrFrame, s.name, t, err)
	}
	bs := string(frame[hl:])
	for i, f := range body.Fields {
		if b := s.binds[f.Name]; b != bTextLen && b != bNone {
			p.set(b, r.Field(i).In(bs))
		}
	}
	return nil
}

func (s *spec) SubmitOutcome(code string) Outcome {
	if e, ok := s.submitIx[code]; ok {
		return Outcome{CarrierCode: code, Class: e.Class, Code: e.Code, Meaning: e.Meaning}
	}
	// An unknown code must not loop for ever: the message ends, the code is kept.
	return Outcome{CarrierCode: code, Class: Rejected, Code: telegram.ErrInternal, Meaning: "code not in the table"}
}

func (s *spec) ReportOutcome(p *PDU) Outcome {
	cc := p.Result
	if s.reportCarrierCode != nil {
		cc = s.reportCarrierCode(p)
	}
	if e, ok := s.reportIx[p.Result]; ok {
		return Outcome{CarrierCode: cc, Class: e.Class, Code: e.Code, Meaning: e.Meaning}
	}
	return Outcome{CarrierCode: cc, Class: Failed, Code: telegram.ErrInternal, Meaning: "code not in the table"}
}

// Layouts is implemented by the declared dialects: their header and body
// layouts, for documentation.
type Layouts interface {
	Header() *layout.Layout
	Body(t Type) *layout.Layout
	WireType(t Type) string
}

func itoa(n int) string { return strconv.Itoa(n) }
