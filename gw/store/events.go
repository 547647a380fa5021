package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
)

// ApplyEvents applies a batch of events in one transaction: the T41_LOG
// rows they touch are read (and locked), the events folded into them by the
// merge rules (merge.go), and the changed rows written back in multi-row
// upserts; the T41 rows of accepted or finished SourceT41 messages are
// deleted; PNX learns ported numbers from Reports.
//
// Events may come in any order and any number of times; each changes the
// row at most once and the final row does not depend on the order.
//
// It returns the REPORTs now owed to listener clients: messages of
// SourceListener whose result became known, or changed, in this
// transaction. A duplicate event changes nothing and returns nothing. The
// same REPORTs are recorded in RPT_PENDING in the same transaction and
// stay there until MarkReported, so a dbx that dies between this commit
// and queuing them finds them again with PendingReports.
func (s *Store) ApplyEvents(ctx context.Context, events []Event) ([]PendingReport, error) {
	if len(events) == 0 {
		return nil, nil
	}
	now := s.nowString()
	byID := make(map[string][]int, len(events))
	ids := make([]string, 0, len(events))
	evs := make([]Event, len(events))
	copy(evs, events)
	skipped := 0
	for i := range evs {
		switch evs[i].Kind {
		case EventAccept, EventAck, EventReport, EventFinal:
		default:
			// Not ours to judge, and refusing the batch would stop dbx
			// for good on one bad record: it is left out, and said so.
			skipped++
			continue
		}
		if evs[i].GWID == "" {
			skipped++
			continue
		}
		normalize(&evs[i], now)
		id := evs[i].GWID
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], i)
	}
	if skipped > 0 {
		s.log.Warn("events without a GW_ID or of an unknown kind left out", zap.Int("count", skipped))
	}
	var reports []PendingReport
	err := s.inTx(ctx, "apply events", func(t tx) error {
		if err := s.lockHistory(ctx, t); err != nil {
			return err
		}
		old, err := s.readLog(ctx, t, ids, false)
		if err != nil {
			return err
		}
		var (
			changed []*LogRow
			pnx     []PNXEntry
			deletes []int64
		)
		reports = reports[:0]
		for _, id := range ids {
			prev, ok := old[id]
			if !ok {
				prev = &LogRow{Message: Message{GWID: id}}
			}
			cur := *prev
			for _, i := range byID[id] {
				ev := &evs[i]
				apply(&cur, ev)
				if (ev.Kind == EventAccept || ev.Kind == EventFinal) && ev.Source == SourceT41 && ev.MsgSeq != 0 {
					deletes = append(deletes, ev.MsgSeq)
				}
				if ev.Kind == EventReport && ev.PortedCarrier != "" {
					dest := ev.Dest
					if dest == "" {
						dest = cur.Dest
					}
					if dest != "" {
						pnx = append(pnx, PNXEntry{Number: dest, Carrier: ev.PortedCarrier, UpdTime: ev.EventTime, Source: PNXFromReport})
					}
				}
			}
			if ok && cur == *prev {
				continue // nothing new: a duplicate
			}
			changed = append(changed, &cur)
			if owesReport(prev, &cur) {
				reports = append(reports, pendingOf(&cur))
			}
		}
		if err := s.writeLog(ctx, t, changed); err != nil {
			return err
		}
		if err := s.deleteT41(ctx, t, deletes); err != nil {
			return err
		}
		if err := s.addPending(ctx, t, reports, now); err != nil {
			return err
		}
		return s.upsertPNX(ctx, t, pnx)
	})
	if err != nil {
		return nil, err
	}
	return reports, nil
}

// lockHistory makes writers of T41_LOG take turns (dialect.historyLock).
func (s *Store) lockHistory(ctx context.Context, t tx) error {
	if s.d.historyLock == "" {
		return nil
	}
	_, err := t.exec(ctx, s.d.historyLock)
	return err
}

func pendingOf(r *LogRow) PendingReport {
	return PendingReport{GWID: r.GWID, ClientID: r.ClientID, MsgKey: r.MsgKey, Carrier: r.Carrier,
		DoneTime: r.ReportTime, ResultCode: r.ResultCode}
}

