package store

import (
	"context"
	"database/sql"
	"sync"
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

// sqlBackend is a database/sql pool. Statements run inside transactions
// are prepared once per connection and kept (database/sql re-prepares a
// kept statement only on a connection that has not seen it): the same few
// texts come back batch after batch (see partLen).
type sqlBackend struct {
	db *sql.DB

	mu       sync.Mutex
	prepared map[string]*sql.Stmt
}

// maxPrepared bounds the statements kept; past it they are all closed and
// the cache starts again (only a caller with unbounded distinct texts gets
// there).
const maxPrepared = 256

// stmt returns the kept statement for q, preparing it on first use.
func (b *sqlBackend) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.prepared[q]; ok {
		return st, nil
	}
	st, err := b.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if b.prepared == nil || len(b.prepared) >= maxPrepared {
		for _, old := range b.prepared {
			_ = old.Close()
		}
		b.prepared = map[string]*sql.Stmt{}
	}
	b.prepared[q] = st
	return st, nil
}

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
	return &sqlTx{t, b}, nil
}

func (b *sqlBackend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }
func (b *sqlBackend) close() error {
	b.forget()
	return b.db.Close()
}

// forget closes the kept statements: after a schema change made outside
// the store, so that none keeps an old plan.
func (b *sqlBackend) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.prepared {
		_ = st.Close()
	}
	b.prepared = nil
}

type sqlTx struct {
	tx *sql.Tx
	b  *sqlBackend
}

// A statement that cannot be prepared outside the transaction (it names a
// table the transaction itself creates: migrations) runs unprepared; a
// statement that is wrong fails there with the database's own error.
func (t *sqlTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var res sql.Result
	st, err := t.b.stmt(ctx, q)
	if err != nil {
		res, err = t.tx.ExecContext(ctx, q, args...)
	} else {
		res, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *sqlTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	st, err := t.b.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryContext(ctx, q, args...)
	}
	return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

func (t *sqlTx) commit(context.Context) error   { return t.tx.Commit() }
func (t *sqlTx) rollback(context.Context) error { return t.tx.Rollback() }
