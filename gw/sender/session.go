package sender

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
)

// rxItem is one PDU read from the link, or why the link ended.
type rxItem struct {
	p   carrier.PDU
	err error
}

// errDrainTimeout ends a stop whose submits were not all answered in time.
var errDrainTimeout = errors.New("stop: submits still unanswered after the drain timeout")

// session is the state of serve over one link.
type session struct {
	l          *link
	lastRx     time.Time
	linkSent   time.Time // a link check is unanswered since
	pauseUntil time.Time // throttled or retry: no submits before
	wbuf       []byte
	events     []msg.Event // to Put on DBX, in order
	doneAfter  []*entry    // done once events are stored
	reportResp []carrier.PDU
	dirty      bool // bytes in l.w
}

// serve runs one link until it fails or the sender stops (then after the
// drain).
func (s *Sender) serve(l *link) error {
	defer l.nc.Close()
	s.o.State.SetLink(true)
	rx := make(chan rxItem, 256)
	quit := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go s.readLoop(l, rx, quit, &rwg)
	defer rwg.Wait()
	defer close(quit)  // ends the read loop waiting to hand over a PDU
	defer l.nc.Close() // ends the read loop waiting to read (deferred calls run in reverse)

	ss := &session{l: l, lastRx: time.Now()}
	tick := time.NewTicker(min(s.o.LinkCheck/4, time.Second))
	defer tick.Stop()
	var wake *time.Timer // next TPS token or end of a pause
	defer func() {
		if wake != nil {
			wake.Stop()
		}
	}()
	var wakeC <-chan time.Time
	bk := newBucket(s.o.TPS, time.Now())
	var drain <-chan time.Time
	takenC := s.taken
	stopC := s.stop
	for {
		// Submit what the window, the TPS and any pause allow.
		now := time.Now()
		if drain == nil {
			var w time.Duration
			for len(s.tr.ready) > 0 && len(s.tr.inflight) < s.o.Window {
				if now.Before(ss.pauseUntil) {
					w = ss.pauseUntil.Sub(now)
					break
				}
				if !bk.take(now) {
					w = bk.wait(now)
					break
				}
				if err := s.submit(ss, s.tr.next()); err != nil {
					return err
				}
			}
			if w > 0 && wakeC == nil {
				wake = time.NewTimer(w)
				wakeC = wake.C
			}
		}
		if ss.dirty {
			_ = l.nc.SetWriteDeadline(now.Add(s.o.LinkCheck))
			if err := l.w.Flush(); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			ss.dirty = false
		}
		s.o.State.SetWindow(len(s.tr.inflight), s.o.Window)
		if drain != nil && len(s.tr.inflight) == 0 {
			return nil
		}
		select {
		case es := <-takenC:
			for _, e := range es {
				s.tr.add(e)
			}
			s.o.State.AddIn(len(es))
			if err := s.advance(); err != nil { // records that could not be decoded are done already
				return err
			}
		case it := <-rx:
			if it.err != nil {
				return it.err
			}
			if err := s.received(ss, it.p, rx); err != nil {
				return err
			}
		case <-wakeC:
			wakeC = nil
		case now := <-tick.C:
			s.o.State.Heartbeat()
			if err := s.linkCheck(ss, now); err != nil {
				return err
			}
		case <-stopC:
			// Stop intake; answers still come in until the window is empty.
			takenC, stopC = nil, nil
			t := time.NewTimer(s.o.DrainTimeout)
			defer t.Stop()
			drain = t.C
			s.log.Info("stopping: waiting for answers in flight", zap.Int("in_flight", len(s.tr.inflight)))
		case <-drain:
			return errDrainTimeout
		case err := <-s.fatal:
			return &fatalError{err}
		}
	}
}