// ExpireReports ends, with RESULT_CODE 3004, up to limit messages still
// waiting for their result (STATUS 3) that were accepted before olderThan
// (or, when their Accept never came, acked before it). It returns how many
// it ended and the REPORTs owed for the listener ones (also recorded in
// RPT_PENDING, as ApplyEvents does). A Report that arrives later still
// replaces the 3004 (a carrier's result outranks the timeout), and is
// owed to the client as a new REPORT.
func (s *Store) ExpireReports(ctx context.Context, olderThan time.Time, limit int) (int, []PendingReport, error) {
	return s.ExpireReportsOf(ctx, olderThan, limit, SenderFilter{})
}

// SenderFilter narrows ExpireReportsOf to the messages of some senders: a
// sender may have a report timeout of its own ([[sender]] report_timeout).
// The zero value takes every message.
type SenderFilter struct {
	Senders []string // the senders named (T41_LOG.SENDER)
	Except  bool     // every message but those of Senders, with those that have no sender
}

// where returns the condition the filter adds and its binds.
func (f SenderFilter) where(d *dialect) (string, []any) {
	if len(f.Senders) == 0 {
		return "", nil
	}
	keys := make([]any, len(f.Senders))
	for i, s := range f.Senders {
		keys[i] = s
	}
	if f.Except {
		return " AND (SENDER IS NULL OR NOT " + d.in("SENDER", len(keys)) + ")", d.inArgs(keys)
	}
	return " AND " + d.in("SENDER", len(keys)), d.inArgs(keys)
}

// key names the filter's shape in statement keys.
func (f SenderFilter) key() string {
	if f.Except {
		return fmt.Sprintf("x%d", len(f.Senders))
	}
	return fmt.Sprintf("s%d", len(f.Senders))
}

// ExpireReportsOf is ExpireReports for the messages f selects.
func (s *Store) ExpireReportsOf(ctx context.Context, olderThan time.Time, limit int, f SenderFilter) (int, []PendingReport, error) {
	if limit <= 0 {
		return 0, nil, nil
	}
	cond, condArgs := f.where(s.d)
	now := s.nowString()
	cut := FormatTime(olderThan)
	var (
		n       int
		reports []PendingReport
	)
	err := s.inTx(ctx, "expire reports", func(t tx) error {
		n, reports = 0, reports[:0]
		if err := s.lockHistory(ctx, t); err != nil {
			return err
		}
		if s.d.claimSetup != "" {
			if _, err := t.exec(ctx, s.d.claimSetup); err != nil {
				return err
			}
		}
		cols := strings.Join(logCols, ", ")
		q1 := s.stmt(fmt.Sprintf("expire1/%d/%s", limit, f.key()), func() string {
			return "SELECT " + cols + " FROM T41_LOG WHERE STATUS = '3' AND ACCEPT_TIME < ?" + cond + " ORDER BY ACCEPT_TIME" + s.d.claimTail(limit)
		})
		rows, err := scanLog(ctx, t, q1, limit, nil, append([]any{cut}, condArgs...)...)
		if err != nil {
			return err
		}
		if k := limit - len(rows); k > 0 {
			q2 := s.stmt(fmt.Sprintf("expire2/%d/%s", k, f.key()), func() string {
				return "SELECT " + cols + " FROM T41_LOG WHERE STATUS = '3' AND ACCEPT_TIME IS NULL AND ACK_TIME < ?" + cond + " ORDER BY ACK_TIME" + s.d.claimTail(k)
			})
			if rows, err = scanLog(ctx, t, q2, limit, rows, append([]any{cut}, condArgs...)...); err != nil {
				return err
			}
		}
		changed := make([]*LogRow, 0, len(rows))
		for _, prev := range rows {
			cur := *prev
			applyResult(&cur, ResultFromTimeout, ResultReportTimeout, "", now)
			cur.Status = StatusDone
			changed = append(changed, &cur)
			if owesReport(prev, &cur) {
				reports = append(reports, pendingOf(&cur))
			}
		}
		n = len(changed)
		if err := s.writeLog(ctx, t, changed); err != nil {
			return err
		}
		return s.addPending(ctx, t, reports, now)
	})
	if err != nil {
		return 0, nil, err
	}
	return n, reports, nil
}

