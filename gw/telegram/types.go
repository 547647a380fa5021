package telegram

import "strconv"

// Type is a telegram TYPE. The values are part of the protocol.
type Type uint16

// Telegram types (PROTOCOL.md, "Telegram types").
const (
	TypeBind            Type = 600
	TypeBindResp        Type = 610
	TypeLink            Type = 800
	TypeLinkResp        Type = 810
	TypeSubmit          Type = 200
	TypeSubmitResp      Type = 210
	TypeMultiSubmit     Type = 250
	TypeMultiSubmitResp Type = 260
	TypeReport          Type = 300
	TypeReportResp      Type = 310
	TypeUnbind          Type = 900
	TypeUnbindResp      Type = 910
)

var typeNames = map[Type]string{
	TypeBind: "BIND", TypeBindResp: "BIND_RESP", TypeLink: "LINK", TypeLinkResp: "LINK_RESP",
	TypeSubmit: "SUBMIT", TypeSubmitResp: "SUBMIT_RESP", TypeMultiSubmit: "MULTI_SUBMIT",
	TypeMultiSubmitResp: "MULTI_SUBMIT_RESP", TypeReport: "REPORT", TypeReportResp: "REPORT_RESP",
	TypeUnbind: "UNBIND", TypeUnbindResp: "UNBIND_RESP",
}

// Known reports whether t is a TYPE of PROTOCOL.md.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// IsResponse reports whether t is a response type (…10, …60).
func (t Type) IsResponse() bool { return t%100 == 10 || t == TypeMultiSubmitResp }

// Response is the response type of request type t (0 for a response or an
// unknown type).
func (t Type) Response() Type {
	switch t {
	case TypeBind, TypeLink, TypeSubmit, TypeReport, TypeUnbind:
		return t + 10
	case TypeMultiSubmit:
		return TypeMultiSubmitResp
	}
	return 0
}

// String is the type's name, or its four digits when unknown.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	s := strconv.Itoa(int(t))
	return "TYPE " + "0000"[:max(0, 4-len(s))] + s
}
