package msg

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/m1gw/m1/gw/telegram"
)

// TestLayoutsDocumented keeps docs/LAYOUTS.md in step with the
// declarations. M1_PRINT_LAYOUTS=1 prints every table, to paste there.
func TestLayoutsDocumented(t *testing.T) {
	all := append(telegram.Layouts(), Layouts()...)
	if os.Getenv("M1_PRINT_LAYOUTS") != "" {
		for _, l := range all {
			fmt.Printf("### %s\n\n%s\n", l.Name, l.Markdown())
		}
	}
	doc, err := os.ReadFile("../../docs/LAYOUTS.md")
	if err != nil {
		t.Fatalf("docs/LAYOUTS.md: %v", err)
	}
	for _, l := range all {
		if !bytes.Contains(doc, []byte(l.Markdown())) {
			t.Errorf("docs/LAYOUTS.md lacks the current table of %s:\n%s", l.Name, l.Markdown())
		}
	}
}
