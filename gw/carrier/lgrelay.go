package carrier

import (
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// LGRelay is the lgrelay dialect: M1's stand-in for the protocol of a
// relay (중계사) in front of LG U+. LEN counts the body only; two-letter
// types; the relay answers with its own id and message id, and its reports
// forward LG's message id and result code beside its own three-character
// code, which is the one mapped. CARRIER_CODE keeps both: "R01:4401".
var LGRelay Dialect = register((&spec{
	name: "lgrelay", carrier: "LGT",
	header: layout.MustNew("LGR_HEADER",
		layout.Num("LEN", 5, "bytes of the body (after this header)"),
		layout.Alpha("CMD", 2, "PDU type"),
		layout.Num("SEQ", 9, "request sequence, echoed in the response"),
	),
	hLen: "LEN", hType: "CMD", hSeq: "SEQ", lenBase: 16,
	types: map[Type]string{Login: "BI", LoginResp: "BA", Submit: "SM", SubmitResp: "SA",
		Report: "RP", ReportResp: "RA", Link: "LC", LinkResp: "LA"},
	bodies: map[Type]*layout.Layout{
		Login: layout.MustNew("LGR_BIND",
			layout.Alpha("USER_ID", 16, "account given by the relay"),
			layout.Alpha("USER_PW", 16, "password")),
		LoginResp: layout.MustNew("LGR_BIND_ACK",
			layout.Alpha("RESULT", 3, "relay result code (submit table)")),
		Submit: layout.MustNew("LGR_SUBMIT",
			layout.Alpha("CLIENT_REF", 24, "M1's GW_ID; echoed in SUBMIT_ACK and REPORT"),
			layout.Alpha("SVC_TYPE", 1, "S SMS, L LMS"),
			layout.Alpha("RECV_NO", 15, "destination number"),
			layout.Alpha("SEND_NO", 15, "sender number"),
			layout.Korean("SUBJECT", 40, "LMS subject, EUC-KR"),
			layout.Num("TEXT_LEN", 4, "bytes of TEXT"),
			layout.VarK("TEXT", "TEXT_LEN", 0, 2000, "message text, EUC-KR")),
		SubmitResp: layout.MustNew("LGR_SUBMIT_ACK",
			layout.Alpha("CLIENT_REF", 24, "CLIENT_REF of the submit"),
			layout.Alpha("RELAY_ID", 8, "the relay's own id"),
			layout.Alpha("RELAY_MSG_ID", 16, "the relay's message id (spaces when rejected)"),
			layout.Alpha("RESULT", 3, "relay result code (submit table)")),
		Report: layout.MustNew("LGR_REPORT",
			layout.Alpha("RELAY_ID", 8, "the relay's own id"),
			layout.Alpha("RELAY_MSG_ID", 16, "the relay's message id"),
			layout.Alpha("LG_MSG_ID", 20, "LG U+'s message id, forwarded"),
			layout.Alpha("CLIENT_REF", 24, "CLIENT_REF of the submit"),
			layout.Alpha("RECV_NO", 15, "destination number"),
			layout.Num("DONE_TIME", 14, "when the result was known"),
			layout.Alpha("LG_RESULT", 4, "LG U+'s own result code, forwarded"),
			layout.Alpha("RESULT", 3, "relay result code (report table)")),
		ReportResp: layout.MustNew("LGR_REPORT_ACK",
			layout.Alpha("RELAY_MSG_ID", 16, "RELAY_MSG_ID of the report"),
			layout.Alpha("RESULT", 3, "000: stored")),
	},
	binds: map[string]bind{"USER_ID": bLogin, "USER_PW": bPassword, "RESULT": bResult, "CLIENT_REF": bRef,
		"SVC_TYPE": bMsgType, "RECV_NO": bDest, "SEND_NO": bCallback, "SUBJECT": bSubject, "TEXT_LEN": bTextLen,
		"TEXT": bText, "RELAY_ID": bRelayID, "RELAY_MSG_ID": bMsgID, "LG_MSG_ID": bCarrierMsgID,
		"DONE_TIME": bDoneTime, "LG_RESULT": bCarrierResult},
	submit: []CodeEntry{
		{"000", Accepted, telegram.OK, "accepted by the relay"},
		{"A01", Rejected, telegram.ErrAuth, "login failed"},
		{"E10", Rejected, telegram.RptUnknownSub, "invalid destination number"},
		{"E20", Rejected, telegram.RptRejected, "spam, rejected by policy"},
		{"E21", Rejected, telegram.ErrCallback, "callback number not registered"},
		{"T01", Throttled, telegram.ErrTPS, "over the contracted TPS"},
		{"S01", Retry, telegram.ErrBusy, "relay busy or LG link down, send again later"},
		{"E99", Rejected, telegram.ErrInternal, "other error"},
	},
	report: []CodeEntry{
		{"000", Delivered, telegram.OK, "delivered"},
		{"R01", Failed, telegram.RptUnknownSub, "unknown subscriber"},
		{"R02", Failed, telegram.RptUnreachable, "handset unreachable"},
		{"R03", Failed, telegram.RptUnreachable, "expired at LG U+"},
		{"R04", Failed, telegram.RptRejected, "spam filtered"},
		{"R99", Failed, telegram.RptUnreachable, "other delivery failure"},
	},
	reportCarrierCode: func(p *PDU) string {
		if p.CarrierResult == "" {
			return p.Result
		}
		return p.Result + ":" + p.CarrierResult
	},
}).init())
