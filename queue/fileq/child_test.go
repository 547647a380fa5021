package fileq

import (
	"fmt"
	"os"
)

// runChild runs a re-executed test binary's role.
func runChild(role string) int {
	fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
	return 2
}
