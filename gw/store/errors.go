package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ErrUnavailable marks an error the caller can wait out: the database is
// down, unreachable, shutting down, starting up, out of connections, or (on
// SQLite) held by another writer beyond the busy timeout or out of disk.
// Every operation wraps such errors with it; test with IsUnavailable. The
// operation did not take effect (its transaction was rolled back or never
// began), except that a commit whose answer was lost may have committed:
// the store's operations are idempotent, so doing it again is safe.
var ErrUnavailable = errors.New("store: database unavailable")

// ErrDuplicate marks an insert refused by a unique key: InsertT41 of a
// CLIENT_ID and MSG_KEY that T41 already holds.
var ErrDuplicate = errors.New("store: duplicate key")

// IsUnavailable reports whether err means the database could not be reached
// or could not serve now; the caller backs off and tries again.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsDuplicate reports whether err is a unique-key violation.
func IsDuplicate(err error) bool { return errors.Is(err, ErrDuplicate) }

// wrap classifies err for dialect d and adds what was being done.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	switch classify(s.d, err) {
	case classUnavailable:
		return fmt.Errorf("store: %s: %w: %w", op, ErrUnavailable, err)
	case classDuplicate:
		return fmt.Errorf("store: %s: %w: %w", op, ErrDuplicate, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

type errClass int

const (
	classOther errClass = iota
	classUnavailable
	classDuplicate
)

func classify(d *dialect, err error) errClass {
	if errors.Is(err, context.Canceled) {
		// The caller gave up (it is stopping): not the database's state.
		return classOther
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// The database did not answer within the caller's deadline.
		return classUnavailable
	}
	switch d {
	case dialectPostgres:
		return classifyPG(err)
	case dialectSQLite:
		return classifySQLite(err)
	case dialectOracle:
		return classifyOracle(err)
	}
	return classOther
}

// networkDown: the errors any driver passes up when the server is gone.
func networkDown(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ETIMEDOUT) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, errClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

func classifyPG(err error) errClass {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return classDuplicate
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", // admin_shutdown
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now (starting up)
			pe.Code == "53300", // too_many_connections
			pe.Code == "53100", // disk_full
			pe.Code == "40P01", // deadlock_detected: try again
			pe.Code == "40001": // serialization_failure: try again
			return classUnavailable
		}
		return classOther
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || networkDown(err) || pgconn.Timeout(err) {
		return classUnavailable
	}
	// Anything else from the connection that is not the server's answer:
	// the connection broke.
	if strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool") {
		return classUnavailable
	}
	return classOther
}

// SQLite primary result codes (sqlite3.h).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteProtocol = 15
	sqliteConstr   = 19
	// Extended codes of SQLITE_CONSTRAINT for a unique or primary key.
	sqliteConstrPK     = 1555
	sqliteConstrUnique = 2067
)

func classifySQLite(err error) errClass {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstrPK, sqliteConstrUnique:
			return classDuplicate
		}
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteProtocol:
			return classUnavailable
		}
		return classOther
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, errClosed) {
		return classUnavailable
	}
	return classOther
}

// oraUnavailable lists the ORA- codes of a database that is down, starting,
// stopping, or unreachable.
var oraUnavailable = map[int]bool{
	28:    true, // session killed
	1012:  true, // not logged on
	1033:  true, // initialization or shutdown in progress
	1034:  true, // ORACLE not available
	1089:  true, // immediate shutdown in progress
	1090:  true, // shutdown in progress
	1092:  true, // instance terminated
	3113:  true, // end-of-file on communication channel
	3114:  true, // not connected
	3135:  true, // connection lost contact
	3136:  true, // inbound connection timed out
	12152: true, // unable to send break
	12170: true, // connect timeout
	12514: true, // listener does not know the service
	12516: true, // no handler available
	12518: true, // listener could not hand off
	12519: true, // no appropriate handler
	12520: true, // no handler for the server type
	12528: true, // instance blocking new connections
	12537: true, // connection closed
	12541: true, // no listener
	12543: true, // destination host unreachable
	12547: true, // lost contact
	12571: true, // packet writer failure
	25408: true, // cannot safely replay call
	60:    true, // deadlock: try again
	30006: true, // resource busy, wait timeout
}

// oraCode returns the error's ORA- code, from the driver's error when it
// has one (anything with Code() int), else from its text.
func oraCode(err error) int {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		return c.Code()
	}
	msg := err.Error()
	if i := strings.Index(msg, "ORA-"); i >= 0 && len(msg) >= i+9 {
		n := 0
		for _, ch := range msg[i+4 : i+9] {
			if ch < '0' || ch > '9' {
				return 0
			}
			n = n*10 + int(ch-'0')
		}
		return n
	}
	return 0
}

func classifyOracle(err error) errClass {
	code := oraCode(err)
	switch {
	case code == 1:
		return classDuplicate
	case oraUnavailable[code]:
		return classUnavailable
	case code == 0 && networkDown(err):
		return classUnavailable
	}
	if strings.Contains(err.Error(), "DPI-1080") || strings.Contains(err.Error(), "DPI-1010") {
		// ODPI-C: connection closed / not connected.
		return classUnavailable
	}
	return classOther
}
