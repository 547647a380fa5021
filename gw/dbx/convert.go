package dbx

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// senderCarriers maps each configured sender id (the SENDER field of the
// events) to the carrier its link reaches.
func senderCarriers(c *config.Config) map[string]string {
	m := make(map[string]string, len(c.Senders))
	for _, s := range c.Senders {
		m[s.ID] = s.Carrier
	}
	return m
}

// code renders a PROTOCOL.md code as the database holds it: 4 digits.
func code(c telegram.Code) string {
	if c > 9999 {
		c = telegram.ErrInternal
	}
	s := strconv.Itoa(int(c))
	return strings.Repeat("0", 4-len(s)) + s
}

// utf8Text turns a K field (EUC-KR bytes) into the database's text. The
// intakes validated it; bytes that are still not EUC-KR are kept visible as
// U+FFFD rather than failing the batch on every retry.
func utf8Text(b string) string {
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x80 {
			s, err := layout.ToUTF8([]byte(b))
			if err != nil {
				return strings.ToValidUTF8(b, "\uFFFD")
			}
			return s
		}
	}
	return b
}

// ToStore turns a DBX event record into the store's event, as dbx applies
// it. senders maps sender ids to their carriers (config Sender.ID →
// Sender.Carrier), for PNX (see the package doc, "Number portability").
func ToStore(e *msg.Event, senders map[string]string) store.Event {
	se := store.Event{Kind: store.EventKind(e.Kind), EventTime: e.EventTime, CarrierMsgID: an(e.CarrierMsgID),
		CarrierCode: an(e.CarrierCode)}
	se.GWID = e.GWID
	if e.HasMsg {
		m := &e.Msg
		if se.GWID == "" {
			se.GWID = m.GWID
		}
		se.Source = m.Source
		se.ClientID, se.MsgKey = an(m.ClientID), an(m.MsgKey)
		if m.Source == msg.SourceT41 {
			se.MsgSeq = int64(m.MsgSeq)
		}
		se.MsgType, se.JobClass = byteStr(m.MsgType), byteStr(m.JobClass)
		se.Callback, se.Dest = an(m.Callback), an(m.Dest)
		se.Subject, se.Text = utf8Text(m.Subject), utf8Text(m.Text)
		se.SendTime, se.AcceptTime = m.SendTime, m.AcceptTime
		se.Carrier, se.Sender = an(m.Carrier), an(m.Sender)
	}
	if se.Carrier == "" && se.Sender == "" {
		se.Carrier, se.Sender = an(e.Carrier), an(e.Sender)
	}
	switch e.Kind {
	case msg.KindAck:
		se.AckCode = code(e.AckCode)
		se.Carrier, se.Sender = an(e.Carrier), an(e.Sender)
	case msg.KindReport:
		se.ResultCode = code(e.ResultCode)
		se.Carrier, se.Sender = "", ""
		if c := an(e.Carrier); e.ResultCode == telegram.OK && c != "" {
			if link, ok := senders[e.Sender]; ok && link != "" && link != c {
				se.PortedCarrier = c
			}
		}
	case msg.KindFinal:
		rc := e.ResultCode
		if rc == telegram.OK && e.HasMsg {
			rc = e.Msg.Result
		}
		se.ResultCode = code(rc)
	}
	return se
}

// an makes an AN field (bytes from other processes, some from carriers)
// safe for a text column: bytes that are not UTF-8 would make PostgreSQL
// refuse the batch on every retry.
func an(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "?")
}

func byteStr(b byte) string {
	if b == 0 || b == ' ' {
		return ""
	}
	return string(b)
}
