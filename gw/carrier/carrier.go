package carrier

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/m1gw/m1/gw/telegram"
)

// Type is what a PDU is, whatever the dialect calls it on the wire.
type Type uint8

// PDU types. Every dialect has all eight.
const (
	Login      Type = iota + 1 // client → carrier: account and password
	LoginResp                  // carrier → client: Result
	Submit                     // client → carrier: one message
	SubmitResp                 // carrier → client: Ref echoed, MsgID, Result
	Report                     // carrier → client: delivery report
	ReportResp                 // client → carrier: the report is stored
	Link                       // either way: link check
	LinkResp                   // answer to Link
)

var typeNames = [...]string{"?", "login", "login_resp", "submit", "submit_resp", "report", "report_resp", "link", "link_resp"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Types lists every PDU type in wire-table order.
func Types() []Type {
	return []Type{Login, LoginResp, Submit, SubmitResp, Report, ReportResp, Link, LinkResp}
}

// PDU is one carrier protocol data unit, dialect-neutral. Only the fields
// the type carries in the dialect are encoded or filled by Decode; the
// others are left as they are (Decode zeroes the whole PDU first).
// K values (Subject, Text) are EUC-KR bytes held in strings.
type PDU struct {
	Type Type
	Seq  uint32 // chosen by the side that sends a request; echoed in its response

	Login, Password string // Login

	// Ref is M1's reference of a submit, echoed by the carrier in the
	// submit response and in the delivery report: M1 puts the GW_ID there,
	// so a report arriving on any connection, after any restart, names its
	// message without local state.
	Ref      string
	MsgType  byte // 'S' SMS, 'L' LMS
	Callback string
	Dest     string
	Subject  string
	Text     string

	Result   string // the carrier's (or relay's) own result code
	MsgID    string // the carrier's message id (the relay's, for a relay)
	DoneTime string // YYYYMMDDhhmmss the report's result was known

	// A relay's fields: its own id, and the final carrier's message id and
	// code, which it forwards beside its own.
	RelayID       string
	CarrierMsgID  string
	CarrierResult string
}

// Class is what a carrier's result code means for the sender.
type Class uint8

// Classes of carrier result codes.
const (
	// Accepted: the carrier took the submit (or the login); a report follows.
	Accepted Class = iota + 1
	// Rejected: the carrier refused the submit for good; the message ends
	// with Code.
	Rejected
	// Throttled: over the carrier's TPS; submit again later.
	Throttled
	// Retry: a temporary carrier failure; submit again later.
	Retry
	// Delivered: a report of delivery (Code 0000).
	Delivered
	// Failed: a report of failure; the message ends with Code.
	Failed
)

var classNames = [...]string{"?", "accepted", "rejected", "throttled", "retry", "delivered", "failed"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Outcome is a carrier result code mapped onto M1's terms.
type Outcome struct {
	CarrierCode string        // as the carrier sent it (for T41_LOG.CARRIER_CODE)
	Class       Class         // what the sender does with it
	Code        telegram.Code // PROTOCOL.md code
	Meaning     string
}

// Final reports whether the outcome ends the message.
func (o Outcome) Final() bool {
	return o.Class == Rejected || o.Class == Delivered || o.Class == Failed
}

// CodeEntry is one row of a dialect's result-code table.
type CodeEntry struct {
	CarrierCode string
	Class       Class
	Code        telegram.Code
	Meaning     string
}

// Dialect is one carrier protocol. Everything the sender and the simulator
// know about a carrier goes through it, so a new carrier (or SMPP) is one
// more implementation.
type Dialect interface {
	// Name is the dialect's configuration name (kt, skt, lgrelay).
	Name() string
	// Carrier is the carrier it reaches (KT, SKT, LGT).
	Carrier() string
	// HeaderLen is the length of the fixed header that starts every PDU.
	HeaderLen() int
	// FrameLen is the whole PDU's length, read from its header.
	FrameLen(hdr []byte) (int, error)
	// Append encodes p. Values longer than their fields are cut.
	Append(dst []byte, p *PDU) ([]byte, error)
	// Decode decodes exactly one whole PDU into p. It never panics.
	Decode(frame []byte, p *PDU) error
	// SubmitOutcome maps the Result of a LoginResp or SubmitResp.
	SubmitOutcome(code string) Outcome
	// ReportOutcome maps a Report. It reads the result fields it needs
	// (a relay's dialect reads the forwarded carrier code too).
	ReportOutcome(p *PDU) Outcome
	// SubmitCodes and ReportCodes are the dialect's tables (for the docs,
	// the tests and the simulator).
	SubmitCodes() []CodeEntry
	ReportCodes() []CodeEntry
}

// ErrUnknownDialect is returned by ByName for a name no dialect has.
var ErrUnknownDialect = errors.New("unknown carrier dialect")

// ErrFrame is wrapped by FrameLen and Decode for bytes that are not a PDU
// of the dialect: the connection cannot be trusted to stay in step and is
// closed.
var ErrFrame = errors.New("bad carrier frame")

var dialects = map[string]Dialect{}

func register(d Dialect) Dialect { dialects[d.Name()] = d; return d }

// ByName returns the dialect of a configuration name.
func ByName(name string) (Dialect, error) {
	if d, ok := dialects[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownDialect, name)
}

// Names lists the dialects, sorted.
func Names() []string {
	var n []string
	for k := range dialects {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// MaxFrame bounds every dialect's PDU: a length field claiming more is a
// framing error, so a hostile peer cannot make a reader allocate.
const MaxFrame = 8192

// ReadFrame reads one PDU of d from r into buf (grown when needed) and
// returns it.
func ReadFrame(r *bufio.Reader, d Dialect, buf []byte) ([]byte, error) {
	hl := d.HeaderLen()
	if cap(buf) < hl {
		buf = make([]byte, hl, 512)
	}
	buf = buf[:hl]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n, err := d.FrameLen(buf)
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[hl:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// ReportCode is the first carrier code of d's report table mapping onto c
// ("" when none): what a simulator sends for a wanted PROTOCOL.md result.
func ReportCode(d Dialect, c telegram.Code) string {
	for _, e := range d.ReportCodes() {
		if e.Code == c {
			return e.CarrierCode
		}
	}
	return ""
}

// SubmitCode is the first carrier code of d's submit table of class cl.
func SubmitCode(d Dialect, cl Class, c telegram.Code) string {
	for _, e := range d.SubmitCodes() {
		if e.Class == cl && (c == 0 || e.Code == c) {
			return e.CarrierCode
		}
	}
	return ""
}
