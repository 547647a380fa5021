package carrier

import (
	"bufio"
	"bytes"
	"testing"
)

func fuzzDialect(f *testing.F, d Dialect) {
	for _, p := range samples() {
		b, _ := d.Append(nil, &p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PDU
		if err := d.Decode(b, &p); err != nil {
			return
		}
		// What decodes, encodes back to the same bytes' meaning.
		e, err := d.Append(nil, &p)
		if err != nil {
			t.Fatal(err)
		}
		var q PDU
		if err := d.Decode(e, &q); err != nil {
			t.Fatalf("re-encoded frame does not decode: %v\n%q", err, e)
		}
		if q != p {
			t.Fatalf("re-decoded %+v, first %+v", q, p)
		}
		_, _ = ReadFrame(bufio.NewReader(bytes.NewReader(b)), d, nil)
		d.ReportOutcome(&p)
		d.SubmitOutcome(p.Result)
	})
}

func FuzzKT(f *testing.F)      { fuzzDialect(f, KT) }
func FuzzSKT(f *testing.F)     { fuzzDialect(f, SKT) }
func FuzzLGRelay(f *testing.F) { fuzzDialect(f, LGRelay) }
