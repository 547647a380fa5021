//go:build !cgo

package store

import (
	"database/sql"
	"errors"
)

// openOracle: godror needs cgo (it links Oracle's client library through
// ODPI-C); a binary built with CGO_ENABLED=0 reaches SQLite and PostgreSQL
// only.
func openOracle(string) (*sql.DB, error) {
	return nil, errors.New("store: oracle: this binary was built without cgo; godror needs it")
}
