package store

import (
	"context"
	"database/sql"
)

// backend is what the store needs of a database: SQLite and Oracle are
// reached through database/sql, PostgreSQL through pgx's own connections
// (pgpool.go). Statements given to it are already rendered.
type backend interface {
	querier
	begin(ctx context.Context) (tx, error)
	ping(ctx context.Context) error
	close() error
}

// querier runs statements, inside or outside a transaction.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
}

type tx interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// rows is the common part of *sql.Rows and pgx.Rows. Scan targets are
// sql.NullString, sql.NullInt64, *int64 and *string, which both accept.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// sqlBackend is a database/sql pool.
type sqlBackend struct{ db *sql.DB }

func (b *sqlBackend) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := b.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (b *sqlBackend) query(ctx context.Context, q string, args ...any) (rows, error) {
	return b.db.QueryContext(ctx, q, args...)
}

func (b *sqlBackend) begin(ctx context.Context) (tx, error) {
	t, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqlTx{t}, nil
}

func (b *sqlBackend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }
func (b *sqlBackend) close() error                   { return b.db.Close() }

type sqlTx struct{ tx *sql.Tx }

func (t *sqlTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *sqlTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *sqlTx) commit(context.Context) error   { return t.tx.Commit() }
func (t *sqlTx) rollback(context.Context) error { return t.tx.Rollback() }
