package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// Options configures a Store.
type Options struct {
	// DSN picks the database (see the package doc):
	//   sqlite:///abs/path/m1.db  sqlite:var/m1.db
	//   postgres://user@127.0.0.1:5432/db?search_path=m1
	//   oracle://user/pass@host:1521/service
	DSN string
	// Logger receives the store's few messages; nil: none.
	Logger *zap.Logger
	// MaxConns bounds the open connections (default 4).
	MaxConns int
	// BusyTimeout is how long a SQLite writer waits for another (default
	// 10 s); beyond it the operation fails with ErrUnavailable.
	BusyTimeout time.Duration
	// Now is the clock for REG_TIME, expiry and events without a time
	// (default time.Now).
	Now func() time.Time
}

// Store is M1's database: T41, T41_LOG, RPT_PENDING, PNX. It is safe for
// concurrent use. Opening it connects to nothing: a database that is down
// shows as ErrUnavailable from the first operation, and the operations
// succeed again once it is back.
type Store struct {
	d   *dialect
	b   backend
	log *zap.Logger
	now func() time.Time

	mu    sync.Mutex
	stmts map[string]string // rendered statements by builder key
}

// Open parses opts.DSN and returns a Store. It does not create the schema:
// call Migrate.
func Open(opts Options) (*Store, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Store{log: opts.Logger, now: opts.Now, stmts: make(map[string]string)}
	dsn := opts.DSN
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" || strings.ContainsRune(path, '?') {
			return nil, fmt.Errorf("store: bad sqlite DSN %q: want sqlite:PATH or sqlite:///ABS/PATH", dsn)
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
		}
		// WAL: readers never wait for the writer. synchronous(FULL): a
		// commit is on disk before it returns, because dbx commits its
		// queue records right after, and a commit lost to a power cut
		// would lose those events for good (NORMAL may lose the last
		// commits in WAL mode). _txlock=immediate: every transaction
		// takes the write lock at BEGIN, so two writers queue on
		// busy_timeout instead of failing at their first write.
		drv := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate",
			path, opts.BusyTimeout.Milliseconds())
		db, err := sql.Open("sqlite", drv)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db.SetMaxOpenConns(opts.MaxConns)
		db.SetMaxIdleConns(opts.MaxConns)
		s.d, s.b = dialectSQLite, &sqlBackend{db: db}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		b, err := newPGBackend(dsn, opts.MaxConns)
		if err != nil {
			return nil, fmt.Errorf("store: bad postgres DSN: %w", err)
		}
		s.d, s.b = dialectPostgres, b
	case strings.HasPrefix(dsn, "oracle://"):
		db, err := openOracle(strings.TrimPrefix(dsn, "oracle://"))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(opts.MaxConns)
		db.SetMaxIdleConns(opts.MaxConns)
		s.d, s.b = dialectOracle, &sqlBackend{db: db}
	default:
		return nil, fmt.Errorf("store: DSN %q: want sqlite:, postgres:// or oracle://", redact(dsn))
	}
	return s, nil
}

// redact hides what may be a password in a DSN for messages.
func redact(dsn string) string {
	if i := strings.LastIndexByte(dsn, '@'); i >= 0 {
		if j := strings.Index(dsn, "://"); j >= 0 && j < i {
			return dsn[:j+3] + "***" + dsn[i:]
		}
		return "***" + dsn[i:]
	}
	return dsn
}

// Dialect names the database: "sqlite", "postgres" or "oracle".
func (s *Store) Dialect() string { return s.d.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.wrap("ping", s.b.ping(ctx)) }

// Close closes the store's connections.
func (s *Store) Close() error { return s.b.close() }

// stmt returns the rendered statement for key, building it once.
func (s *Store) stmt(key string, build func() string) string {
	s.mu.Lock()
	q, ok := s.stmts[key]
	s.mu.Unlock()
	if ok {
		return q
	}
	q = s.d.render(build())
	s.mu.Lock()
	if len(s.stmts) > 4096 {
		clear(s.stmts)
	}
	s.stmts[key] = q
	s.mu.Unlock()
	return q
}

// nowString is the store's clock as CHAR(14).
func (s *Store) nowString() string { return FormatTime(s.now()) }

// inTx runs fn in a transaction and commits it; fn's error rolls it back.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx) error) error {
	t, err := s.b.begin(ctx)
	if err != nil {
		return s.wrap(op, err)
	}
	if err := fn(t); err != nil {
		_ = t.rollback(ctx) // the error that matters is fn's
		return s.wrap(op, err)
	}
	return s.wrap(op, t.commit(ctx))
}

// ns binds an empty string as NULL: Oracle stores ” as NULL, so the
// store does the same everywhere and reads NULL back as "".
func ns(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// nb binds a zero byte as NULL.
func nb(v byte) any {
	if v == 0 {
		return nil
	}
	return string([]byte{v})
}

// ni binds 0 as NULL.
func ni(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// byteOf reads a CHAR(1) column.
func byteOf(v sql.NullString) byte {
	if !v.Valid || v.String == "" {
		return 0
	}
	return v.String[0]
}
