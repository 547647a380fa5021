// Package store is M1's database layer: the schema (T41, T41_LOG,
// RPT_PENDING, PNX, SCHEMA_VERSION), its migrations, and the operations sch,
// dbx, dist and the listener run on it, for SQLite, PostgreSQL and Oracle
// behind one API. docs/DATABASE.md is the operators' and reviewers' account
// of it; this comment is the short form.
//
// # Databases and DSNs
//
// One DSN picks the database:
//
//	sqlite:var/m1.db                      SQLite file, relative path (modernc.org/sqlite)
//	sqlite:///var/lib/m1/m1.db            SQLite file, absolute path
//	postgres://user@127.0.0.1:5432/db     PostgreSQL (pgx); any pgx parameter may follow,
//	                                      e.g. ?search_path=m1&sslmode=disable
//	oracle://user/pass@host:1521/service  Oracle (godror); what follows oracle:// is
//	                                      godror's own connect string
//
// Every dialect difference lives in dialect.go; every statement is written
// once with ? binds and rendered per database.
//
// # Times
//
// Every time column is CHAR(14), YYYYMMDDhhmmss in the M1 host's local time,
// and every time the store writes comes from the M1 host's clock, bound as
// text: the database's own clock and time zone are never used, so the three
// databases hold the same bytes.
//
// # NULL and ""
//
// Oracle stores ” as NULL. The store binds every empty string as NULL on
// every database and reads NULL back as "", so the same Go values round-trip
// everywhere.
//
// # Events
//
// dbx hands ApplyEvents batches of Accept, Ack, Report and Final events.
// The store reads the batch's T41_LOG rows (locked), folds the events into
// them by the rules in merge.go, which are commutative and idempotent, and
// writes the changed rows back with multi-row upserts, all in one
// transaction. REPORTs owed to listener clients are recorded in
// RPT_PENDING in that transaction and returned; dbx queues them and calls
// MarkReported; after a crash, PendingReports gives them again (at least
// once).
//
// # Errors
//
// A database that is down, unreachable, stopping, starting, or (SQLite)
// locked beyond the busy timeout gives errors wrapping ErrUnavailable
// (IsUnavailable): wait and retry. Nothing in the package panics or exits
// on a database error, and Open connects to nothing.
package store