// PendingReports returns up to limit REPORTs recorded and not yet marked
// reported, oldest first: what a starting dbx queues again.
func (s *Store) PendingReports(ctx context.Context, limit int) ([]PendingReport, error) {
	q := s.stmt(fmt.Sprintf("pending/%d", limit), func() string {
		cols := make([]string, len(logCols))
		for i, c := range logCols {
			cols[i] = "l." + c
		}
		return "SELECT " + strings.Join(cols, ", ") + " FROM RPT_PENDING p JOIN T41_LOG l ON l.GW_ID = p.GW_ID" +
			" ORDER BY p.REG_TIME, p.GW_ID" + s.d.limit(limit)
	})
	rows, err := scanLog(ctx, s.b, q, limit, nil)
	if err != nil {
		return nil, s.wrap("pending reports", err)
	}
	out := make([]PendingReport, len(rows))
	for i, r := range rows {
		out[i] = pendingOf(r)
	}
	return out, nil
}

// MarkReported removes REPORTs from RPT_PENDING once dbx has queued them.
// Unknown GW_IDs are ignored.
func (s *Store) MarkReported(ctx context.Context, gwids []string) error {
	if len(gwids) == 0 {
		return nil
	}
	return s.inTx(ctx, "mark reported", func(t tx) error {
		return s.deleteIn(ctx, t, "RPT_PENDING", "GW_ID", strs(gwids))
	})
}

// Log returns the T41_LOG rows of gwids that exist, in no set order.
func (s *Store) Log(ctx context.Context, gwids []string) ([]LogRow, error) {
	m, err := s.readLog(ctx, s.b, gwids, false)
	if err != nil {
		return nil, s.wrap("read T41_LOG", err)
	}
	out := make([]LogRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GWID < out[j].GWID })
	return out, nil
}

// readLog reads the T41_LOG rows of ids, locking them when lock is set.
func (s *Store) readLog(ctx context.Context, q querier, ids []string, lock bool) (map[string]*LogRow, error) {
	out := make(map[string]*LogRow, len(ids))
	per := s.d.inChunk()
	args := make([]any, 0, min(per, len(ids)))
	for off, k := 0, 0; off < len(ids); off += k {
		k = s.d.partLen(len(ids)-off, per)
		part := ids[off : off+k]
		args = args[:0]
		for _, id := range part {
			args = append(args, id)
		}
		sqlText := s.stmt(fmt.Sprintf("readLog/%d/%t", len(part), lock), func() string {
			q := "SELECT " + strings.Join(logCols, ", ") + " FROM T41_LOG WHERE " + s.d.in("GW_ID", len(part))
			if lock {
				q += s.d.lock
			}
			return q
		})
		rows, err := scanLog(ctx, q, sqlText, len(part), nil, s.d.inArgs(args)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.GWID] = r
		}
	}
	return out, nil
}

// scanLog appends the T41_LOG rows of q to out until out holds max rows.
func scanLog(ctx context.Context, q querier, sqlText string, max int, out []*LogRow, args ...any) ([]*LogRow, error) {
	r, err := q.query(ctx, sqlText, args...)
	if err != nil {
		return out, err
	}
	defer r.Close()
	var v [23]sql.NullString
	var seq sql.NullInt64
	dst := make([]any, len(v))
	for i := range v {
		dst[i] = &v[i]
	}
	dst[4] = &seq
	for len(out) < max && r.Next() {
		if err := r.Scan(dst...); err != nil {
			return out, err
		}
		row := &LogRow{}
		row.GWID, row.Source, row.ClientID, row.MsgKey, row.MsgSeq = v[0].String, byteOf(v[1]), v[2].String, v[3].String, seq.Int64
		row.MsgType, row.JobClass, row.Callback, row.Dest = v[5].String, v[6].String, v[7].String, v[8].String
		row.Subject, row.Text, row.SendTime, row.Carrier, row.Sender = v[9].String, v[10].String, v[11].String, v[12].String, v[13].String
		row.Status, row.AcceptTime, row.AckTime, row.AckCode = byteOf(v[14]), v[15].String, v[16].String, v[17].String
		row.CarrierMsgID, row.ReportTime, row.ResultCode, row.CarrierCode = v[18].String, v[19].String, v[20].String, v[21].String
		row.ResultSrc = byteOf(v[22])
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		return out, err
	}
	return out, r.Close()
}

