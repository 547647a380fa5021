package store

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// Migrate brings the schema to the newest version. Each migration runs in
// its own transaction, with SCHEMA_VERSION updated in it, so a migration is
// applied wholly or not at all (except on Oracle, see DATABASE.md), and
// running Migrate again is a no-op. Processes that start together may all
// call it: PostgreSQL serialises them with an advisory lock, SQLite with
// its write lock.
func (s *Store) Migrate(ctx context.Context) error {
	for _, m := range migrations {
		if err := s.migrateOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) migrateOne(ctx context.Context, m migration) error {
	applied := false
	err := s.inTx(ctx, fmt.Sprintf("migration %d", m.version), func(t tx) error {
		if s.d.migrateLock != "" {
			if _, err := t.exec(ctx, s.d.migrateLock); err != nil {
				return err
			}
		}
		if err := s.ensureSchemaVersion(ctx, t); err != nil {
			return err
		}
		var n int64
		if err := queryInt(ctx, t, s.d.render("SELECT COUNT(*) FROM SCHEMA_VERSION WHERE VERSION = ?"), &n, m.version); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, q := range m.stmts {
			if _, err := t.exec(ctx, s.d.renderDDL(q)); err != nil {
				return fmt.Errorf("%s: %w", firstLine(q), err)
			}
		}
		_, err := t.exec(ctx, s.d.render("INSERT INTO SCHEMA_VERSION (VERSION, NAME, APPLIED_TIME) VALUES (?, ?, ?)"),
			m.version, m.name, s.nowString())
		applied = err == nil
		return err
	})
	if err == nil && applied {
		s.log.Info("schema migrated", zap.Int("version", m.version), zap.String("name", m.name))
	}
	return err
}

func (s *Store) ensureSchemaVersion(ctx context.Context, t tx) error {
	var n int64
	if err := queryInt(ctx, t, s.d.render(s.d.tableExists), &n, "SCHEMA_VERSION"); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := t.exec(ctx, s.d.renderDDL(schemaVersionDDL))
	return err
}

// SchemaVersion returns the newest applied migration, 0 when none.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int64
	if err := queryInt(ctx, s.b, s.d.render(s.d.tableExists), &n, "SCHEMA_VERSION"); err != nil || n == 0 {
		return 0, s.wrap("schema version", err)
	}
	var v int64
	err := queryInt(ctx, s.b, "SELECT COALESCE(MAX(VERSION), 0) FROM SCHEMA_VERSION", &v)
	return int(v), s.wrap("schema version", err)
}

// queryInt runs a query that returns one integer.
func queryInt(ctx context.Context, q querier, sql string, dst *int64, args ...any) error {
	r, err := q.query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer r.Close()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return err
		}
		return fmt.Errorf("no row from %s", firstLine(sql))
	}
	if err := r.Scan(dst); err != nil {
		return err
	}
	return r.Close()
}

func firstLine(q string) string {
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}
