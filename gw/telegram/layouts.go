package telegram

import "github.com/m1gw/m1/gw/layout"

// Sizes of PROTOCOL.md that are part of the protocol.
const (
	HeaderLen  = 20   // bytes of the header, LEN included
	LenLen     = 4    // bytes of the LEN field
	MinLEN     = 16   // smallest LEN: a header without a body
	MaxLEN     = 9999 // largest LEN
	MaxFrame   = LenLen + MaxLEN
	MaxDestCnt = 100 // most destinations of one MULTI_SUBMIT
)

// The declared layouts of PROTOCOL.md. docs/LAYOUTS.md is drawn from them.
var (
	HeaderLayout = layout.MustNew("HEADER",
		layout.Num("LEN", 4, "bytes that follow this field: 16 + body length, at most 9999"),
		layout.Num("TYPE", 4, "telegram type"),
		layout.Num("SEQ", 8, "chosen by the sender of a request; echoed in its response"),
		layout.Num("RESULT", 4, "0000 in requests; the result code in responses"),
	)
	BindLayout = layout.MustNew("BIND",
		layout.Alpha("CLIENT_ID", 10, "client id"),
		layout.Alpha("PASSWORD", 20, "password"),
		layout.Num("VERSION", 4, "protocol version, 0001"),
	)
	SubmitLayout = layout.MustNew("SUBMIT",
		layout.Alpha("MSG_KEY", 20, "the client's unique key for this message"),
		layout.Alpha("MSG_TYPE", 1, "S SMS, L LMS"),
		layout.Alpha("JOB_CLASS", 1, "R real-time, B batch, S general SMS"),
		layout.Alpha("CALLBACK", 16, "callback number, digits only"),
		layout.Alpha("DEST", 16, "destination mobile number, digits only"),
		layout.Num("RESERVE_TIME", 14, "YYYYMMDDhhmmss; zeros = now"),
		layout.Korean("SUBJECT", 40, "LMS subject; spaces for SMS"),
		layout.Num("TEXT_LEN", 4, "bytes of TEXT"),
		layout.VarK("TEXT", "TEXT_LEN", 0, MaxLEN, "the message (≤ 90 SMS, ≤ 2000 LMS by default)"),
	)
	SubmitRespLayout = layout.MustNew("SUBMIT_RESP",
		layout.Alpha("MSG_KEY", 20, "the request's MSG_KEY"),
		layout.Num("GW_ID", 20, "the gateway's id of the message; zeros when RESULT is not 0000"),
	)
	MultiSubmitLayout = layout.MustNew("MULTI_SUBMIT",
		layout.Alpha("MSG_TYPE", 1, "S SMS, L LMS"),
		layout.Alpha("JOB_CLASS", 1, "R real-time, B batch, S general SMS"),
		layout.Alpha("CALLBACK", 16, "callback number, digits only"),
		layout.Num("RESERVE_TIME", 14, "YYYYMMDDhhmmss; zeros = now"),
		layout.Korean("SUBJECT", 40, "LMS subject; spaces for SMS"),
		layout.Num("TEXT_LEN", 4, "bytes of TEXT"),
		layout.VarK("TEXT", "TEXT_LEN", 0, MaxLEN, "the message, one text for every destination"),
		layout.Num("DEST_CNT", 3, "destinations, 1 to 100"),
		layout.Repeat("DESTS", "DEST_CNT", 1, MaxDestCnt, "one per destination",
			layout.Alpha("MSG_KEY", 20, "the client's key for this destination's message"),
			layout.Alpha("DEST", 16, "destination mobile number"),
		),
	)
	MultiSubmitRespLayout = layout.MustNew("MULTI_SUBMIT_RESP",
		layout.Num("DEST_CNT", 3, "results, one per destination of the request, in its order"),
		layout.Repeat("RESULTS", "DEST_CNT", 0, MaxDestCnt, "one per destination",
			layout.Alpha("MSG_KEY", 20, "the destination's MSG_KEY"),
			layout.Num("GW_ID", 20, "the gateway's id; zeros when RESULT is not 0000"),
			layout.Num("RESULT", 4, "this destination's result code"),
		),
	)
	ReportLayout = layout.MustNew("REPORT",
		layout.Alpha("MSG_KEY", 20, "the client's key"),
		layout.Num("GW_ID", 20, "the gateway's id (same GW_ID when repeated)"),
		layout.Alpha("CARRIER", 4, "KT, SKT, LGT; spaces when the message never reached one"),
		layout.Num("DONE_TIME", 14, "YYYYMMDDhhmmss of the result"),
		layout.Num("REPORT_CODE", 4, "0000 delivered, or the failure code"),
	)
	ReportRespLayout = layout.MustNew("REPORT_RESP",
		layout.Alpha("MSG_KEY", 20, "the REPORT's MSG_KEY"),
		layout.Num("GW_ID", 20, "the REPORT's GW_ID"),
	)
)

// Layouts lists every declared layout of this package, for the docs.
func Layouts() []*layout.Layout {
	return []*layout.Layout{HeaderLayout, BindLayout, SubmitLayout, SubmitRespLayout, MultiSubmitLayout,
		MultiSubmitRespLayout, ReportLayout, ReportRespLayout}
}

// BodyLayout is the layout of type t's body; nil for the types without a
// body (BIND_RESP, LINK, LINK_RESP, UNBIND, UNBIND_RESP) and unknown types.
func BodyLayout(t Type) *layout.Layout {
	switch t {
	case TypeBind:
		return BindLayout
	case TypeSubmit:
		return SubmitLayout
	case TypeSubmitResp:
		return SubmitRespLayout
	case TypeMultiSubmit:
		return MultiSubmitLayout
	case TypeMultiSubmitResp:
		return MultiSubmitRespLayout
	case TypeReport:
		return ReportLayout
	case TypeReportResp:
		return ReportRespLayout
	}
	return nil
}
