package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// t41InsertCols are the columns InsertT41 binds: all but MSG_SEQ, which the
// database assigns.
var t41InsertCols = t41Cols[1:]

// InsertT41 inserts rows into T41 in one transaction, in multi-row
// statements. A row with Status 0 is inserted waiting (STATUS 1); empty
// RegTime and SendTime are the store's clock. MSG_SEQ is assigned by the
// database and not returned. A CLIENT_ID and MSG_KEY already in T41 fails
// the whole call with ErrDuplicate.
func (s *Store) InsertT41(ctx context.Context, rows []T41Row) error {
	if len(rows) == 0 {
		return nil
	}
	now := s.nowString()
	width := len(t41InsertCols)
	per := s.d.chunk(width)
	return s.inTx(ctx, "insert T41", func(t tx) error {
		args := make([]any, 0, min(len(rows), per)*width)
		for off, k := 0, 0; off < len(rows); off += k {
			k = s.d.partLen(len(rows)-off, per)
			part := rows[off : off+k]
			args = args[:0]
			for i := range part {
				r := &part[i]
				st, reg, send := r.Status, r.RegTime, r.SendTime
				if st == 0 {
					st = StatusWaiting
				}
				if reg == "" {
					reg = now
				}
				if send == "" {
					send = now
				}
				args = append(args, ns(r.ClientID), ns(r.MsgKey), nb(st), send, ns(r.MsgType), ns(r.JobClass),
					ns(r.Callback), ns(r.Dest), ns(r.Subject), ns(r.Text), reg, ns(r.ClaimTime))
			}
			q := s.stmt(fmt.Sprintf("insT41/%d", len(part)), func() string {
				return s.d.insertRows("T41", t41InsertCols, len(part))
			})
			if _, err := t.exec(ctx, q, s.d.rowsArgs(t41InsertCols, len(part), args)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimDue claims up to limit T41 rows for sending and returns them, with
// STATUS 2 and CLAIM_TIME now. It takes first the rows a sch claimed
// before reclaimBefore that are still in T41 (that sch died before its
// rows were accepted; zero reclaimBefore: none), then the waiting rows
// whose SEND_TIME has come, oldest SEND_TIME first. Concurrent claimers in
// any number of processes never get the same row: PostgreSQL and Oracle
// skip rows another claimer holds (FOR UPDATE SKIP LOCKED); SQLite runs
// one writer at a time.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, reclaimBefore time.Time) ([]T41Row, error) {
	if limit <= 0 {
		return nil, nil
	}
	nowS := FormatTime(now)
	var out []T41Row
	err := s.inTx(ctx, "claim T41", func(t tx) error {
		out = out[:0]
		if s.d.claimSetup != "" {
			if _, err := t.exec(ctx, s.d.claimSetup); err != nil {
				return err
			}
		}
		if !reclaimBefore.IsZero() {
			q := s.reclaimSQL(limit)
			var err error
			if out, err = scanT41(ctx, t, q, limit, out, FormatTime(reclaimBefore)); err != nil {
				return err
			}
		}
		if n := limit - len(out); n > 0 {
			q := s.stmt(fmt.Sprintf("claim/%d", n), func() string {
				return "SELECT " + strings.Join(t41Cols, ", ") + " FROM T41 WHERE STATUS = '1' AND SEND_TIME <= ?" +
					" ORDER BY SEND_TIME, MSG_SEQ" + s.d.claimTail(n)
			})
			var err error
			if out, err = scanT41(ctx, t, q, limit, out, nowS); err != nil {
				return err
			}
		}
		per := s.d.inChunk()
		args := make([]any, 0, min(len(out), per)+1)
		for off, k := 0, 0; off < len(out); off += k {
			k = s.d.partLen(len(out)-off, per)
			part := out[off : off+k]
			keys := make([]any, len(part))
			for i := range part {
				keys[i] = part[i].MsgSeq
			}
			args = append(append(args[:0], nowS), s.d.inArgs(keys)...)
			q := s.stmt(fmt.Sprintf("claimUpd/%d", len(part)), func() string {
				return "UPDATE T41 SET STATUS = '2', CLAIM_TIME = ? WHERE " + s.d.in("MSG_SEQ", len(part))
			})
			if _, err := t.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Status, out[i].ClaimTime = StatusRequesting, nowS
	}
	return out, nil
}

// reclaimSQL is the reclaim half of ClaimDue: up to limit STATUS 2 rows
// claimed before its one bind, oldest claim first. It reads T41_IX_RECLAIM
// (STATUS, CLAIM_TIME, MSG_SEQ) in order (migration 2).
func (s *Store) reclaimSQL(limit int) string {
	return s.stmt(fmt.Sprintf("reclaim/%d", limit), func() string {
		return "SELECT " + strings.Join(t41Cols, ", ") + " FROM T41 WHERE STATUS = '2' AND CLAIM_TIME < ?" +
			" ORDER BY CLAIM_TIME, MSG_SEQ" + s.d.claimTail(limit)
	})
}

// scanT41 appends the rows of q to out until out holds max rows. Reading
// no further matters on Oracle, whose claim cursor has no row limit and
// locks rows as they are fetched.
func scanT41(ctx context.Context, q querier, sqlText string, max int, out []T41Row, args ...any) ([]T41Row, error) {
	r, err := q.query(ctx, sqlText, args...)
	if err != nil {
		return out, err
	}
	defer r.Close()
	var (
		clientID, msgKey, status, send, typ, class, cb, dest, subj, text, reg, claim sql.NullString
	)
	for len(out) < max && r.Next() {
		var row T41Row
		if err := r.Scan(&row.MsgSeq, &clientID, &msgKey, &status, &send, &typ, &class, &cb, &dest, &subj, &text, &reg, &claim); err != nil {
			return out, err
		}
		row.ClientID, row.MsgKey, row.Status, row.SendTime = clientID.String, msgKey.String, byteOf(status), send.String
		row.MsgType, row.JobClass, row.Callback, row.Dest = typ.String, class.String, cb.String, dest.String
		row.Subject, row.Text, row.RegTime, row.ClaimTime = subj.String, text.String, reg.String, claim.String
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		return out, err
	}
	return out, r.Close()
}

// T41ByKey returns the T41 row of a client's MSG_KEY; ok false when none.
func (s *Store) T41ByKey(ctx context.Context, clientID, msgKey string) (row T41Row, ok bool, err error) {
	q := s.stmt("t41ByKey", func() string {
		return "SELECT " + strings.Join(t41Cols, ", ") + " FROM T41 WHERE CLIENT_ID = ? AND MSG_KEY = ?"
	})
	out, err := scanT41(ctx, s.b, q, 1, nil, clientID, msgKey)
	if err != nil || len(out) == 0 {
		return T41Row{}, false, s.wrap("read T41", err)
	}
	return out[0], true, nil
}

// DueCount counts the waiting T41 rows whose SEND_TIME has come by now.
func (s *Store) DueCount(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := queryInt(ctx, s.b, s.d.render("SELECT COUNT(*) FROM T41 WHERE STATUS = '1' AND SEND_TIME <= ?"), &n, FormatTime(now))
	return n, s.wrap("count due", err)
}

// CountT41 counts T41 rows by STATUS.
func (s *Store) CountT41(ctx context.Context) (map[byte]int64, error) {
	m, err := s.countBy(ctx, "T41")
	return m, s.wrap("count T41", err)
}

// CountLog counts T41_LOG rows by STATUS.
func (s *Store) CountLog(ctx context.Context) (map[byte]int64, error) {
	m, err := s.countBy(ctx, "T41_LOG")
	return m, s.wrap("count T41_LOG", err)
}

func (s *Store) countBy(ctx context.Context, table string) (map[byte]int64, error) {
	r, err := s.b.query(ctx, "SELECT STATUS, COUNT(*) FROM "+table+" GROUP BY STATUS")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := make(map[byte]int64)
	for r.Next() {
		var st sql.NullString
		var n int64
		if err := r.Scan(&st, &n); err != nil {
			return nil, err
		}
		m[byteOf(st)] = n
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return m, r.Close()
}
