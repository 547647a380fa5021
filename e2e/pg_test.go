package e2e

import (
	"testing"

	"github.com/m1gw/m1/internal/testpg"
)

// pgSchema is a DSN on a schema of the test's own through host (a
// proxy), dropped at cleanup (internal/testpg).
func pgSchema(t *testing.T, host string) string {
	t.Helper()
	return testpg.SchemaDSN(t, "m1_e2e_", host)
}
