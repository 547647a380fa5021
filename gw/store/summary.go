package store

import (
	"context"
	"database/sql"
)

// SummaryRow counts T41_LOG rows of one kind: the operator's and the demo's
// view of what became of the messages.
type SummaryRow struct {
	Source     byte   // T, L or F
	Status     byte   // 3 requested, 4 result complete
	ResultCode string // "" while none
	Sender     string // "" when no sender took it
	Count      int64
}

// Summary groups T41_LOG by source, status, result code and sender.
func (s *Store) Summary(ctx context.Context) ([]SummaryRow, error) {
	rows, err := s.summary(ctx)
	return rows, s.wrap("summary of T41_LOG", err)
}

func (s *Store) summary(ctx context.Context) ([]SummaryRow, error) {
	r, err := s.b.query(ctx, "SELECT SOURCE, STATUS, RESULT_CODE, SENDER, COUNT(*) FROM T41_LOG GROUP BY SOURCE, STATUS, RESULT_CODE, SENDER")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []SummaryRow
	for r.Next() {
		var src, st, code, sender sql.NullString
		var n int64
		if err := r.Scan(&src, &st, &code, &sender, &n); err != nil {
			return nil, err
		}
		out = append(out, SummaryRow{Source: byteOf(src), Status: byteOf(st), ResultCode: code.String, Sender: sender.String, Count: n})
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return out, r.Close()
}

// KeyCounts is what the end-to-end checks compare with what was accepted:
// T41_LOG's rows, its distinct (CLIENT_ID, MSG_KEY) pairs, and those of the
// pairs whose every row is final.
type KeyCounts struct {
	Rows      int64
	Keys      int64
	FinalKeys int64
}

// CountKeys counts T41_LOG's rows and distinct client keys. More rows than
// keys means a message was recorded twice (a duplicate intake ended 1201).
func (s *Store) CountKeys(ctx context.Context) (KeyCounts, error) {
	k, err := s.countKeys(ctx)
	return k, s.wrap("count keys of T41_LOG", err)
}

func (s *Store) countKeys(ctx context.Context) (KeyCounts, error) {
	var k KeyCounts
	r, err := s.b.query(ctx, "SELECT COUNT(*), COUNT(DISTINCT CLIENT_ID || '/' || MSG_KEY), "+
		"COUNT(DISTINCT CASE WHEN STATUS = '4' THEN CLIENT_ID || '/' || MSG_KEY END) FROM T41_LOG")
	if err != nil {
		return k, err
	}
	defer r.Close()
	if r.Next() {
		if err := r.Scan(&k.Rows, &k.Keys, &k.FinalKeys); err != nil {
			return k, err
		}
	}
	if err := r.Err(); err != nil {
		return k, err
	}
	return k, r.Close()
}
