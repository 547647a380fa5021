package telegram

import "strconv"

// Code is a PROTOCOL.md result code. The values are part of the protocol.
type Code uint16

// Result codes (PROTOCOL.md, "Result codes").
const (
	OK              Code = 0    // success (responses) / delivered (REPORT)
	ErrFraming      Code = 1001 // bad LEN, LEN and body disagree; the connection is closed after the response
	ErrUnknownType  Code = 1002 // unknown TYPE
	ErrField        Code = 1003 // non-digit in N, bad MSG_TYPE or JOB_CLASS, bad time, DEST_CNT out of range
	ErrNotBound     Code = 1101 // the first telegram must be BIND
	ErrAuth         Code = 1102 // unknown client, wrong password, or address not registered for it
	ErrAlreadyBound Code = 1103 // already bound
	ErrDuplicate    Code = 1201 // duplicate MSG_KEY
	ErrCallback     Code = 1202 // callback number not registered for this client
	ErrDest         Code = 1203 // invalid destination number
	ErrTooLong      Code = 1204 // text or subject too long, or not EUC-KR
	ErrBusy         Code = 2001 // the gateway cannot store the message now; nothing was accepted
	ErrTPS          Code = 2002 // over the client's TPS limit; nothing was accepted
	RptUnknownSub   Code = 3001 // unknown subscriber
	RptUnreachable  Code = 3002 // handset unreachable, report expired at the carrier
	RptRejected     Code = 3003 // rejected by the carrier (spam or policy)
	RptTimeout      Code = 3004 // no result from the carrier within the report timeout
	RptNotSent      Code = 3005 // no carrier link could take it within its validity time
	ErrInternal     Code = 9999 // internal error
)

var meanings = map[Code]string{
	OK:              "success",
	ErrFraming:      "framing error",
	ErrUnknownType:  "unknown TYPE",
	ErrField:        "field error",
	ErrNotBound:     "not bound",
	ErrAuth:         "authentication failed",
	ErrAlreadyBound: "already bound",
	ErrDuplicate:    "duplicate MSG_KEY",
	ErrCallback:     "callback number not registered",
	ErrDest:         "invalid destination number",
	ErrTooLong:      "text or subject too long, or not EUC-KR",
	ErrBusy:         "busy, retry later",
	ErrTPS:          "over the TPS limit",
	RptUnknownSub:   "unknown subscriber",
	RptUnreachable:  "handset unreachable",
	RptRejected:     "rejected by the carrier",
	RptTimeout:      "no report within the timeout",
	RptNotSent:      "not sent within the validity time",
	ErrInternal:     "internal error",
}

// Codes lists every code of PROTOCOL.md, in its order.
func Codes() []Code {
	return []Code{OK, ErrFraming, ErrUnknownType, ErrField, ErrNotBound, ErrAuth, ErrAlreadyBound,
		ErrDuplicate, ErrCallback, ErrDest, ErrTooLong, ErrBusy, ErrTPS,
		RptUnknownSub, RptUnreachable, RptRejected, RptTimeout, RptNotSent, ErrInternal}
}

// Known reports whether c is a code of PROTOCOL.md.
func (c Code) Known() bool { _, ok := meanings[c]; return ok }

// Meaning is the code's meaning in a few words.
func (c Code) Meaning() string {
	if m, ok := meanings[c]; ok {
		return m
	}
	return "unknown code"
}

// String is the code as its four digits.
func (c Code) String() string {
	s := strconv.Itoa(int(c))
	return "0000"[:max(0, 4-len(s))] + s
}

// Final reports whether the code ends a message in a REPORT other than
// delivered (every code but 0000 that a REPORT may carry).
func (c Code) Final() bool { return c != OK }
