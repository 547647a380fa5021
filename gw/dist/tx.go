package dist

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/layout"
	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue"
)

// Result codes dist sets (PROTOCOL.md).
const (
	codeMalformed telegram.Code = 9999 // a record in a lane that does not decode: the gateway's fault
	codeExpired   telegram.Code = 3005
)

// Fixed offsets of the message fields dist writes in place.
var (
	offCarrier  = msg.MessageLayout.MustFixed("CARRIER")
	offSender   = msg.MessageLayout.MustFixed("SENDER")
	offReroutes = msg.MessageLayout.MustFixed("REROUTES")
	offDupCheck = msg.MessageLayout.MustFixed("DUP_CHECKED")
)

// testHookBeforeCommit, when set by a test, runs between the puts on the
// sender queues and the commit of the source: the crash test widens that
// window so its kills land in it.
var testHookBeforeCommit func()

// item is one record of a transaction and what dist decided for it.
type item struct {
	rec     *queue.Record
	gwid    string
	final   telegram.Code // non-zero: a Final event, nothing sent
	drop    bool          // no readable GW_ID: logged and counted only
	sender  int           // index in router; -1 none
	skipPut bool          // already on a sender queue (journal)
	fmsg    *msg.Message  // for a Final of a record that does not decode
}

// txState is reused by every transaction so a steady load allocates
// little.
type txState struct {
	items  []item
	arena  []byte
	events [][]byte
	offs   []int
	groups []journalGroup
	byS    [][]int // item indexes per sender
	puts   [][]byte
}

// process runs one transaction over recs taken from src, in order: the
// checks, routing, the DBX events (Final, Accept), the journal, the puts on
// sender queues, and the commit of src. It stops before the first record
// no sender can take and returns how many records it finished and
// committed; the rest stay taken.
func (d *Dist) process(src queue.Queue, recs []queue.Record, reroute bool) (int, error) {
	d.refreshHealth() // records that arrive after an idle wait must not meet stale states
	now := d.now()
	clock := d.expiryClock(now)
	nowStr := clock.now
	tx := &d.tx
	tx.items = tx.items[:0]
	for i := range recs {
		it := d.classify(&recs[i], reroute, now, clock)
		if it.final == 0 && !it.drop && !it.skipPut && it.sender < 0 {
			break // the record waits, and the records behind it
		}
		tx.items = append(tx.items, it)
	}
	k := len(tx.items)
	if k == 0 {
		return 0, nil
	}
	if err := d.putEvents(tx, nowStr); err != nil {
		return 0, err
	}
	if err := d.putSenders(tx, nowStr, reroute); err != nil {
		return 0, err
	}
	if testHookBeforeCommit != nil {
		testHookBeforeCommit()
	}
	if err := src.Commit(recs[k-1].Pos); err != nil {
		return 0, fmt.Errorf("dist: commit %s: %w", src.Name(), err)
	}
	for i := range tx.items {
		if tx.items[i].skipPut {
			delete(d.recovered, tx.items[i].gwid)
		}
	}
	return k, nil
}

