package msg

import (
	"strconv"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/telegram"
)

// Event kinds (KIND). Part of the format.
const (
	KindAccept byte = 'A' // dist handed the message to a sender: insert into T41_LOG
	KindAck    byte = 'K' // the carrier's answer to the submit
	KindReport byte = 'R' // the carrier's delivery report
	KindFinal  byte = 'F' // a final result without a carrier (1201, 1202, 1203, 3005, validation)
)

// Event is one DBX event record. Accept and Final events carry the whole
// message (HasMsg); Ack and Report events only the GW_ID and the carrier's
// answer.
type Event struct {
	Kind         byte
	GWID         string
	EventTime    string
	Carrier      string
	Sender       string
	CarrierMsgID string
	AckCode      telegram.Code
	ResultCode   telegram.Code
	CarrierCode  string
	HasMsg       bool
	Msg          Message
}

var eMsg = EventLayout.MustIndex("MSG")

// Encode appends the event record to dst.
func (e *Event) Encode(dst []byte) []byte {
	dst = layout.AppendN(dst, Version, 2)
	dst = appendByte(dst, e.Kind)
	dst = layout.AppendNDigits(dst, e.GWID, 20)
	dst = layout.AppendNDigits(dst, e.EventTime, 14)
	dst = layout.AppendAN(dst, e.Carrier, 4)
	dst = layout.AppendAN(dst, e.Sender, 8)
	dst = layout.AppendAN(dst, e.CarrierMsgID, 24)
	dst = layout.AppendN(dst, uint64(e.AckCode), 4)
	dst = layout.AppendN(dst, uint64(e.ResultCode), 4)
	dst = layout.AppendAN(dst, e.CarrierCode, 8)
	if !e.HasMsg {
		return append(dst, '0')
	}
	dst = append(dst, '1')
	return e.Msg.Encode(dst)
}

// DecodeEvent decodes an event record. A KIND other than A, K, R, F, or an
// Accept or Final event without its message, is a field error.
func DecodeEvent(b []byte) (Event, error) {
	var r layout.Record
	if err := EventLayout.Decode(b, &r); err != nil {
		return Event{}, err
	}
	s := string(b)
	if ver := r.Field(0).Int(); ver != Version {
		return Event{}, &layout.Error{Layout: EventLayout.Name, Field: "VERSION", Kind: layout.FieldErr, Reason: "record version " + strconv.Itoa(ver)}
	}
	e := Event{
		Kind:         anByte(r.Field(1)),
		GWID:         zerosEmpty(r.Field(2), s),
		EventTime:    zerosEmpty(r.Field(3), s),
		Carrier:      r.Field(4).In(s),
		Sender:       r.Field(5).In(s),
		CarrierMsgID: r.Field(6).In(s),
		AckCode:      telegram.Code(r.Field(7).Int()),
		ResultCode:   telegram.Code(r.Field(8).Int()),
		CarrierCode:  r.Field(9).In(s),
		HasMsg:       r.Count(eMsg) == 1,
	}
	switch e.Kind {
	case KindAccept, KindFinal:
		if !e.HasMsg {
			return Event{}, &layout.Error{Layout: EventLayout.Name, Field: "MSG_CNT", Kind: layout.FieldErr, Reason: "an " + string(e.Kind) + " event without its message"}
		}
	case KindAck, KindReport:
	default:
		return Event{}, &layout.Error{Layout: EventLayout.Name, Field: "KIND", Kind: layout.FieldErr, Reason: "unknown kind " + strconv.Quote(string(e.Kind))}
	}
	if e.HasMsg {
		if err := messageFrom(s, EventHeadLen, &e.Msg); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}
