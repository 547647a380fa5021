package telegram

import (
	"errors"

	"github.com/m1gw/m1/gw/layout"
)

// Limits are the configurable text limits of PROTOCOL.md, in EUC-KR bytes.
type Limits struct {
	SMSText int // default 90
	LMSText int // default 2000
	Subject int // default 40 (the field's length)
}

// DefaultLimits are PROTOCOL.md's defaults.
var DefaultLimits = Limits{SMSText: 90, LMSText: 2000, Subject: 40}

// ResultOf maps a decoding error onto its PROTOCOL.md result code:
// framing 1001, field 1003, bad EUC-KR 1204; nil is 0000, anything else
// 9999.
func ResultOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *layout.Error
	if !errors.As(err, &e) {
		return ErrInternal
	}
	switch e.Kind {
	case layout.Framing:
		return ErrFraming
	case layout.FieldErr:
		return ErrField
	case layout.Encoding:
		return ErrTooLong
	}
	return ErrInternal
}

// ValidMsgType reports whether c is a MSG_TYPE (S, L).
func ValidMsgType(c byte) bool { return c == 'S' || c == 'L' }

// ValidJobClass reports whether c is a JOB_CLASS (R, B, S).
func ValidJobClass(c byte) bool { return c == 'R' || c == 'B' || c == 'S' }

// ValidTime reports whether s is "" (now) or a real calendar time
// YYYYMMDDhhmmss with a year from 2000 to 2099.
func ValidTime(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 14 {
		return false
	}
	var v [7]int
	w := [7]int{4, 2, 2, 2, 2, 2, 0}
	p := 0
	for i := 0; i < 6; i++ {
		for j := 0; j < w[i]; j++ {
			c := s[p]
			if c < '0' || c > '9' {
				return false
			}
			v[i] = v[i]*10 + int(c-'0')
			p++
		}
	}
	y, mo, d, h, mi, se := v[0], v[1], v[2], v[3], v[4], v[5]
	if y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidDest reports whether s is a plausible Korean mobile number: 10 or 11
// digits starting 01 (010, 011, 016, 017, 018, 019).
func ValidDest(s string) bool {
	return (len(s) == 10 || len(s) == 11) && s[0] == '0' && s[1] == '1' && allDigits(s)
}

// ValidCallback reports whether s is a plausible callback number: 8 to 12
// digits (1588-xxxx is 8, 02-xxx-xxxx 9, 010-xxxx-xxxx 11, 0505-xxx-xxxxx 12).
func ValidCallback(s string) bool {
	return len(s) >= 8 && len(s) <= 12 && allDigits(s)
}

// ValidMsgKey reports whether a MSG_KEY is usable: not blank (a blank key
// could not be told from the next one) and printable ASCII.
func ValidMsgKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			if s[i] != ' ' {
				return false
			}
		}
	}
	return s[0] != ' '
}

// CheckText checks a message's text and subject against the limits for its
// type: 1204 when too long or not EUC-KR. msgType must be valid.
func (lim Limits) CheckText(msgType byte, subject, text string) Code {
	max := lim.SMSText
	if msgType == 'L' {
		max = lim.LMSText
	}
	if len(text) > max || len(subject) > lim.Subject {
		return ErrTooLong
	}
	if !validEUCKR(subject) || !validEUCKR(text) {
		return ErrTooLong
	}
	return OK
}

func validEUCKR(s string) bool { return layout.ValidEUCKRString(s) }

// Validate runs every check of PROTOCOL.md that needs nothing but the
// telegram, in this order, and returns the first failure's code:
// MSG_KEY, MSG_TYPE, JOB_CLASS, RESERVE_TIME (1003); CALLBACK, DEST (1203);
// TEXT and SUBJECT (1204). Callback registration, duplicates and TPS are the
// listener's.
func (m *Submit) Validate(lim Limits) Code {
	if !ValidMsgKey(m.MsgKey) {
		return ErrField
	}
	if c := checkCommon(m.MsgType, m.JobClass, m.ReserveTime, m.Callback); c != OK {
		return c
	}
	if !ValidDest(m.Dest) {
		return ErrDest
	}
	return lim.CheckText(m.MsgType, m.Subject, m.Text)
}

func checkCommon(msgType, jobClass byte, reserve, callback string) Code {
	if !ValidMsgType(msgType) || !ValidJobClass(jobClass) || !ValidTime(reserve) {
		return ErrField
	}
	if !ValidCallback(callback) {
		return ErrDest
	}
	return OK
}

// Validate checks the fields a MULTI_SUBMIT's destinations share; a
// failure here fails every destination. ValidateDest checks one
// destination.
func (m *MultiSubmit) Validate(lim Limits) Code {
	if c := checkCommon(m.MsgType, m.JobClass, m.ReserveTime, m.Callback); c != OK {
		return c
	}
	return lim.CheckText(m.MsgType, m.Subject, m.Text)
}

// ValidateDest checks destination i of a MULTI_SUBMIT: its MSG_KEY (1003)
// and its number (1203).
func (m *MultiSubmit) ValidateDest(i int) Code {
	if i < 0 || i >= len(m.Dests) {
		return ErrField
	}
	if !ValidMsgKey(m.Dests[i].MsgKey) {
		return ErrField
	}
	if !ValidDest(m.Dests[i].Dest) {
		return ErrDest
	}
	return OK
}