// classify checks one record and picks its sender.
func (d *Dist) classify(r *queue.Record, reroute bool, now time.Time, clock expiryClock) item {
	it := item{rec: r, sender: -1}
	m, err := msg.DecodeMessage(r.Data)
	if err != nil || m.GWID == "" {
		return d.malformed(r, err)
	}
	it.gwid = m.GWID
	if r.Redelivered {
		if s, ok := d.recovered[m.GWID]; ok {
			it.skipPut = true
			if j, ok := d.rt.index[s]; ok {
				it.sender = j
			}
			d.stats.recovered.Add(1)
			return it
		}
	}
	if m.Result != 0 {
		it.final = m.Result
		return it
	}
	if !reroute {
		switch {
		case !telegram.ValidDest(m.Dest):
			it.final = telegram.Code(1203)
			return it
		case !d.cfg.Callbacks.Allowed(m.ClientID, m.Callback):
			it.final = telegram.Code(1202)
			return it
		}
		if !m.DupChecked && d.opts.Dup != nil {
			dup, err := d.opts.Dup.CheckAndInsert(m.ClientID, m.MsgKey, now)
			switch {
			case err != nil:
				d.log.Warn("duplicate index: record sent unchecked", zap.String("gw_id", m.GWID), zap.Error(err))
			case dup && !r.Redelivered:
				// A redelivered record found its own key, recorded before
				// the crash that redelivered it: not a duplicate.
				it.final = telegram.Code(1201)
				return it
			default:
				// Checked, and its key is now in the index: if the record
				// waits for a sender (it stays taken, and comes here
				// again), it must not find its own key then.
				setAN(r.Data, offDupCheck, "Y")
			}
		}
	}
	if d.expired(&m, clock) {
		it.final = codeExpired
		return it
	}
	carrier := d.rt.carrier(m.Dest)
	_, st := d.rt.route(m.ClientID, string(m.JobClass), carrier, m.Dest)
	it.sender = st.pick(d.up)
	if it.sender >= 0 {
		setAN(r.Data, offCarrier, carrier)
		setAN(r.Data, offSender, d.rt.ids[it.sender])
		if reroute {
			setN2(r.Data, offReroutes, m.Reroutes+1)
		}
	}
	return it
}

// expired reports whether the record's validity has ended: EXPIRE_TIME,
// or ACCEPT_TIME plus timeouts.validity when EXPIRE_TIME is zeros.
func (d *Dist) expired(m *msg.Message, c expiryClock) bool {
	if m.ExpireTime != "" {
		return c.now >= m.ExpireTime
	}
	// No EXPIRE_TIME: ACCEPT_TIME + timeouts.validity, compared as
	// ACCEPT_TIME <= now - validity, the cutoff computed once per batch
	// rather than a time parsed and formatted per record (11% of dist's CPU).
	if c.acceptCutoff == "" || len(m.AcceptTime) != len(c.acceptCutoff) {
		return false
	}
	return m.AcceptTime <= c.acceptCutoff
}

// expiryClock is now, and now minus the validity time, in the 14-digit form
// of the records' times.
type expiryClock struct {
	now          string
	acceptCutoff string // "" when the validity time is off
}

func (d *Dist) expiryClock(now time.Time) expiryClock {
	c := expiryClock{now: msg.FormatTime(now)}
	if v := d.cfg.Timeouts.Validity.D(); v > 0 {
		c.acceptCutoff = msg.FormatTime(now.Add(-v))
	}
	return c
}

// malformed turns a record that does not decode into a Final 9999 when its
// GW_ID can be read, else into a log line and a counter.
func (d *Dist) malformed(r *queue.Record, err error) item {
	it := item{rec: r, sender: -1}
	b := r.Data
	if len(b) >= 22 {
		id := string(b[2:22])
		if isDigits(id) && id != "00000000000000000000" {
			it.gwid = id
			it.final = codeMalformed
			m := partialMessage(b, id)
			it.fmsg = &m
			d.log.Error("malformed record: ended with 9999", zap.String("gw_id", id), zap.Int("size", len(b)), zap.Error(err))
			return it
		}
	}
	it.drop = true
	d.stats.dropped.Add(1)
	d.log.Error("malformed record without a readable GW_ID: dropped", zap.Int("size", len(b)), zap.Uint64("pos", r.Pos), zap.Error(err))
	return it
}

// partialMessage keeps what can be read of a bad record's common part for
// the Final event, so operators find the client and key in T41_LOG.
func partialMessage(b []byte, id string) msg.Message {
	m := msg.Message{GWID: id, Result: codeMalformed}
	if len(b) >= msg.CommonLen {
		if err := msg.CommonLayout.Decode(b[:msg.CommonLen], &layout.Record{}); err == nil {
			s := string(b)
			m.Source = b[22]
			m.ClientID = trimAN(s[23:33])
			m.MsgKey = trimAN(s[33:53])
		}
	}
	return m
}

