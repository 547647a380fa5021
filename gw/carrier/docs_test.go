package carrier

import (
	"os"
	"strings"
	"testing"
)

const (
	docPath  = "../../docs/CARRIERS.md"
	docBegin = "<!-- BEGIN GENERATED: go test ./gw/carrier -run TestDoc with M1_UPDATE_DOCS=1 -->\n"
	docEnd   = "<!-- END GENERATED -->\n"
)

// docs/CARRIERS.md draws every dialect from its declaration: the test
// fails when they drift apart (M1_UPDATE_DOCS=1 rewrites the part).
func TestDoc(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: generated part markers missing", docPath)
	}
	want := MarkdownAll()
	if got := doc[i+len(docBegin) : j]; got != want {
		if os.Getenv("M1_UPDATE_DOCS") == "" {
			t.Fatalf("%s is out of step with the declarations; run with M1_UPDATE_DOCS=1", docPath)
		}
		doc = doc[:i+len(docBegin)] + want + doc[j:]
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
