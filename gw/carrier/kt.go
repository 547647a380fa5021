package carrier

import (
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// KT is the kt dialect: M1's stand-in for KT's SMS center protocol. LEN
// counts the bytes after itself; numeric 10-digit message ids; two-digit
// result codes.
var KT Dialect = register((&spec{
	name: "kt", carrier: "KT",
	header: layout.MustNew("KT_HEADER",
		layout.Num("LEN", 4, "bytes after this field: 12 + body"),
		layout.Num("TYPE", 4, "PDU type"),
		layout.Num("SEQ", 8, "request sequence, echoed in the response"),
	),
	hLen: "LEN", hType: "TYPE", hSeq: "SEQ", lenBase: 4,
	types: map[Type]string{Login: "0100", LoginResp: "0110", Submit: "0200", SubmitResp: "0210",
		Report: "0300", ReportResp: "0310", Link: "0800", LinkResp: "0810"},
	bodies: map[Type]*layout.Layout{
		Login: layout.MustNew("KT_BIND",
			layout.Alpha("LOGIN_ID", 16, "account given by KT"),
			layout.Alpha("PASSWD", 16, "password")),
		LoginResp: layout.MustNew("KT_BIND_ACK",
			layout.Num("RESULT", 2, "result code (submit table)")),
		Submit: layout.MustNew("KT_SUBMIT",
			layout.Num("TRAN_ID", 20, "M1's GW_ID; echoed in SUBMIT_ACK and REPORT"),
			layout.Alpha("MSG_TYPE", 1, "S SMS, L LMS"),
			layout.Alpha("CALLBACK", 16, "sender number"),
			layout.Alpha("DEST", 16, "destination number"),
			layout.Korean("SUBJECT", 40, "LMS subject, EUC-KR"),
			layout.Num("TEXT_LEN", 4, "bytes of TEXT"),
			layout.VarK("TEXT", "TEXT_LEN", 0, 2000, "message text, EUC-KR")),
		SubmitResp: layout.MustNew("KT_SUBMIT_ACK",
			layout.Num("TRAN_ID", 20, "TRAN_ID of the submit"),
			layout.Num("MSG_ID", 10, "KT's message id (zeros when rejected)"),
			layout.Num("RESULT", 2, "result code (submit table)")),
		Report: layout.MustNew("KT_REPORT",
			layout.Num("MSG_ID", 10, "KT's message id"),
			layout.Num("TRAN_ID", 20, "TRAN_ID of the submit"),
			layout.Alpha("DEST", 16, "destination number"),
			layout.Num("DONE_TIME", 14, "when the result was known"),
			layout.Num("RESULT", 2, "result code (report table)")),
		ReportResp: layout.MustNew("KT_REPORT_ACK",
			layout.Num("MSG_ID", 10, "MSG_ID of the report"),
			layout.Num("RESULT", 2, "00: stored")),
	},
	binds: map[string]bind{"LOGIN_ID": bLogin, "PASSWD": bPassword, "RESULT": bResult, "TRAN_ID": bRef,
		"MSG_TYPE": bMsgType, "CALLBACK": bCallback, "DEST": bDest, "SUBJECT": bSubject, "TEXT_LEN": bTextLen,
		"TEXT": bText, "MSG_ID": bMsgID, "DONE_TIME": bDoneTime},
	submit: []CodeEntry{
		{"00", Accepted, telegram.OK, "accepted"},
		{"10", Rejected, telegram.ErrAuth, "login failed"},
		{"21", Rejected, telegram.RptUnknownSub, "invalid destination number"},
		{"22", Rejected, telegram.RptRejected, "spam, rejected by policy"},
		{"23", Rejected, telegram.ErrCallback, "callback number not registered (발신번호 사전등록)"},
		{"30", Throttled, telegram.ErrTPS, "over the contracted TPS"},
		{"90", Retry, telegram.ErrBusy, "center busy, send again later"},
		{"99", Rejected, telegram.ErrInternal, "system error"},
	},
	report: []CodeEntry{
		{"00", Delivered, telegram.OK, "delivered"},
		{"41", Failed, telegram.RptUnknownSub, "unknown subscriber"},
		{"42", Failed, telegram.RptUnreachable, "handset off or out of coverage"},
		{"43", Failed, telegram.RptUnreachable, "expired at the center"},
		{"44", Failed, telegram.RptRejected, "spam filtered"},
		{"49", Failed, telegram.RptUnreachable, "other delivery failure"},
	},
}).init())
