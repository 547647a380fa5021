package store

import (
	"fmt"
	"testing"
)

// permutations returns every ordering of evs (as index slices).
func permutations(n int) [][]int {
	var out [][]int
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k == n {
			out = append(out, append([]int(nil), p...))
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			gen(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	gen(0)
	return out
}

func testMessage(gwid string, src byte) Message {
	return Message{GWID: gwid, Source: src, ClientID: "BANK01", MsgKey: "K" + gwid[max(0, len(gwid)-19):], MsgSeq: 0,
		MsgType: "S", JobClass: "R", Callback: "0215881234", Dest: "01012345678", Text: "입금 10,000원",
		SendTime: "20261121100000", AcceptTime: "20261121100001", Carrier: "KT", Sender: "KT1"}
}

// lifecycle is one message's three events.
func lifecycle(gwid string, src byte) []Event {
	m := testMessage(gwid, src)
	ack := Event{Kind: EventAck, EventTime: "20261121100002", AckCode: "0000", CarrierMsgID: "C123"}
	ack.GWID, ack.Carrier, ack.Sender = gwid, "KT", "KT1"
	rep := Event{Kind: EventReport, EventTime: "20261121100009", ResultCode: "0000", CarrierCode: "06"}
	rep.GWID = gwid
	return []Event{{Kind: EventAccept, Message: m}, ack, rep}
}

// fold applies evs in order to an empty row.
func fold(gwid string, evs []Event, order []int) LogRow {
	r := LogRow{Message: Message{GWID: gwid}}
	for _, i := range order {
		ev := evs[i]
		normalize(&ev, "20990101000000")
		apply(&r, &ev)
	}
	return r
}

func TestMergeEveryOrderConverges(t *testing.T) {
	base := lifecycle("G1", SourceListener)
	// With duplicates: Accept, Ack, Report, Report again, Accept again.
	evs := append(append([]Event(nil), base...), base[2], base[0])
	perms := permutations(len(evs))
	want := fold("G1", evs, perms[0])
	if want.Status != StatusDone || want.ResultCode != "0000" || want.AckCode != "0000" || want.Text != base[0].Text {
		t.Fatalf("final row %+v", want)
	}
	for _, p := range perms {
		if got := fold("G1", evs, p); got != want {
			t.Fatalf("order %v: got %+v, want %+v", p, got, want)
		}
	}
}

func TestMergeResultRanks(t *testing.T) {
	m := testMessage("G2", SourceListener)
	failAck := Event{Kind: EventAck, EventTime: "20261121100002", AckCode: "3003"}
	failAck.GWID = "G2"
	rep := Event{Kind: EventReport, EventTime: "20261121100500", ResultCode: "3001"}
	rep.GWID = "G2"
	evs := []Event{{Kind: EventAccept, Message: m}, failAck, rep}
	for _, p := range permutations(3) {
		got := fold("G2", evs, p)
		if got.ResultCode != "3001" || got.ResultSrc != ResultFromReport || got.AckCode != "3003" || got.Status != StatusDone {
			t.Fatalf("order %v: %+v", p, got)
		}
	}
	// A failed Ack alone ends the message.
	got := fold("G2", evs, []int{0, 1})
	if got.Status != StatusDone || got.ResultCode != "3003" || got.ResultSrc != ResultFromAck {
		t.Fatalf("failed ack alone: %+v", got)
	}
	// The timeout loses to any carrier result.
	r := fold("G2", evs, []int{0})
	applyResult(&r, ResultFromTimeout, ResultReportTimeout, "", "20261124000000")
	if r.ResultCode != "3004" {
		t.Fatalf("timeout: %+v", r)
	}
	ev := rep
	apply(&r, &ev)
	if r.ResultCode != "3001" {
		t.Fatalf("report after timeout: %+v", r)
	}
}

func TestOwesReportOnce(t *testing.T) {
	evs := lifecycle("G3", SourceListener)
	for _, p := range permutations(3) {
		r := LogRow{Message: Message{GWID: "G3"}}
		owed := 0
		for _, i := range append(p, p...) { // every event twice
			prev := r
			ev := evs[i]
			normalize(&ev, "20990101000000")
			apply(&r, &ev)
			if owesReport(&prev, &r) {
				owed++
			}
		}
		if owed != 1 {
			t.Fatalf("order %v: %d REPORTs owed, want 1", p, owed)
		}
	}
	// Not for T41 or file messages.
	evs = lifecycle("G4", SourceT41)
	r := fold("G4", evs, []int{0, 1})
	prev := r
	apply(&r, &evs[2])
	if owesReport(&prev, &r) {
		t.Fatal("REPORT owed for a T41 message")
	}
}

// FuzzMergeConverges decodes random event sets from the fuzzer's bytes and
// checks that the forward and backward orders give the same row.
func FuzzMergeConverges(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{2, 2, 1, 9, 0, 0, 3, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64 {
			data = data[:64]
		}
		var evs []Event
		for i := 0; i+1 < len(data); i += 2 {
			k, v := data[i], data[i+1]
			ts := fmt.Sprintf("202611211000%02d", v%60)
			var ev Event
			ev.GWID = "F"
			switch k % 4 {
			case 0:
				ev.Kind, ev.Message = EventAccept, testMessage("F", SourceListener)
				ev.AcceptTime, ev.Sender = ts, fmt.Sprintf("S%d", v%3)
			case 1:
				ev.Kind, ev.EventTime, ev.AckCode, ev.CarrierMsgID = EventAck, ts, []string{"0000", "3003"}[v%2], fmt.Sprint(v%5)
				ev.Carrier, ev.Sender = "SKT", "SKT"
			case 2:
				ev.Kind, ev.EventTime, ev.ResultCode = EventReport, ts, fmt.Sprintf("%04d", v%4)
			case 3:
				ev.Kind, ev.Message, ev.EventTime, ev.ResultCode = EventFinal, testMessage("F", SourceListener), ts, "3005"
			}
			evs = append(evs, ev)
		}
		fwd := make([]int, len(evs))
		bwd := make([]int, len(evs))
		for i := range evs {
			fwd[i], bwd[i] = i, len(evs)-1-i
		}
		a, b := fold("F", evs, fwd), fold("F", evs, bwd)
		if a != b {
			t.Fatalf("orders disagree:\n%+v\n%+v", a, b)
		}
		twice := append(append([]int(nil), fwd...), bwd...)
		if c := fold("F", evs, twice); c != a {
			t.Fatalf("duplicates change the row:\n%+v\n%+v", a, c)
		}
	})
}
