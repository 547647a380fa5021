package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgBackend is a small pool of pgx connections. pgx's own pool and its
// database/sql adapter need a module the build does not carry; the store
// needs little of a pool: a bounded number of connections, opened when
// first needed, and a connection that broke is dropped, not reused.
type pgBackend struct {
	cfg  *pgx.ConnConfig
	sem  chan struct{} // one token per open or opening connection
	mu   sync.Mutex
	idle []*pgx.Conn
	done bool
}

func newPGBackend(dsn string, maxConns int) (*pgBackend, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		// A server behind a dead route would otherwise hold a caller for
		// the kernel's TCP timeout (minutes) before it can back off.
		cfg.ConnectTimeout = 10 * time.Second
	}
	return &pgBackend{cfg: cfg, sem: make(chan struct{}, maxConns)}, nil
}

// errClosed is returned by a closed store's operations.
var errClosed = errors.New("store: closed")

func (b *pgBackend) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		<-b.sem
		return nil, errClosed
	}
	if n := len(b.idle); n > 0 {
		c := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		return c, nil
	}
	b.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, b.cfg)
	if err != nil {
		<-b.sem
		return nil, err
	}
	return c, nil
}

// release returns c to the pool, or closes it when it broke or the
// statement on it failed in a way that leaves its state unknown.
func (b *pgBackend) release(c *pgx.Conn, err error) {
	defer func() { <-b.sem }()
	broken := c.IsClosed() || (err != nil && !isServerError(err))
	b.mu.Lock()
	if broken || b.done {
		b.mu.Unlock()
		c.Close(context.Background())
		return
	}
	b.idle = append(b.idle, c)
	b.mu.Unlock()
}

// isServerError: the server answered with an error; the connection is fine.
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

func (b *pgBackend) exec(ctx context.Context, q string, args ...any) (int64, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return 0, err
	}
	tag, err := c.Exec(ctx, q, args...)
	b.release(c, err)
	return tag.RowsAffected(), err
}

func (b *pgBackend) query(ctx context.Context, q string, args ...any) (rows, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.Query(ctx, q, args...)
	if err != nil {
		b.release(c, err)
		return nil, err
	}
	return &pgRows{Rows: r, release: func(err error) { b.release(c, err) }}, nil
}

func (b *pgBackend) begin(ctx context.Context) (tx, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	t, err := c.Begin(ctx)
	if err != nil {
		b.release(c, err)
		return nil, err
	}
	return &pgTx{b: b, c: c, tx: t}, nil
}

func (b *pgBackend) ping(ctx context.Context) error {
	c, err := b.acquire(ctx)
	if err != nil {
		return err
	}
	err = c.Ping(ctx)
	b.release(c, err)
	return err
}

func (b *pgBackend) close() error {
	b.mu.Lock()
	b.done = true
	idle := b.idle
	b.idle = nil
	b.mu.Unlock()
	for _, c := range idle {
		c.Close(context.Background())
	}
	return nil
}

// pgRows gives the connection back when the rows are closed.
type pgRows struct {
	pgx.Rows
	release func(error)
	closed  bool
}

func (r *pgRows) Close() error {
	r.Rows.Close()
	err := r.Rows.Err()
	if !r.closed {
		r.closed = true
		r.release(err)
	}
	return err
}

type pgTx struct {
	b    *pgBackend
	c    *pgx.Conn
	tx   pgx.Tx
	done bool
}

func (t *pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t *pgTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: r, release: func(error) {}}, nil
}

func (t *pgTx) commit(ctx context.Context) error {
	err := t.tx.Commit(ctx)
	t.finish(err)
	return err
}

func (t *pgTx) rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	err := t.tx.Rollback(ctx)
	t.finish(err)
	return err
}

func (t *pgTx) finish(err error) {
	if t.done {
		return
	}
	t.done = true
	t.b.release(t.c, err)
}
