package sch

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// message turns a claimed T41 row into its lane record's Message, with
// RESULT set when the row fails validation.
func message(r *store.T41Row, gwid string, now time.Time, s *settings) msg.Message {
	m := msg.Message{
		GWID:       gwid,
		Source:     msg.SourceT41,
		ClientID:   r.ClientID,
		MsgKey:     r.MsgKey,
		MsgSeq:     uint64(r.MsgSeq),
		MsgType:    oneByte(r.MsgType),
		JobClass:   oneByte(r.JobClass),
		AcceptTime: msg.FormatTime(now),
		SendTime:   r.SendTime,
		ExpireTime: msg.FormatTime(now.Add(s.validity)),
		SrcRef:     "T41:" + strconv.FormatInt(r.MsgSeq, 10),
		Callback:   r.Callback,
		Dest:       r.Dest,
	}
	subj, ok1 := toEUCKR(r.Subject)
	text, ok2 := toEUCKR(r.Text)
	m.Subject, m.Text = subj, text
	m.Result = m.Validate(s.lim)
	if m.Result == telegram.OK && (!ok1 || !ok2) {
		m.Result = telegram.ErrTooLong
	}
	if m.Result == telegram.OK && len(m.Text) > msg.MaxText {
		m.Result = telegram.ErrTooLong
	}
	return m
}

// oneByte is a CHAR(1) column as the record's byte; anything else (empty,
// longer) is a blank, which validation refuses.
func oneByte(s string) byte {
	if len(s) == 1 {
		return s[0]
	}
	return ' '
}

// toEUCKR converts a text column to EUC-KR bytes; false when it cannot be.
func toEUCKR(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if utf8.ValidString(s) {
		b, err := layout.ToEUCKR(s)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	if layout.ValidEUCKRString(s) {
		return s, true
	}
	return "", false
}

// laneOf is the lane of a JOB_CLASS; an invalid class goes to S (its record
// carries its RESULT and dist only ends it).
func laneOf(jc byte) byte {
	switch jc {
	case 'R', 'S', 'B':
		return jc
	}
	return 'S'
}
