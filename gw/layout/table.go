package layout

import (
	"fmt"
	"strings"
)

// Markdown draws the layout as the table of docs/LAYOUTS.md: offset,
// length, field, type, meaning. An offset that depends on an earlier
// variable field is written "TEXT+3" (3 bytes after the end of TEXT); the
// fields of a block are written "BLOCK[i].NAME" with offsets inside one
// element.
func (l *Layout) Markdown() string {
	var sb strings.Builder
	sb.WriteString("| offset | len | field | type | meaning |\n|-------:|----:|-------|------|---------|\n")
	l.rows(&sb, "", "")
	return sb.String()
}

func (l *Layout) rows(sb *strings.Builder, prefix, base string) {
	off := 0
	for i := range l.Fields {
		f := &l.Fields[i]
		o := fmt.Sprint(off)
		if base != "" {
			o = fmt.Sprintf("%s+%d", base, off)
		}
		if prefix != "" {
			o = fmt.Sprintf("+%d", off)
			if base != "" {
				o = fmt.Sprintf("%s+%d", base, off)
			}
		}
		ln := fmt.Sprint(f.Len)
		switch {
		case f.Type == Block:
			ln = fmt.Sprintf("%s × %d..%d", f.From, f.block.minLen, f.block.maxLen)
			if f.block.minLen == f.block.maxLen {
				ln = fmt.Sprintf("%s × %d", f.From, f.block.minLen)
			}
		case f.Len == 0:
			ln = f.From
			if f.Adj != 0 {
				ln = fmt.Sprintf("%s%+d", f.From, f.Adj)
			}
			ln += fmt.Sprintf(" (≤ %d)", f.Max)
		}
		typ := f.Type.String()
		doc := f.Doc
		if f.Type == Block {
			typ = "block"
			doc = fmt.Sprintf("%s; repeated %s times (%d..%d)", strings.TrimSuffix(doc, "."), f.From, f.Min, f.Max)
		}
		fmt.Fprintf(sb, "| %s | %s | %s%s | %s | %s |\n", o, ln, prefix, f.Name, typ, strings.ReplaceAll(doc, "|", "\\|"))
		if f.Type == Block {
			f.block.rows(sb, prefix+f.Name+"[i].", "")
		}
		if f.Len == 0 {
			base = prefix + f.Name
			if f.Type == Block {
				base = f.Name
			}
			off = 0
			continue
		}
		off += f.Len
	}
}
