package telegram

import (
	"bytes"
	"reflect"
	"testing"
)

// decodeAny decodes a frame's body by its type, returning the struct.
func decodeAny(h Header, body []byte) (any, error) {
	switch h.Type {
	case TypeBind:
		return DecodeBind(body)
	case TypeSubmit:
		return DecodeSubmit(body)
	case TypeSubmitResp:
		return DecodeSubmitResp(body)
	case TypeMultiSubmit:
		return DecodeMultiSubmit(body)
	case TypeMultiSubmitResp:
		return DecodeMultiSubmitResp(body)
	case TypeReport:
		return DecodeReport(body)
	case TypeReportResp:
		return DecodeReportResp(body)
	}
	return nil, CheckEmpty(h.Type, body)
}

func reencode(v any, h Header) []byte {
	switch m := v.(type) {
	case Bind:
		return m.Append(nil, h.Seq)
	case Submit:
		return m.Append(nil, h.Seq)
	case SubmitResp:
		return m.Append(nil, h.Seq, h.Result)
	case MultiSubmit:
		return m.Append(nil, h.Seq)
	case MultiSubmitResp:
		return m.Append(nil, h.Seq, h.Result)
	case Report:
		return m.Append(nil, h.Seq)
	case ReportResp:
		return m.Append(nil, h.Seq, h.Result)
	}
	return nil
}

func FuzzTelegram(f *testing.F) {
	s := sampleSubmit()
	f.Add(s.Append(nil, 1))
	b := Bind{ClientID: "C", Password: "P", Version: 1}
	f.Add(b.Append(nil, 2))
	ms := MultiSubmit{MsgType: 'L', JobClass: 'B', Callback: "0212345678", Text: "hello", Dests: []MultiDest{{"A1", "01011112222"}, {"A2", "0101113333"}}}
	f.Add(ms.Append(nil, 3))
	mr := MultiSubmitResp{Results: []MultiResult{{"A1", "1", OK}}}
	f.Add(mr.Append(nil, 3, OK))
	r := Report{MsgKey: "K", GWID: "1", Carrier: "KT", DoneTime: "20260101000000"}
	f.Add(r.Append(nil, 4))
	f.Add(AppendEmpty(nil, TypeLink, 5, OK))
	f.Add([]byte("9999"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rd := NewReader(bytes.NewReader(in), 0)
		for {
			fr, err := rd.Next()
			if err != nil {
				return
			}
			h, body, err := ParseHeader(fr)
			if err != nil {
				if ResultOf(err) == ErrInternal {
					t.Fatalf("untyped header error %v", err)
				}
				continue
			}
			v, err := decodeAny(h, body)
			if err != nil {
				if ResultOf(err) == ErrInternal {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			if v == nil {
				continue
			}
			switch m := v.(type) {
			case Submit:
				m.Validate(DefaultLimits)
			case MultiSubmit:
				m.Validate(DefaultLimits)
				for i := range m.Dests {
					m.ValidateDest(i)
				}
			}
			// What decodes re-encodes to something that decodes the same.
			again := reencode(v, h)
			h2, body2, err := ParseHeader(again)
			if err != nil {
				t.Fatalf("re-encoded header: %v", err)
			}
			v2, err := decodeAny(h2, body2)
			if err != nil || !reflect.DeepEqual(v, v2) {
				t.Fatalf("round trip: %#v\n%#v\n%v", v, v2, err)
			}
		}
	})
}
