package msg

import (
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// Version is the record version written at the start of every record of
// this package. A reader refuses other versions. Part of the format.
const Version = 1

// MaxText is the largest TEXT a message record holds, in EUC-KR bytes.
const MaxText = 2000

var commonFields = []layout.Field{
	layout.Num("VERSION", 2, "record version, 01"),
	layout.Num("GW_ID", 20, "the gateway's message id (see IDGen)"),
	layout.Alpha("SOURCE", 1, "T T41 (sch), L listener, F bulk file"),
	layout.Alpha("CLIENT_ID", 10, "client id"),
	layout.Alpha("MSG_KEY", 20, "the client's key"),
	layout.Num("MSG_SEQ", 12, "T41's MSG_SEQ; zeros for other sources"),
	layout.Alpha("MSG_TYPE", 1, "S SMS, L LMS"),
	layout.Alpha("JOB_CLASS", 1, "R real-time, B batch, S general SMS"),
	layout.Num("ACCEPT_TIME", 14, "when M1 accepted it, YYYYMMDDhhmmss"),
	layout.Num("SEND_TIME", 14, "send at or after; zeros = at once"),
	layout.Num("EXPIRE_TIME", 14, "validity end: not sent by then = 3005; zeros = no limit"),
	layout.Alpha("CARRIER", 4, "KT, SKT, LGT: filled by dist"),
	layout.Alpha("SENDER", 8, "sender process (KT1, KT2, ...): filled by dist"),
	layout.Num("RESULT", 4, "a result fixed before sending (validation by sch, ...); 0000 otherwise"),
	layout.Alpha("DUP_CHECKED", 1, "Y when the intake already checked the duplicate index; N otherwise"),
	layout.Num("REROUTES", 2, "times taken back from a dead sender's queue and routed again"),
	layout.Alpha("SRC_REF", 48, "where it came from, for operators: F file name:line, L client address"),
}

var individualFields = []layout.Field{
	layout.Alpha("CALLBACK", 16, "callback number"),
	layout.Alpha("DEST", 16, "destination number"),
	layout.Korean("SUBJECT", 40, "LMS subject, EUC-KR"),
	layout.Num("TEXT_LEN", 4, "bytes of TEXT"),
	layout.VarK("TEXT", "TEXT_LEN", 0, MaxText, "the message, EUC-KR"),
}

// The declared layouts of this package. docs/LAYOUTS.md is drawn from them.
var (
	// CommonLayout is a message record's common part: ids, source, client,
	// class, times, routing.
	CommonLayout = layout.MustNew("MESSAGE.COMMON", commonFields...)
	// IndividualLayout is a message record's individual part: numbers and
	// text.
	IndividualLayout = layout.MustNew("MESSAGE.INDIVIDUAL", individualFields...)
	// MessageLayout is a whole message record (DIST.*, SND.*): the common
	// part, then the individual part.
	MessageLayout = layout.MustNew("MESSAGE", append(append([]layout.Field{}, commonFields...), individualFields...)...)

	// EventLayout is a DBX event record; Accept (A) and final (F) events
	// carry the whole message record as their MSG block.
	EventLayout = layout.MustNew("EVENT",
		layout.Num("VERSION", 2, "record version, 01"),
		layout.Alpha("KIND", 1, "A Accept, K Ack, R Report, F final result without a carrier"),
		layout.Num("GW_ID", 20, "the message"),
		layout.Num("EVENT_TIME", 14, "when it happened, YYYYMMDDhhmmss"),
		layout.Alpha("CARRIER", 4, "carrier"),
		layout.Alpha("SENDER", 8, "sender process"),
		layout.Alpha("CARRIER_MSG_ID", 24, "the carrier's message id (K, R)"),
		layout.Num("ACK_CODE", 4, "submit result, PROTOCOL.md code (K)"),
		layout.Num("RESULT_CODE", 4, "final result, PROTOCOL.md code (R, F)"),
		layout.Alpha("CARRIER_CODE", 8, "the carrier's own code (K, R)"),
		layout.Num("MSG_CNT", 1, "1 when a message record follows (A, F), 0 otherwise"),
		layout.Repeat("MSG", "MSG_CNT", 0, 1, "the message record, as in MESSAGE", append(append([]layout.Field{}, commonFields...), individualFields...)...),
	)

	// RPTLayout is an RPT record: a final result for eai_lsnr to send to
	// its client as a REPORT.
	RPTLayout = layout.MustNew("RPT",
		layout.Num("VERSION", 2, "record version, 01"),
		layout.Alpha("CLIENT_ID", 10, "client to report to"),
		layout.Alpha("MSG_KEY", 20, "the client's key"),
		layout.Num("GW_ID", 20, "the gateway's id"),
		layout.Alpha("CARRIER", 4, "carrier; spaces when none"),
		layout.Num("DONE_TIME", 14, "when the result came, YYYYMMDDhhmmss"),
		layout.Num("REPORT_CODE", 4, "PROTOCOL.md code"),
	)
)

// Record sizes, part of the format (tests check them against the layouts).
const (
	CommonLen      = 176                                 // bytes of the common part
	IndividualMin  = 76                                  // individual part without TEXT
	MaxMessageSize = CommonLen + IndividualMin + MaxText // 2252: the record size of DIST.* and SND.* queues
	EventHeadLen   = 90                                  // event record without its message
	MaxEventSize   = EventHeadLen + MaxMessageSize       // 2342: the record size of the DBX queue
	RPTSize        = 74                                  // the record size of the RPT queue
)

// Layouts lists every declared layout of this package, for the docs.
func Layouts() []*layout.Layout {
	return []*layout.Layout{CommonLayout, IndividualLayout, EventLayout, RPTLayout, BulkLayout, BulkResultLayout}
}

// Limits are the text limits used by the validators, shared with
// gw/telegram.
type Limits = telegram.Limits
