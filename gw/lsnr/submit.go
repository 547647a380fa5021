package lsnr

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/store"
	"github.com/m1gw/m1/gw/telegram"
)

// gwidOff is the offset of GW_ID in a message record (after VERSION N2),
// part of gw/msg's format: the listener writes the id into the encoded
// record instead of making a string of it.
const gwidOff = 2

// job is one message on its way from a reader to a lane and back: its
// record, and the SUBMIT_RESP body (MSG_KEY AN 20, GW_ID N 20) its answer
// carries. Jobs are pooled: a SUBMIT costs no job allocation.
type job struct {
	c       *conn
	arrived time.Time // when the reader handed it on: the intake brake's bound
	seq     uint32
	code    telegram.Code
	msgKey  string
	resp    [40]byte
	rec     []byte
	multi   *multi
	idx     int
	row     store.T41Row // future RESERVE_TIME only
}

var jobPool = sync.Pool{New: func() any { return &job{rec: make([]byte, 0, 512)} }}

func getJob(c *conn, seq uint32, msgKey string) *job {
	j := jobPool.Get().(*job)
	j.c, j.seq, j.code, j.msgKey, j.multi, j.idx = c, seq, telegram.OK, msgKey, nil, 0
	n := copy(j.resp[:20], msgKey)
	for i := n; i < 40; i++ {
		j.resp[i] = ' '
	}
	for i := 20; i < 40; i++ {
		j.resp[i] = '0'
	}
	j.rec = j.rec[:0]
	return j
}

func putJob(j *job) {
	j.c, j.multi, j.msgKey, j.row = nil, nil, "", store.T41Row{}
	if cap(j.rec) > 4096 {
		j.rec = nil
	}
	jobPool.Put(j)
}

// gwid is the GW_ID part of the response body.
func (j *job) gwid() []byte { return j.resp[20:40] }

// finish answers the job's message with code (0000 only once it is stored).
// Called from a lane loop, or from the reader for a message refused before
// it reached one.
func (j *job) finish(code telegram.Code) {
	j.code = code
	c := j.c
	if code == telegram.OK {
		c.nAccepted.Add(1)
	} else {
		copy(j.resp[20:], "00000000000000000000")
	}
	if m := j.multi; m != nil {
		r := &m.resp.Results[j.idx]
		r.Result = code
		if code == telegram.OK {
			r.GWID = string(j.gwid())
		}
		putJob(j)
		m.done()
		return
	}
	c.out <- outMsg{job: j, release: true}
}

// multi is a MULTI_SUBMIT in progress: answered when its last destination
// is finished.
type multi struct {
	c    *conn
	seq  uint32
	resp telegram.MultiSubmitResp
	left atomic.Int32
}

func (m *multi) done() {
	if m.left.Add(-1) == 0 {
		f := m.resp.Append(nil, m.seq, telegram.OK)
		m.c.out <- outMsg{frame: f, release: true}
	}
}

// check runs the checks that need the listener (callback registry, TPS,
// reserve time) on one message of this connection's client. It returns
// the code and whether the message is for the future (T41).
func (c *conn) check(set *settings, now time.Time, callback, reserve string) (telegram.Code, bool) {
	if !set.cfg.Callbacks.Allowed(c.client, callback) {
		return telegram.ErrCallback, false
	}
	future := false
	if reserve != "" {
		t, err := msg.ParseTime(reserve)
		if err != nil {
			return telegram.ErrField, false
		}
		if t.After(now) {
			if c.l.future == nil {
				// No durable home for it (no store configured).
				return telegram.ErrField, false
			}
			future = true
		}
	}
	if !c.bucket.take(now, 1) {
		return telegram.ErrTPS, false
	}
	return telegram.OK, future
}

// submit handles one SUBMIT under an acquired slot.
func (c *conn) submit(h telegram.Header, body []byte) bool {
	s, err := telegram.DecodeSubmit(body)
	if err != nil {
		code := telegram.ResultOf(err)
		j := getJob(c, h.Seq, submitKey(body))
		if code == telegram.ErrFraming {
			c.log.Warn("refused: SUBMIT framing error; closing", zap.String("client", c.client), zap.Error(err))
			buf := telegram.AppendFrame(nil, telegram.TypeSubmitResp, h.Seq, code, j.resp[:])
			putJob(j)
			c.out <- outMsg{frame: buf, release: true, closeAfter: true, why: "framing error in SUBMIT"}
			return false
		}
		j.finish(code)
		return true
	}
	set := c.l.set.Load()
	j := getJob(c, h.Seq, s.MsgKey)
	code := s.Validate(set.lim)
	now := time.Now()
	future := false
	if code == telegram.OK {
		code, future = c.check(set, now, s.Callback, s.ReserveTime)
	}
	if code != telegram.OK {
		j.finish(code)
		return true
	}
	m := msg.FromSubmit(&s)
	c.enqueue(j, set, now, &m, future)
	return true
}