// writeLog upserts whole rows (distinct GW_IDs) into T41_LOG.
func (s *Store) writeLog(ctx context.Context, t tx, rows []*LogRow) error {
	width := len(logCols)
	per := s.d.chunk(width)
	args := make([]any, 0, min(per, len(rows))*width)
	for off, k := 0, 0; off < len(rows); off += k {
		k = s.d.partLen(len(rows)-off, per)
		part := rows[off : off+k]
		args = args[:0]
		for _, r := range part {
			args = append(args, r.GWID, nb(r.Source), ns(r.ClientID), ns(r.MsgKey), ni(r.MsgSeq), ns(r.MsgType),
				ns(r.JobClass), ns(r.Callback), ns(r.Dest), ns(r.Subject), ns(r.Text), ns(r.SendTime),
				ns(r.Carrier), ns(r.Sender), nb(r.Status), ns(r.AcceptTime), ns(r.AckTime), ns(r.AckCode),
				ns(r.CarrierMsgID), ns(r.ReportTime), ns(r.ResultCode), ns(r.CarrierCode), nb(r.ResultSrc))
		}
		q := s.stmt(fmt.Sprintf("upLog/%d", len(part)), func() string {
			return s.d.upsert("T41_LOG", logCols, "GW_ID", len(part), true)
		})
		if _, err := t.exec(ctx, q, s.d.rowsArgs(logCols, len(part), args)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) deleteT41(ctx context.Context, t tx, seqs []int64) error {
	keys := make([]any, len(seqs))
	for i, v := range seqs {
		keys[i] = v
	}
	return s.deleteIn(ctx, t, "T41", "MSG_SEQ", keys)
}

// deleteIn deletes the rows of table whose col is one of keys.
func (s *Store) deleteIn(ctx context.Context, t tx, table, col string, keys []any) error {
	per := s.d.inChunk()
	for off, k := 0, 0; off < len(keys); off += k {
		k = s.d.partLen(len(keys)-off, per)
		part := keys[off : off+k]
		q := s.stmt(fmt.Sprintf("del/%s/%d", table, len(part)), func() string {
			return "DELETE FROM " + table + " WHERE " + s.d.in(col, len(part))
		})
		if _, err := t.exec(ctx, q, s.d.inArgs(part)...); err != nil {
			return err
		}
	}
	return nil
}

// addPending records REPORTs owed, keeping an older record of the same
// GW_ID (its REPORT is not sent yet; the client gets the newest result
// when it is, since PendingReports reads T41_LOG).
func (s *Store) addPending(ctx context.Context, t tx, reps []PendingReport, now string) error {
	cols := []string{"GW_ID", "REG_TIME"}
	per := s.d.chunk(len(cols))
	args := make([]any, 0, 2*min(per, len(reps)))
	for off, k := 0, 0; off < len(reps); off += k {
		k = s.d.partLen(len(reps)-off, per)
		part := reps[off : off+k]
		args = args[:0]
		for _, r := range part {
			args = append(args, r.GWID, now)
		}
		q := s.stmt(fmt.Sprintf("pend/%d", len(part)), func() string {
			return s.d.upsert("RPT_PENDING", cols, "GW_ID", len(part), false)
		})
		if _, err := t.exec(ctx, q, s.d.rowsArgs(cols, len(part), args)...); err != nil {
			return err
		}
	}
	return nil
}

func strs(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}
