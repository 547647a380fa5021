package msg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// BulkLayout is one record of a tkm_files bulk file: fixed length, EUC-KR,
// one record a line. TEXT is a fixed 2000-byte field padded with spaces;
// TEXT_LEN says how many of its bytes are the message (so trailing spaces
// of a message survive, and a record is always BulkRecordLen bytes).
var BulkLayout = layout.MustNew("BULK",
	layout.Alpha("CLIENT_ID", 10, "client id"),
	layout.Alpha("MSG_KEY", 20, "the client's key, unique per client"),
	layout.Alpha("MSG_TYPE", 1, "S SMS, L LMS"),
	layout.Alpha("JOB_CLASS", 1, "R, B, S (bulk files are usually B)"),
	layout.Alpha("CALLBACK", 16, "callback number"),
	layout.Alpha("DEST", 16, "destination number"),
	layout.Num("RESERVE_TIME", 14, "send at or after; zeros = now"),
	layout.Korean("SUBJECT", 40, "LMS subject"),
	layout.Num("TEXT_LEN", 4, "bytes of TEXT that are the message, 0..2000"),
	layout.Korean("TEXT", MaxText, "the message in its first TEXT_LEN bytes, then spaces"),
)

// BulkResultLayout is one line of a bulk file's NAME.result file.
var BulkResultLayout = layout.MustNew("BULK_RESULT",
	layout.Num("LINE", 8, "record number in the file, from 1"),
	layout.Alpha("MSG_KEY", 20, "the record's MSG_KEY (as read; spaces when unreadable)"),
	layout.Num("RESULT", 4, "0000 queued, else the PROTOCOL.md code of the failure"),
	layout.Num("GW_ID", 20, "the gateway's id when queued; zeros otherwise"),
)

// Bulk file sizes, part of the format.
const (
	BulkRecordLen = 2122 // bytes of a record, without its line end
	BulkResultLen = 52   // bytes of a result line, without its line end
)

// Bulk is one bulk file record.
type Bulk struct {
	ClientID    string
	MsgKey      string
	MsgType     byte
	JobClass    byte
	Callback    string
	Dest        string
	ReserveTime string
	Subject     string
	Text        string
}

var (
	bTextLen = BulkLayout.MustIndex("TEXT_LEN")
	bText    = BulkLayout.MustIndex("TEXT")
)

// DecodeBulk decodes one record (the line without its line end). TEXT_LEN
// over 2000, or bytes after TEXT_LEN in TEXT that are not spaces, are field
// errors (1003); TEXT_LEN cutting a character in two is an encoding error
// (1204).
func DecodeBulk(line []byte) (Bulk, error) {
	var r layout.Record
	if err := BulkLayout.Decode(line, &r); err != nil {
		return Bulk{}, err
	}
	tl := r.Field(bTextLen).Int()
	raw := r.Field(bText).Raw()
	off := int(r.Span(bText).Off)
	if tl > len(raw) {
		return Bulk{}, &layout.Error{Layout: BulkLayout.Name, Field: "TEXT_LEN", Kind: layout.FieldErr, Off: int(r.Span(bTextLen).Off), Reason: "TEXT_LEN " + strconv.Itoa(tl) + " over 2000"}
	}
	for _, c := range raw[tl:] {
		if c != ' ' {
			return Bulk{}, &layout.Error{Layout: BulkLayout.Name, Field: "TEXT", Kind: layout.FieldErr, Off: off + tl, Reason: "bytes after TEXT_LEN that are not spaces"}
		}
	}
	if !layout.ValidEUCKR(raw[:tl]) {
		return Bulk{}, &layout.Error{Layout: BulkLayout.Name, Field: "TEXT", Kind: layout.Encoding, Off: off, Reason: "TEXT_LEN cuts a character in two"}
	}
	s := string(line)
	return Bulk{
		ClientID:    r.Field(0).In(s),
		MsgKey:      r.Field(1).In(s),
		MsgType:     anByte(r.Field(2)),
		JobClass:    anByte(r.Field(3)),
		Callback:    r.Field(4).In(s),
		Dest:        r.Field(5).In(s),
		ReserveTime: zerosEmpty(r.Field(6), s),
		Subject:     r.Field(7).In(s),
		Text:        s[off : off+tl],
	}, nil
}

// Encode appends the record to dst, without a line end.
func (b *Bulk) Encode(dst []byte) []byte {
	dst = layout.AppendAN(dst, b.ClientID, 10)
	dst = layout.AppendAN(dst, b.MsgKey, 20)
	dst = appendByte(dst, b.MsgType)
	dst = appendByte(dst, b.JobClass)
	dst = layout.AppendAN(dst, b.Callback, 16)
	dst = layout.AppendAN(dst, b.Dest, 16)
	dst = layout.AppendNDigits(dst, b.ReserveTime, 14)
	dst = layout.AppendK(dst, b.Subject, 40)
	text := layout.CutEUCKRString(b.Text, MaxText)
	dst = layout.AppendN(dst, uint64(len(text)), 4)
	return layout.AppendK(dst, text, MaxText)
}

// Message is the message record of a bulk record (SOURCE F); tkm_files
// fills GWID, times and SrcRef.
func (b *Bulk) Message() Message {
	return Message{Source: SourceFile, ClientID: b.ClientID, MsgKey: b.MsgKey, MsgType: b.MsgType, JobClass: b.JobClass,
		SendTime: b.ReserveTime, Callback: b.Callback, Dest: b.Dest, Subject: b.Subject, Text: b.Text}
}

// ErrBulkLineEnd is returned by ReadBulkRecord when a record is not followed
// by a line end: the file is not made of whole records from there on.
var ErrBulkLineEnd = errors.New("bulk record not followed by a line end")

// ReadBulkRecord reads the next record of a bulk file into buf (which it
// grows to BulkRecordLen) and returns it without its line end. Records are
// read by length, not by looking for a line end, so TEXT may hold CR and
// LF; after the record comes LF or CR LF. io.EOF means the file ended
// cleanly between records; io.ErrUnexpectedEOF inside one.
func ReadBulkRecord(r *bufio.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < BulkRecordLen {
		buf = make([]byte, BulkRecordLen)
	}
	buf = buf[:BulkRecordLen]
	n, err := io.ReadFull(r, buf)
	if err != nil {
		if err == io.EOF && n == 0 {
			return nil, io.EOF
		}
		return nil, io.ErrUnexpectedEOF
	}
	c, err := r.ReadByte()
	if err == io.EOF {
		return buf, nil // the last record may lack its line end
	}
	if err != nil {
		return nil, err
	}
	if c == '\r' {
		c, err = r.ReadByte()
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	if c != '\n' {
		return nil, fmt.Errorf("%w (byte 0x%02x)", ErrBulkLineEnd, c)
	}
	return buf, nil
}

// AppendBulkResult appends one result line (with its LF).
func AppendBulkResult(dst []byte, line int, msgKey string, result telegram.Code, gwid string) []byte {
	dst = layout.AppendN(dst, uint64(line), 8)
	dst = layout.AppendAN(dst, msgKey, 20)
	dst = layout.AppendN(dst, uint64(result), 4)
	dst = layout.AppendNDigits(dst, gwid, 20)
	return append(dst, '\n')
}