// enqueue hands the message to its lane, which checks the duplicate index
// (or checks the index and hands it to the future lane). The job is
// finished either way.
func (c *conn) enqueue(j *job, set *settings, now time.Time, m *msg.Message, future bool) {
	l := c.l
	if future {
		// The T41 row is checked against the index but not recorded:
		// sch queues it with DUP_CHECKED N and dist records the key when
		// it sends it (recorded now, dist would end it with 1201); T41's
		// unique (CLIENT_ID, MSG_KEY) refuses a second one meanwhile.
		dup, err := l.opts.Dup.Contains(c.client, m.MsgKey, now)
		if err != nil {
			c.log.Error("duplicate index", zap.String("client", c.client), zap.Error(err))
			j.finish(telegram.ErrBusy)
			return
		}
		if dup {
			j.finish(telegram.ErrDuplicate)
			return
		}
		// T41's text columns hold UTF-8, as business systems write them
		// and as sch reads them (it converts to EUC-KR); PostgreSQL
		// refuses EUC-KR bytes there, and SQLite would keep bytes sch
		// could take for UTF-8.
		subj, err := layout.ToUTF8([]byte(m.Subject))
		if err != nil {
			j.finish(telegram.ErrTooLong)
			return
		}
		text, err := layout.ToUTF8([]byte(m.Text))
		if err != nil {
			j.finish(telegram.ErrTooLong)
			return
		}
		j.row = store.T41Row{ClientID: c.client, MsgKey: m.MsgKey, SendTime: m.SendTime, MsgType: string(m.MsgType),
			JobClass: string(m.JobClass), Callback: m.Callback, Dest: m.Dest, Subject: subj, Text: text}
		l.future.in <- j
		return
	}
	// The key is checked and recorded by the lane, right before the store
	// (lane.record): after the intake brake's hold, so that a listener
	// killed while holding leaves no key recorded for a message it never
	// stored.
	j.arrived = now
	st := l.clk.at(now, set.validity)
	m.ClientID = c.client
	m.AcceptTime = st.accept
	m.ExpireTime = st.expire
	m.DupChecked = true
	m.SrcRef = c.addr
	j.rec = m.Encode(j.rec[:0])
	l.ids.AppendNext(j.resp[20:20:40])
	copy(j.rec[gwidOff:gwidOff+20], j.resp[20:40])
	l.lanes[m.JobClass].in <- j
}

// submitKey is the MSG_KEY of an undecodable SUBMIT body when it is there,
// for the response.
func submitKey(body []byte) string {
	if len(body) < 20 {
		return ""
	}
	k := body[:20]
	for len(k) > 0 && k[len(k)-1] == ' ' {
		k = k[:len(k)-1]
	}
	for _, b := range k {
		if b < ' ' || b > '~' {
			return ""
		}
	}
	return string(k)
}

// multiSubmit handles one MULTI_SUBMIT under an acquired slot: each
// destination is a message of its own, answered in one MULTI_SUBMIT_RESP
// once every destination is finished.
func (c *conn) multiSubmit(h telegram.Header, body []byte) bool {
	s, err := telegram.DecodeMultiSubmit(body)
	if err != nil {
		code := telegram.ResultOf(err)
		closeAfter := code == telegram.ErrFraming
		if closeAfter {
			c.log.Warn("refused: MULTI_SUBMIT framing error; closing", zap.String("client", c.client), zap.Error(err))
		}
		c.respond(telegram.TypeMultiSubmitResp, h.Seq, code, nil, closeAfter, "framing error in MULTI_SUBMIT")
		return !closeAfter
	}
	set := c.l.set.Load()
	m := &multi{c: c, seq: h.Seq}
	m.resp.Results = make([]telegram.MultiResult, len(s.Dests))
	for i := range s.Dests {
		m.resp.Results[i] = telegram.MultiResult{MsgKey: s.Dests[i].MsgKey, Result: telegram.OK}
	}
	shared := s.Validate(set.lim)
	if shared == telegram.OK && !set.cfg.Callbacks.Allowed(c.client, s.Callback) {
		shared = telegram.ErrCallback
	}
	if shared != telegram.OK {
		for i := range m.resp.Results {
			m.resp.Results[i].Result = shared
		}
		f := m.resp.Append(nil, h.Seq, shared)
		c.out <- outMsg{frame: f, release: true}
		return true
	}
	now := time.Now()
	m.left.Store(int32(len(s.Dests)) + 1) // +1: the reader's own, dropped below
	for i := range s.Dests {
		c.nSubmit++
		j := getJob(c, h.Seq, s.Dests[i].MsgKey)
		j.multi, j.idx = m, i
		code := s.ValidateDest(i)
		future := false
		if code == telegram.OK {
			code, future = c.check(set, now, s.Callback, s.ReserveTime)
		}
		if code != telegram.OK {
			j.finish(code)
			continue
		}
		mm := msg.FromMultiSubmit(&s, i)
		c.enqueue(j, set, now, &mm, future)
	}
	m.done()
	return true
}
