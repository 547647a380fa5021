package store

import "time"

// TimeLayout is the layout of every time column (CHAR(14), local time):
// YYYYMMDDhhmmss. Part of the format.
const TimeLayout = "20060102150405"

// FormatTime renders t in the CHAR(14) form of the time columns, in local time.
func FormatTime(t time.Time) string { return t.Local().Format(TimeLayout) }

// ParseTime reads a CHAR(14) time column as local time.
func ParseTime(s string) (time.Time, error) {
	return time.ParseInLocation(TimeLayout, s, time.Local)
}

// Status values of T41 and T41_LOG. Part of the format.
const (
	StatusWaiting    byte = '1' // T41: waiting for its SEND_TIME (대기)
	StatusRequesting byte = '2' // T41: claimed by a sch (요청 중)
	StatusRequested  byte = '3' // T41_LOG: accepted, no result yet (요청)
	StatusDone       byte = '4' // T41_LOG: result complete (결과완료)
)

// Source values of T41_LOG.SOURCE. Part of the format.
const (
	SourceT41      byte = 'T'
	SourceListener byte = 'L'
	SourceFile     byte = 'F'
)

// Result codes the store itself writes (PROTOCOL.md).
const (
	ResultDelivered     = "0000"
	ResultReportTimeout = "3004"
)

// T41Row is one row of T41. Empty strings are NULL in the database.
type T41Row struct {
	MsgSeq    int64 // assigned by the database on insert
	ClientID  string
	MsgKey    string
	Status    byte // StatusWaiting when inserted with 0
	SendTime  string
	MsgType   string
	JobClass  string
	Callback  string
	Dest      string
	Subject   string
	Text      string
	RegTime   string // set to the store's clock when empty
	ClaimTime string
}

// Message is the part of an event that describes the message itself: the
// columns of T41_LOG that an Accept or a Final fills.
type Message struct {
	GWID       string
	Source     byte // SourceT41, SourceListener, SourceFile
	ClientID   string
	MsgKey     string
	MsgSeq     int64 // T41.MSG_SEQ when Source is SourceT41, else 0
	MsgType    string
	JobClass   string
	Callback   string
	Dest       string
	Subject    string
	Text       string
	SendTime   string
	AcceptTime string // empty: the event's EventTime
	Carrier    string
	Sender     string
}

// EventKind says what an Event records.
type EventKind byte

// Event kinds. The byte values are what dbx may carry in its records.
const (
	// EventAccept: dist handed the message to a sender. Inserts the
	// T41_LOG row (STATUS 3) and deletes the T41 row of a SourceT41 message.
	EventAccept EventKind = 'A'
	// EventAck: the carrier's answer to the submission: ACK_TIME (EventTime),
	// ACK_CODE, CARRIER_MSG_ID, and CARRIER/SENDER. An AckCode other than
	// 0000 ends the message with RESULT_CODE = AckCode unless a Report or a
	// Final gives it another result.
	EventAck EventKind = 'K'
	// EventReport: the delivery result: REPORT_TIME (EventTime),
	// RESULT_CODE, CARRIER_CODE; STATUS 4.
	EventReport EventKind = 'R'
	// EventFinal: a result without a carrier (1201, 1202, 1203, 3005,
	// validation failures): the message's columns and its result at once;
	// STATUS 4; deletes the T41 row of a SourceT41 message.
	EventFinal EventKind = 'F'
)

// Event is one thing that happened to a message. Only the fields its Kind
// uses are read; the others may be left empty.
type Event struct {
	Kind EventKind
	Message
	// EventTime is when it happened: ACK_TIME of an Ack, REPORT_TIME of a
	// Report or a Final. Empty: the store's clock.
	EventTime    string
	AckCode      string
	CarrierMsgID string
	ResultCode   string
	CarrierCode  string
	// PortedCarrier, on a Report, is the destination's real carrier as the
	// carrier reported it; it updates PNX for Dest in the same transaction.
	PortedCarrier string
}

// LogRow is one row of T41_LOG.
type LogRow struct {
	Message
	Status       byte
	AckTime      string
	AckCode      string
	CarrierMsgID string
	ReportTime   string
	ResultCode   string
	CarrierCode  string
	// ResultSrc says which event gave RESULT_CODE: ResultFromReport,
	// ResultFromFinal, ResultFromAck, ResultFromTimeout; 0 while none did.
	ResultSrc byte
}

// Values of T41_LOG.RESULT_SRC. Part of the format.
const (
	ResultFromReport  byte = 'R'
	ResultFromFinal   byte = 'F'
	ResultFromAck     byte = 'A' // an Ack with a code other than 0000
	ResultFromTimeout byte = 'E' // ExpireReports: 3004
)

// PendingReport is a final result owed to a listener client as a REPORT
// (PROTOCOL.md 0300). It stays pending in RPT_PENDING until MarkReported.
type PendingReport struct {
	GWID       string
	ClientID   string
	MsgKey     string
	Carrier    string
	DoneTime   string // REPORT_TIME
	ResultCode string
}

// PNXEntry is one number-portability row.
type PNXEntry struct {
	Number  string
	Carrier string
	UpdTime string // empty: the store's clock
	Source  byte   // PNXFromFile or PNXFromReport
}

// Values of PNX.SOURCE. Part of the format.
const (
	PNXFromFile   byte = 'F' // loaded from etc/
	PNXFromReport byte = 'R' // revealed by a carrier report
)
