package msg

import (
	"strconv"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// Sources of a message (SOURCE). Part of the format.
const (
	SourceT41      byte = 'T'
	SourceListener byte = 'L'
	SourceFile     byte = 'F'
)

// Message is one message record. AN values are held without padding, K
// values (Subject, Text) as EUC-KR bytes, times as their 14 digits with ""
// for all zeros, GWID as its 20 digits.
type Message struct {
	GWID       string
	Source     byte
	ClientID   string
	MsgKey     string
	MsgSeq     uint64
	MsgType    byte
	JobClass   byte
	AcceptTime string
	SendTime   string
	ExpireTime string
	Carrier    string
	Sender     string
	Result     telegram.Code
	DupChecked bool
	Reroutes   int
	SrcRef     string

	Callback string
	Dest     string
	Subject  string
	Text     string
}

// Encode appends the message record to dst. It never fails: values longer
// than their fields are cut (K at a character boundary), Text at MaxText.
// With room in dst it allocates nothing.
func (m *Message) Encode(dst []byte) []byte {
	dst = layout.AppendN(dst, Version, 2)
	dst = layout.AppendNDigits(dst, m.GWID, 20)
	dst = appendByte(dst, m.Source)
	dst = layout.AppendAN(dst, m.ClientID, 10)
	dst = layout.AppendAN(dst, m.MsgKey, 20)
	dst = layout.AppendN(dst, m.MsgSeq, 12)
	dst = appendByte(dst, m.MsgType)
	dst = appendByte(dst, m.JobClass)
	dst = layout.AppendNDigits(dst, m.AcceptTime, 14)
	dst = layout.AppendNDigits(dst, m.SendTime, 14)
	dst = layout.AppendNDigits(dst, m.ExpireTime, 14)
	dst = layout.AppendAN(dst, m.Carrier, 4)
	dst = layout.AppendAN(dst, m.Sender, 8)
	dst = layout.AppendN(dst, uint64(m.Result), 4)
	if m.DupChecked {
		dst = append(dst, 'Y')
	} else {
		dst = append(dst, 'N')
	}
	dst = layout.AppendN(dst, uint64(min(max(m.Reroutes, 0), 99)), 2)
	dst = layout.AppendAN(dst, m.SrcRef, 48)
	dst = layout.AppendAN(dst, m.Callback, 16)
	dst = layout.AppendAN(dst, m.Dest, 16)
	dst = layout.AppendK(dst, m.Subject, 40)
	text := layout.CutEUCKRString(m.Text, MaxText)
	dst = layout.AppendN(dst, uint64(len(text)), 4)
	return append(dst, text...)
}

// Size is the length of m's encoded record.
func (m *Message) Size() int { return CommonLen + IndividualMin + min(len(m.Text), MaxText) }

// DecodeMessage decodes a message record. It costs one allocation (the
// string every field is a substring of).
func DecodeMessage(b []byte) (Message, error) {
	var r layout.Record
	if err := MessageLayout.Decode(b, &r); err != nil {
		return Message{}, err
	}
	var m Message
	err := messageFrom(string(b), 0, &m)
	return m, err
}

var (
	fVersion, fGWID, fSource, fClientID                  = MessageLayout.MustFixed("VERSION"), MessageLayout.MustFixed("GW_ID"), MessageLayout.MustFixed("SOURCE"), MessageLayout.MustFixed("CLIENT_ID")
	fMsgKey, fMsgSeq, fMsgType, fJobClass                = MessageLayout.MustFixed("MSG_KEY"), MessageLayout.MustFixed("MSG_SEQ"), MessageLayout.MustFixed("MSG_TYPE"), MessageLayout.MustFixed("JOB_CLASS")
	fAccept, fSend, fExpire, fCarrier                    = MessageLayout.MustFixed("ACCEPT_TIME"), MessageLayout.MustFixed("SEND_TIME"), MessageLayout.MustFixed("EXPIRE_TIME"), MessageLayout.MustFixed("CARRIER")
	fSender, fResult, fDupChecked, fReroutes             = MessageLayout.MustFixed("SENDER"), MessageLayout.MustFixed("RESULT"), MessageLayout.MustFixed("DUP_CHECKED"), MessageLayout.MustFixed("REROUTES")
	fSrcRef, fCallback, fDest, fSubject, fTextLen, fText = MessageLayout.MustFixed("SRC_REF"), MessageLayout.MustFixed("CALLBACK"), MessageLayout.MustFixed("DEST"), MessageLayout.MustFixed("SUBJECT"), MessageLayout.MustFixed("TEXT_LEN"), MessageLayout.MustFixed("TEXT")
)

// messageFrom fills m from the message record at s[base:], which the
// caller has decoded (so every field is where the layout says and holds
// what its type allows).
func messageFrom(s string, base int, m *Message) error {
	if ver := fVersion.Uint(s, base); ver != Version {
		return &layout.Error{Layout: MessageLayout.Name, Field: "VERSION", Kind: layout.FieldErr, Off: base, Reason: "record version " + strconv.Itoa(int(ver)) + ", want " + strconv.Itoa(Version)}
	}
	tl := int(fTextLen.Uint(s, base))
	*m = Message{
		GWID:       fGWID.NonZero(s, base),
		Source:     fSource.Byte(s, base),
		ClientID:   fClientID.AN(s, base),
		MsgKey:     fMsgKey.AN(s, base),
		MsgSeq:     fMsgSeq.Uint(s, base),
		MsgType:    fMsgType.Byte(s, base),
		JobClass:   fJobClass.Byte(s, base),
		AcceptTime: fAccept.NonZero(s, base),
		SendTime:   fSend.NonZero(s, base),
		ExpireTime: fExpire.NonZero(s, base),
		Carrier:    fCarrier.AN(s, base),
		Sender:     fSender.AN(s, base),
		Result:     telegram.Code(fResult.Uint(s, base)),
		DupChecked: s[base+fDupChecked.Off] == 'Y',
		Reroutes:   int(fReroutes.Uint(s, base)),
		SrcRef:     fSrcRef.AN(s, base),
		Callback:   fCallback.AN(s, base),
		Dest:       fDest.AN(s, base),
		Subject:    fSubject.AN(s, base),
		Text:       s[base+fText.Off : base+fText.Off+tl],
	}
	return nil
}

// SplitMessage returns a message record's common and individual parts
// without decoding them (dist reads the common part first).
func SplitMessage(b []byte) (common, individual []byte, ok bool) {
	if len(b) < CommonLen+IndividualMin {
		return nil, nil, false
	}
	return b[:CommonLen], b[CommonLen:], true
}

// FromSubmit builds the message of a SUBMIT: the fields the telegram gives.
// The listener fills GWID, ClientID, times, DupChecked and SrcRef.
func FromSubmit(s *telegram.Submit) Message {
	return Message{
		Source: SourceListener, MsgKey: s.MsgKey, MsgType: s.MsgType, JobClass: s.JobClass,
		SendTime: s.ReserveTime, Callback: s.Callback, Dest: s.Dest, Subject: s.Subject, Text: s.Text,
	}
}

// FromMultiSubmit builds the message of destination i of a MULTI_SUBMIT.
func FromMultiSubmit(s *telegram.MultiSubmit, i int) Message {
	return Message{
		Source: SourceListener, MsgKey: s.Dests[i].MsgKey, MsgType: s.MsgType, JobClass: s.JobClass,
		SendTime: s.ReserveTime, Callback: s.Callback, Dest: s.Dests[i].Dest, Subject: s.Subject, Text: s.Text,
	}
}

// Validate runs the telegram checks on a message that did not come through
// the listener (sch's T41 rows, tkm_files' records): MSG_KEY, MSG_TYPE,
// JOB_CLASS, SEND_TIME (1003), CALLBACK, DEST (1203), text (1204).
func (m *Message) Validate(lim Limits) telegram.Code {
	s := telegram.Submit{MsgKey: m.MsgKey, MsgType: m.MsgType, JobClass: m.JobClass, Callback: m.Callback,
		Dest: m.Dest, ReserveTime: m.SendTime, Subject: m.Subject, Text: m.Text}
	return s.Validate(lim)
}

func anByte(v layout.Value) byte {
	if b := v.Raw(); len(b) == 1 && b[0] != 0 {
		return b[0]
	}
	return ' '
}

func appendByte(dst []byte, c byte) []byte {
	if c == 0 {
		c = ' '
	}
	return append(dst, c)
}

// zerosEmpty is an N field as a substring of s, "" when all zeros.
func zerosEmpty(v layout.Value, s string) string {
	for _, c := range v.Raw() {
		if c != '0' {
			return v.In(s)
		}
	}
	return ""
}
