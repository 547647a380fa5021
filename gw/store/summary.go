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