func trimAN(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == 0) {
		s = s[:len(s)-1]
	}
	return s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func setAN(b []byte, f layout.Fixed, v string) {
	n := copy(b[f.Off:f.Off+f.Len], v)
	for i := f.Off + n; i < f.Off+f.Len; i++ {
		b[i] = ' '
	}
}

func setN2(b []byte, f layout.Fixed, v int) {
	v = min(max(v, 0), 99)
	b[f.Off] = byte('0' + v/10)
	b[f.Off+1] = byte('0' + v%10)
}

// putEvents puts one DBX event per item: Final, or Accept carrying the
// record as it goes to its sender. It waits while DBX is full (DBX is
// the record of everything; nothing may go to a sender unrecorded).
func (d *Dist) putEvents(tx *txState, nowStr string) error {
	tx.arena = tx.arena[:0]
	tx.offs = tx.offs[:0]
	finals := 0
	for i := range tx.items {
		it := &tx.items[i]
		if it.drop {
			continue
		}
		tx.offs = append(tx.offs, len(tx.arena))
		e := msg.Event{GWID: it.gwid, EventTime: nowStr}
		switch {
		case it.final != 0:
			finals++
			e.Kind, e.ResultCode, e.HasMsg = msg.KindFinal, it.final, true
			if it.fmsg != nil {
				e.Msg = *it.fmsg
				tx.arena = e.Encode(tx.arena)
				continue
			}
			tx.arena = appendEventRaw(tx.arena, &e, it.rec.Data)
		default:
			e.Kind = msg.KindAccept
			if it.sender >= 0 {
				e.Sender = d.rt.ids[it.sender]
			}
			tx.arena = appendEventRaw(tx.arena, &e, it.rec.Data)
		}
	}
	tx.offs = append(tx.offs, len(tx.arena))
	tx.events = tx.events[:0]
	for i := 0; i+1 < len(tx.offs); i++ {
		tx.events = append(tx.events, tx.arena[tx.offs[i]:tx.offs[i+1]])
	}
	if err := d.putAll(d.dbx, tx.events); err != nil {
		return err
	}
	d.stats.finals.Add(uint64(finals))
	return nil
}

// appendEventRaw appends an event whose MSG block is the raw record rec
// (already a valid message record): the header says MSG_CNT 1.
func appendEventRaw(dst []byte, e *msg.Event, rec []byte) []byte {
	e.HasMsg = false
	dst = e.Encode(dst)
	dst[len(dst)-1] = '1'
	return append(dst, rec...)
}

// putAll puts every record on q, waiting while q is full, until Exit.
func (d *Dist) putAll(q queue.Queue, recs [][]byte) error {
	for len(recs) > 0 {
		n, err := q.PutBatch(recs, 200*time.Millisecond)
		recs = recs[n:]
		if err == nil || errors.Is(err, queue.ErrFull) {
			if len(recs) > 0 && d.stopping() {
				return errStopping
			}
			continue
		}
		return fmt.Errorf("dist: put %s: %w", q.Name(), err)
	}
	return nil
}

// putSenders writes the journal, then puts each sender's records in one
// PutBatch. A sender whose queue turns out full is down for retry_every;
// its unstored records are routed again, and wait (within this
// transaction) when no sender can take them.
func (d *Dist) putSenders(tx *txState, nowStr string, reroute bool) error {
	tx.groups = tx.groups[:0]
	// Records already on sender queues stay journaled until their lane
	// records are committed, whatever this transaction does.
	for id, s := range d.recovered {
		j := 0
		for j < len(tx.groups) && tx.groups[j].sender != s {
			j++
		}
		if j == len(tx.groups) {
			tx.groups = append(tx.groups, journalGroup{sender: s})
		}
		tx.groups[j].ids = append(tx.groups[j].ids, id)
	}
	if cap(tx.byS) < len(d.senders) {
		tx.byS = make([][]int, len(d.senders))
	}
	tx.byS = tx.byS[:len(d.senders)]
	for i := range tx.byS {
		tx.byS[i] = tx.byS[i][:0]
	}
	for i := range tx.items {
		it := &tx.items[i]
		if it.final == 0 && !it.drop && !it.skipPut {
			tx.byS[it.sender] = append(tx.byS[it.sender], i)
		}
	}
	for {
		left, err := d.putRound(tx)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if err := d.replace(tx, left, nowStr); err != nil {
			return err
		}
	}
}

