package carrier

import (
	"fmt"
	"strings"
)

// Markdown draws a declared dialect for docs/CARRIERS.md: its header, its
// PDU types, every body, and both code tables. Dialects that are not
// declared with layouts get their code tables only.
func Markdown(d Dialect) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s (carrier %s)\n\n", d.Name(), d.Carrier())
	if l, ok := d.(Layouts); ok {
		fmt.Fprintf(&b, "Header, %d bytes (%s):\n\n%s\n", d.HeaderLen(), l.Header().Name, l.Header().Markdown())
		b.WriteString("| PDU | wire type | body |\n|-----|-----------|------|\n")
		for _, t := range Types() {
			body := "none"
			if bl := l.Body(t); bl != nil {
				body = fmt.Sprintf("%s, %d..%d bytes", bl.Name, bl.MinLen(), bl.MaxLen())
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", t, l.WireType(t), body)
		}
		b.WriteString("\n")
		for _, t := range Types() {
			if bl := l.Body(t); bl != nil {
				fmt.Fprintf(&b, "%s (%s):\n\n%s\n", bl.Name, t, bl.Markdown())
			}
		}
	}
	for _, tab := range []struct {
		name string
		rows []CodeEntry
	}{{"Login and submit results", d.SubmitCodes()}, {"Report results", d.ReportCodes()}} {
		fmt.Fprintf(&b, "%s:\n\n| carrier code | class | PROTOCOL.md | meaning |\n|---|---|---|---|\n", tab.name)
		for _, e := range tab.rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", e.CarrierCode, e.Class, e.Code, e.Meaning)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// MarkdownAll is Markdown of every dialect, in name order.
func MarkdownAll() string {
	var b strings.Builder
	for _, n := range Names() {
		d, _ := ByName(n)
		b.WriteString(Markdown(d))
	}
	return b.String()
}