func (s *Sender) readLoop(l *link, rx chan<- rxItem, quit <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	var buf []byte
	for {
		f, err := carrier.ReadFrame(l.r, s.o.Dialect, buf)
		var p carrier.PDU
		if err == nil {
			err = s.o.Dialect.Decode(f, &p)
			buf = f[:0]
		}
		it := rxItem{p: p}
		if err != nil {
			it = rxItem{err: fmt.Errorf("read: %w", err)}
		}
		select {
		case rx <- it:
		case <-quit:
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *Sender) write(ss *session, p *carrier.PDU) error {
	b, err := s.o.Dialect.Append(ss.wbuf[:0], p)
	if err != nil {
		return err
	}
	ss.wbuf = b
	if _, err := ss.l.w.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	ss.dirty = true
	return nil
}

func (s *Sender) submit(ss *session, e *entry) error {
	seq := s.nextSeq()
	m := &e.m
	if err := s.write(ss, &carrier.PDU{Type: carrier.Submit, Seq: seq, Ref: m.GWID, MsgType: m.MsgType,
		Callback: m.Callback, Dest: m.Dest, Subject: m.Subject, Text: m.Text}); err != nil {
		s.tr.retry(e)
		return err
	}
	s.tr.submitted(e, seq)
	return nil
}

func (s *Sender) linkCheck(ss *session, now time.Time) error {
	if !ss.linkSent.IsZero() && now.Sub(ss.linkSent) > s.o.LinkCheck {
		return fmt.Errorf("link check unanswered for %v", now.Sub(ss.linkSent).Round(time.Millisecond))
	}
	if ss.linkSent.IsZero() && now.Sub(ss.lastRx) >= s.o.LinkCheck {
		ss.linkSent = now
		return s.write(ss, &carrier.PDU{Type: carrier.Link, Seq: s.nextSeq()})
	}
	return nil
}

// received handles p and whatever else the read loop has ready, storing
// the events of them all on DBX with one PutBatch before it marks records
// done, commits, and answers reports.
func (s *Sender) received(ss *session, p carrier.PDU, rx <-chan rxItem) error {
	var linkErr error
	for n := 0; ; n++ {
		if err := s.handle(ss, &p); err != nil {
			return err
		}
		if n == 255 {
			break
		}
		select {
		case it := <-rx:
			if it.err != nil {
				linkErr = it.err
			} else {
				p = it.p
				continue
			}
		default:
		}
		break
	}
	if err := s.store(ss); err != nil {
		return err
	}
	return linkErr
}

func (s *Sender) handle(ss *session, p *carrier.PDU) error {
	now := time.Now()
	ss.lastRx, ss.linkSent = now, time.Time{}
	dl := s.o.Dialect
	switch p.Type {
	case carrier.SubmitResp:
		e := s.tr.answered(p.Seq)
		if e == nil {
			s.log.Warn("submit response for no submit in flight", zap.Uint32("seq", p.Seq), zap.String("ref", p.Ref))
			return nil
		}
		if p.Ref != "" && p.Ref != e.m.GWID {
			s.log.Warn("submit response echoes another reference", zap.String("ref", p.Ref), zap.String("gw_id", e.m.GWID))
		}
		o := dl.SubmitOutcome(p.Result)
		switch o.Class {
		case carrier.Throttled, carrier.Retry:
			s.tr.retry(e)
			ss.pauseUntil = now.Add(s.o.RetryDelay)
			s.log.Debug("submit to send again", zap.String("gw_id", e.m.GWID), zap.String("code", p.Result), zap.Stringer("class", o.Class))
			return nil
		}
		ack := msg.Event{Kind: msg.KindAck, GWID: e.m.GWID, EventTime: msg.FormatTime(now), Carrier: s.o.Carrier,
			Sender: s.o.ID, CarrierMsgID: p.MsgID, AckCode: o.Code, CarrierCode: o.CarrierCode}
		ss.events = append(ss.events, ack)
		if o.Class != carrier.Accepted {
			// A final refusal ends the message: the Ack says so, and a
			// Report carries the result with the carrier's own code.
			rep := ack
			rep.Kind, rep.AckCode, rep.ResultCode = msg.KindReport, 0, o.Code
			ss.events = append(ss.events, rep)
			s.o.State.AddErr(1)
			s.o.State.SetLastError(fmt.Sprintf("submit %s refused: %s %s", e.m.GWID, p.Result, o.Meaning))
		}
		ss.doneAfter = append(ss.doneAfter, e)
	case carrier.Report:
		o := dl.ReportOutcome(p)
		gwid := p.Ref
		if !validGWID(gwid) {
			// Not a reference of ours: answered (else it comes back for
			// ever) and logged for the operators.
			s.log.Error("report with a reference that is not a GW_ID; answered and dropped", zap.String("ref", p.Ref),
				zap.String("msg_id", p.MsgID), zap.String("code", o.CarrierCode))
			s.o.State.AddErr(1)
		} else {
			at := p.DoneTime
			if _, err := msg.ParseTime(at); err != nil || at == "" {
				at = msg.FormatTime(now)
			}
			code := o.Code
			if o.Class == carrier.Delivered {
				code = telegram.OK
			}
			ss.events = append(ss.events, msg.Event{Kind: msg.KindReport, GWID: gwid, EventTime: at, Carrier: s.o.Carrier,
				Sender: s.o.ID, CarrierMsgID: p.MsgID, ResultCode: code, CarrierCode: o.CarrierCode})
		}
		ss.reportResp = append(ss.reportResp, carrier.PDU{Type: carrier.ReportResp, Seq: p.Seq, MsgID: p.MsgID,
			Result: carrier.SubmitCode(dl, carrier.Accepted, 0)})
	case carrier.Link:
		return s.write(ss, &carrier.PDU{Type: carrier.LinkResp, Seq: p.Seq})
	case carrier.LinkResp, carrier.LoginResp:
	default:
		s.log.Warn("unexpected PDU from the carrier", zap.Stringer("type", p.Type))
	}
	return nil
}

func validGWID(s string) bool {
	if len(s) != 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
