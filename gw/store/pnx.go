package store

import (
	"context"
	"database/sql"
	"fmt"
)

// LookupPNX returns the carrier PNX holds for number; ok false when none.
func (s *Store) LookupPNX(ctx context.Context, number string) (carrier string, ok bool, err error) {
	r, err := s.b.query(ctx, s.d.render("SELECT CARRIER FROM PNX WHERE PHONE_NO = ?"), number)
	if err != nil {
		return "", false, s.wrap("lookup PNX", err)
	}
	defer r.Close()
	if r.Next() {
		var c sql.NullString
		if err := r.Scan(&c); err != nil {
			return "", false, s.wrap("lookup PNX", err)
		}
		return c.String, true, nil
	}
	return "", false, s.wrap("lookup PNX", r.Err())
}

// LoadPNX returns the whole PNX table, number → carrier.
func (s *Store) LoadPNX(ctx context.Context) (map[string]string, error) {
	r, err := s.b.query(ctx, "SELECT PHONE_NO, CARRIER FROM PNX")
	if err != nil {
		return nil, s.wrap("load PNX", err)
	}
	defer r.Close()
	m := make(map[string]string)
	for r.Next() {
		var n, c sql.NullString
		if err := r.Scan(&n, &c); err != nil {
			return nil, s.wrap("load PNX", err)
		}
		m[n.String] = c.String
	}
	return m, s.wrap("load PNX", r.Err())
}

// pnxEpoch is the UPD_TIME before any: the first LoadPNXSince reads every
// row. Not "": Oracle takes ” for NULL, and nothing compares >= NULL.
const pnxEpoch = "00000000000000"

// LoadPNXSince returns the PNX rows updated at or after since (UPD_TIME;
// "" for all), number → carrier, and the latest UPD_TIME among them (since
// when none), for the next call. At or after: rows written in the second
// of the last call's latest are read again rather than missed. It reads
// the index PNX_IX_UPD (migration 3), so dist's refresh costs what
// changed, not the table.
func (s *Store) LoadPNXSince(ctx context.Context, since string) (map[string]string, string, error) {
	if since == "" {
		since = pnxEpoch
	}
	q := s.stmt("pnxSince", func() string { return "SELECT PHONE_NO, CARRIER, UPD_TIME FROM PNX WHERE UPD_TIME >= ?" })
	r, err := s.b.query(ctx, q, since)
	if err != nil {
		return nil, since, s.wrap("load PNX", err)
	}
	defer r.Close()
	m := make(map[string]string)
	latest := since
	for r.Next() {
		var n, c, u sql.NullString
		if err := r.Scan(&n, &c, &u); err != nil {
			return nil, since, s.wrap("load PNX", err)
		}
		m[n.String] = c.String
		latest = max(latest, u.String)
	}
	if err := r.Err(); err != nil {
		return nil, since, s.wrap("load PNX", err)
	}
	return m, latest, nil
}

// UpsertPNX sets the carrier of each entry's number in one transaction.
// When one number appears more than once, the entry with the latest
// UpdTime (then the later in the slice) wins.
func (s *Store) UpsertPNX(ctx context.Context, entries []PNXEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(ctx, "upsert PNX", func(t tx) error { return s.upsertPNX(ctx, t, entries) })
}

func (s *Store) upsertPNX(ctx context.Context, t tx, entries []PNXEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := s.nowString()
	entries = append([]PNXEntry(nil), entries...) // filled in below; the caller's stay as given
	// One row per number: a multi-row upsert may not touch a row twice.
	last := make(map[string]int, len(entries))
	var order []string
	for i := range entries {
		e := &entries[i]
		if e.UpdTime == "" {
			e.UpdTime = now
		}
		if e.Source == 0 {
			e.Source = PNXFromReport
		}
		j, ok := last[e.Number]
		if !ok {
			order = append(order, e.Number)
		}
		if !ok || entries[j].UpdTime <= e.UpdTime {
			last[e.Number] = i
		}
	}
	per := s.d.chunk(len(pnxCols))
	args := make([]any, 0, len(pnxCols)*min(per, len(order)))
	for off, k := 0, 0; off < len(order); off += k {
		k = s.d.partLen(len(order)-off, per)
		part := order[off : off+k]
		args = args[:0]
		for _, n := range part {
			e := &entries[last[n]]
			args = append(args, e.Number, e.Carrier, e.UpdTime, nb(e.Source))
		}
		q := s.stmt(fmt.Sprintf("pnx/%d", len(part)), func() string {
			return s.d.upsert("PNX", pnxCols, "PHONE_NO", len(part), true)
		})
		if _, err := t.exec(ctx, q, s.d.rowsArgs(pnxCols, len(part), args)...); err != nil {
			return err
		}
	}
	return nil
}