// putRound journals and puts the records in tx.byS; it returns the items
// a full queue did not take.
func (d *Dist) putRound(tx *txState) ([]int, error) {
	base := len(tx.groups)
	for s, idx := range tx.byS {
		if len(idx) == 0 {
			continue
		}
		st := d.senders[s]
		stat, err := st.queue.Stat()
		if err != nil {
			return nil, fmt.Errorf("dist: stat %s: %w", st.qname, err)
		}
		g := journalGroup{queue: st.qname, sender: st.id, tail: stat.Tail}
		for _, i := range idx {
			g.ids = append(g.ids, tx.items[i].gwid)
		}
		tx.groups = append(tx.groups, g)
	}
	if err := d.jr.write(tx.groups); err != nil {
		return nil, err
	}
	var left []int
	gi := base
	for s, idx := range tx.byS {
		if len(idx) == 0 {
			continue
		}
		st := d.senders[s]
		tx.puts = tx.puts[:0]
		for _, i := range idx {
			tx.puts = append(tx.puts, tx.items[i].rec.Data)
		}
		n, err := st.queue.PutBatch(tx.puts, 0)
		tx.groups[gi].ids = tx.groups[gi].ids[:n] // a later group on this queue must not count as this one's
		gi++
		d.stats.sent.Add(uint64(n))
		if d.slot != nil {
			d.slot.AddOut(n)
		}
		if err != nil && !errors.Is(err, queue.ErrFull) {
			return nil, fmt.Errorf("dist: put %s: %w", st.qname, err)
		}
		if n < len(idx) {
			d.stats.full.Add(1)
			st.fullUntil = d.now().Add(d.retryEvery())
			d.up[s] = false
			d.log.Warn("sender queue full: sender down until retry", zap.String("queue", st.qname))
			left = append(left, idx[n:]...)
		}
		tx.byS[s] = tx.byS[s][:0]
	}
	return left, nil
}

// replace routes the items a full queue refused to other senders; when
// none is up it waits, retry_every at a time, until one is, the record's
// validity ends (a Final 3005 follows its Accept), or Exit.
func (d *Dist) replace(tx *txState, left []int, nowStr string) error {
	for _, i := range left {
		it := &tx.items[i]
		for {
			m, err := msg.DecodeMessage(it.rec.Data)
			if err != nil {
				return fmt.Errorf("dist: record %s no longer decodes: %w", it.gwid, err)
			}
			if d.expired(&m, d.expiryClock(d.now())) {
				e := msg.Event{Kind: msg.KindFinal, GWID: it.gwid, EventTime: nowStr, ResultCode: codeExpired}
				if err := d.putAll(d.dbx, [][]byte{appendEventRaw(nil, &e, it.rec.Data)}); err != nil {
					return err
				}
				d.stats.finals.Add(1)
				break
			}
			_, st := d.rt.route(m.ClientID, string(m.JobClass), m.Carrier, m.Dest)
			if s := st.pick(d.up); s >= 0 {
				setAN(it.rec.Data, offSender, d.rt.ids[s])
				it.sender = s
				tx.byS[s] = append(tx.byS[s], i)
				break
			}
			select {
			case <-d.stop:
				return errStopping
			case <-time.After(d.retryEvery()):
			}
			d.health = time.Time{}
			d.refreshHealth()
		}
	}
	return nil
}
