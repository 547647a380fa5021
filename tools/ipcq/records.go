package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// peek prints the oldest n records of the ring without taking them;
// full adds a hex dump of each.
func (c *cli) peek(name string, n int, full bool) error {
	o, err := queues.Options(c.cfg, name, false, nil)
	if err != nil {
		return err
	}
	q, err := shmq.Open(o.Shm)
	if err != nil {
		return fmt.Errorf("queue %s: %w", name, err)
	}
	defer q.Close()
	recs := q.Peek(min(n, q.Capacity()))
	for _, r := range recs {
		fmt.Fprintln(c.out, describe(name, r))
		if full {
			fmt.Fprint(c.out, hex.Dump(r.Data))
		}
	}
	st, _ := q.Stat()
	fmt.Fprintf(c.out, "-- %d of %d records in the ring shown", len(recs), st.Len())
	if depth, err := fileDepth(o.Dir, o.File); err == nil && depth > 0 {
		fmt.Fprintf(c.out, "; %d more in the file part (%s)", depth, o.Dir)
	}
	fmt.Fprintln(c.out)
	return nil
}

// describe decodes a record by what its queue carries: messages on the
// lanes and sender queues, events on DBX, reports on RPT; hex otherwise.
func describe(queueName string, r queue.Record) string {
	head := fmt.Sprintf("#%d len=%d", r.Pos, len(r.Data))
	if r.Redelivered {
		head += " redelivered"
	}
	switch {
	case strings.HasPrefix(queueName, "DIST.") || strings.HasPrefix(queueName, "SND."):
		m, err := msg.DecodeMessage(r.Data)
		if err != nil {
			return head + " undecodable message: " + err.Error()
		}
		return head + " " + describeMessage(&m)
	case queueName == "DBX":
		e, err := msg.DecodeEvent(r.Data)
		if err != nil {
			return head + " undecodable event: " + err.Error()
		}
		s := fmt.Sprintf("%s event=%c gw_id=%s time=%s carrier=%s sender=%s carrier_msg_id=%s ack=%s result=%s carrier_code=%s",
			head, e.Kind, e.GWID, e.EventTime, e.Carrier, e.Sender, e.CarrierMsgID, e.AckCode, e.ResultCode, e.CarrierCode)
		if e.HasMsg {
			s += " | " + describeMessage(&e.Msg)
		}
		return s
	case queueName == "RPT":
		p, err := msg.DecodeRPT(r.Data)
		if err != nil {
			return head + " undecodable report: " + err.Error()
		}
		return fmt.Sprintf("%s client=%s msg_key=%s gw_id=%s carrier=%s done=%s code=%s", head, p.ClientID, p.MsgKey, p.GWID, p.Carrier, p.DoneTime, p.ReportCode)
	}
	return head + " " + hex.EncodeToString(r.Data[:min(len(r.Data), 32)])
}

func describeMessage(m *msg.Message) string {
	text, err := layout.ToUTF8([]byte(m.Text))
	if err != nil {
		text = "<not EUC-KR>"
	}
	if r := []rune(text); len(r) > 30 {
		text = string(r[:30]) + "…"
	}
	return fmt.Sprintf("gw_id=%s src=%c client=%s msg_key=%s type=%c class=%c dest=%s callback=%s carrier=%s sender=%s result=%s text=%q",
		m.GWID, m.Source, m.ClientID, m.MsgKey, m.MsgType, m.JobClass, m.Dest, m.Callback, m.Carrier, m.Sender, m.Result, text)
}
