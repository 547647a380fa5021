//go:build cgo

package store

import (
	"database/sql"
	"fmt"

	_ "github.com/godror/godror" // driver "godror"
)

// openOracle opens godror with the part of the DSN after oracle://, which is
// godror's own: user/password@host:port/service, or its logfmt form.
func openOracle(dsn string) (*sql.DB, error) {
	db, err := sql.Open("godror", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: bad oracle DSN: %w", err)
	}
	return db, nil
}
