package carrier

import (
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// SKT is the skt dialect: M1's stand-in for SKT's SMS center protocol. TYPE
// comes first and LEN counts the whole frame; 20-character message ids;
// four-digit result codes; wider numbers and subject.
var SKT Dialect = register((&spec{
	name: "skt", carrier: "SKT",
	header: layout.MustNew("SKT_HEADER",
		layout.Num("TYPE", 4, "PDU type"),
		layout.Num("LEN", 6, "bytes of the whole frame, header included"),
		layout.Num("SEQ", 10, "request sequence, echoed in the response"),
	),
	hLen: "LEN", hType: "TYPE", hSeq: "SEQ", lenBase: 0,
	types: map[Type]string{Login: "1000", LoginResp: "1001", Submit: "2000", SubmitResp: "2001",
		Report: "3000", ReportResp: "3001", Link: "9000", LinkResp: "9001"},
	bodies: map[Type]*layout.Layout{
		Login: layout.MustNew("SKT_LOGIN",
			layout.Alpha("SYSTEM_ID", 20, "account given by SKT"),
			layout.Alpha("PASSWORD", 12, "password")),
		LoginResp: layout.MustNew("SKT_LOGIN_RESP",
			layout.Num("RESULT", 4, "result code (submit table)")),
		Submit: layout.MustNew("SKT_SUBMIT",
			layout.Alpha("USER_KEY", 30, "M1's GW_ID; echoed in SUBMIT_RESP and DELIVER"),
			layout.Alpha("MSG_KIND", 1, "S SMS, L LMS"),
			layout.Alpha("DEST", 20, "destination number"),
			layout.Alpha("CALLBACK", 20, "sender number"),
			layout.Korean("SUBJECT", 60, "LMS subject, EUC-KR"),
			layout.Num("TEXT_LEN", 5, "bytes of TEXT"),
			layout.VarK("TEXT", "TEXT_LEN", 0, 2000, "message text, EUC-KR")),
		SubmitResp: layout.MustNew("SKT_SUBMIT_RESP",
			layout.Alpha("USER_KEY", 30, "USER_KEY of the submit"),
			layout.Alpha("SKT_MSG_ID", 20, "SKT's message id (spaces when rejected)"),
			layout.Num("RESULT", 4, "result code (submit table)")),
		Report: layout.MustNew("SKT_DELIVER",
			layout.Alpha("SKT_MSG_ID", 20, "SKT's message id"),
			layout.Alpha("USER_KEY", 30, "USER_KEY of the submit"),
			layout.Alpha("DEST", 20, "destination number"),
			layout.Num("DONE_TIME", 14, "when the result was known"),
			layout.Num("RESULT", 4, "result code (report table)")),
		ReportResp: layout.MustNew("SKT_DELIVER_RESP",
			layout.Alpha("SKT_MSG_ID", 20, "SKT_MSG_ID of the report"),
			layout.Num("RESULT", 4, "0000: stored")),
	},
	binds: map[string]bind{"SYSTEM_ID": bLogin, "PASSWORD": bPassword, "RESULT": bResult, "USER_KEY": bRef,
		"MSG_KIND": bMsgType, "CALLBACK": bCallback, "DEST": bDest, "SUBJECT": bSubject, "TEXT_LEN": bTextLen,
		"TEXT": bText, "SKT_MSG_ID": bMsgID, "DONE_TIME": bDoneTime},
	submit: []CodeEntry{
		{"0000", Accepted, telegram.OK, "accepted"},
		{"1001", Rejected, telegram.ErrAuth, "login failed"},
		{"2001", Rejected, telegram.RptUnknownSub, "no such subscriber"},
		{"2003", Rejected, telegram.RptRejected, "spam, rejected by policy"},
		{"2004", Rejected, telegram.ErrCallback, "callback number not registered"},
		{"4001", Throttled, telegram.ErrTPS, "over the contracted TPS"},
		{"5000", Retry, telegram.ErrBusy, "temporary failure, send again later"},
		{"9000", Rejected, telegram.ErrInternal, "other error"},
	},
	report: []CodeEntry{
		{"0000", Delivered, telegram.OK, "delivered"},
		{"3101", Failed, telegram.RptUnknownSub, "unknown subscriber"},
		{"3102", Failed, telegram.RptUnreachable, "power off or out of area"},
		{"3103", Failed, telegram.RptUnreachable, "validity expired"},
		{"3201", Failed, telegram.RptRejected, "spam filtered"},
		{"3999", Failed, telegram.RptUnreachable, "other delivery failure"},
	},
}).init())
