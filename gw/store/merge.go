package store

import "unicode/utf8"

// The merge rules of T41_LOG: how an event changes a row. They are the
// whole of "out-of-order and duplicate events converge" (docs/DATABASE.md):
// each group of columns is a register whose value is chosen by a total
// order on the events that carry it, never by arrival order, so applying
// any set of events in any order, each any number of times, ends in the
// same row.
//
//   - message group (SOURCE .. SEND_TIME, ACCEPT_TIME): from the Accept or
//     Final with the smallest (ACCEPT_TIME, SENDER, CARRIER);
//   - ack group (ACK_TIME, ACK_CODE, CARRIER_MSG_ID): from the Ack with the
//     smallest (ACK_TIME, CARRIER_MSG_ID, ACK_CODE);
//   - CARRIER, SENDER: the winning Ack's when it names them, else the
//     winning message event's;
//   - result group (RESULT_SRC, RESULT_CODE, CARRIER_CODE, REPORT_TIME):
//     from the result of highest rank (Report = Final > failed Ack >
//     timeout), then smallest (REPORT_TIME, RESULT_CODE, RESULT_SRC);
//   - STATUS: 4 once the result group is set, else 3.
//
// The store reads the rows of a batch, applies these rules in Go, and writes
// the rows back: one implementation of the rules for every database.

// resultRank orders result sources: a carrier's report or a final result
// beats a failed Ack, which beats the report timeout.
func resultRank(src byte) int {
	switch src {
	case ResultFromReport, ResultFromFinal:
		return 3
	case ResultFromAck:
		return 2
	case ResultFromTimeout:
		return 1
	}
	return 0
}

// less compares two keys field by field.
func less(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// normalize fills the times an event left empty and cuts the fields that
// come from outside (carriers) to their columns' widths: a value too long
// would fail the whole batch on PostgreSQL and Oracle, again on every
// retry, and stop dbx. now is the store's clock.
func normalize(ev *Event, now string) {
	clip(&ev.CarrierMsgID, 40)
	clip(&ev.CarrierCode, 10)
	clip(&ev.AckCode, 4)
	clip(&ev.ResultCode, 4)
	clip(&ev.Carrier, 4)
	clip(&ev.Sender, 10)
	clip(&ev.PortedCarrier, 4)
	clip(&ev.EventTime, 14)
	clip(&ev.AcceptTime, 14)
	if ev.EventTime == "" {
		ev.EventTime = now
	}
	if (ev.Kind == EventAccept || ev.Kind == EventFinal) && ev.AcceptTime == "" {
		ev.AcceptTime = ev.EventTime
	}
}

// apply folds one normalized event into r (r.GWID already set).
func apply(r *LogRow, ev *Event) {
	switch ev.Kind {
	case EventAccept:
		applyMessage(r, ev)
	case EventFinal:
		applyMessage(r, ev)
		applyResult(r, ResultFromFinal, ev.ResultCode, ev.CarrierCode, ev.EventTime)
	case EventAck:
		applyAck(r, ev)
		if ev.AckCode != "" && ev.AckCode != ResultDelivered {
			applyResult(r, ResultFromAck, ev.AckCode, "", ev.EventTime)
		}
	case EventReport:
		applyResult(r, ResultFromReport, ev.ResultCode, ev.CarrierCode, ev.EventTime)
	}
	r.Status = StatusRequested
	if r.ResultSrc != 0 {
		r.Status = StatusDone
	}
}

func applyMessage(r *LogRow, ev *Event) {
	if r.AcceptTime != "" && !less(
		[]string{ev.AcceptTime, ev.Sender, ev.Carrier},
		[]string{r.AcceptTime, r.Sender, r.Carrier}) {
		return
	}
	carrier, sender := r.Carrier, r.Sender
	ackNamed := r.AckTime != "" && carrier != ""
	gwid := r.GWID
	r.Message = ev.Message
	r.GWID = gwid
	if ackNamed {
		r.Carrier, r.Sender = carrier, sender
	}
}

func applyAck(r *LogRow, ev *Event) {
	if r.AckTime != "" && !less(
		[]string{ev.EventTime, ev.CarrierMsgID, ev.AckCode},
		[]string{r.AckTime, r.CarrierMsgID, r.AckCode}) {
		return
	}
	r.AckTime, r.AckCode, r.CarrierMsgID = ev.EventTime, ev.AckCode, ev.CarrierMsgID
	if ev.Carrier != "" {
		r.Carrier, r.Sender = ev.Carrier, ev.Sender
	}
}

func applyResult(r *LogRow, src byte, code, carrierCode, at string) {
	nr, or := resultRank(src), resultRank(r.ResultSrc)
	if nr < or {
		return
	}
	if nr == or && !less(
		[]string{at, code, string(src), carrierCode},
		[]string{r.ReportTime, r.ResultCode, string(r.ResultSrc), r.CarrierCode}) {
		return
	}
	r.ResultSrc, r.ResultCode, r.CarrierCode, r.ReportTime = src, code, carrierCode, at
}

// complete reports whether a row has both its message and its result: the
// state in which a listener message is owed a REPORT.
func complete(r *LogRow) bool { return r.AcceptTime != "" && r.ResultSrc != 0 }

// owesReport reports whether going from old to cur changes what the
// client of a listener message was (or should have been) told.
func owesReport(old, cur *LogRow) bool {
	if cur.Source != SourceListener || !complete(cur) {
		return false
	}
	return !complete(old) || old.ResultCode != cur.ResultCode || old.ResultSrc != cur.ResultSrc
}

// clip cuts *v to n bytes, at a UTF-8 boundary.
func clip(v *string, n int) {
	if len(*v) <= n {
		return
	}
	s := (*v)[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	*v = s
}
