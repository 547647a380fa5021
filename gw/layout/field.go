package layout

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is a field's type.
type Type uint8

// Field types. Their letters are those of the specifications (N, AN, K).
const (
	N     Type = iota + 1 // ASCII digits, right-aligned, zero-padded
	AN                    // text, left-aligned, space-padded
	K                     // EUC-KR text, left-aligned, space-padded
	Block                 // a repeated block of fields
)

func (t Type) String() string {
	switch t {
	case N:
		return "N"
	case AN:
		return "AN"
	case K:
		return "K"
	case Block:
		return "BLOCK"
	}
	return "?" + strconv.Itoa(int(t))
}

// MaxFields is the most fields one level of a layout may declare.
const MaxFields = 48

// Field is one declared field. Build fields with Num, Alpha, Korean, VarAN,
// VarK and Repeat.
type Field struct {
	Name string
	Type Type
	// Len is the fixed length in bytes; 0 for a variable-length field or a
	// block.
	Len int
	// From names the earlier N field that gives a variable field's length
	// (plus Adj) or a block's repeat count.
	From string
	// Adj is the correction added to the length field's value.
	Adj int
	// Min and Max bound a variable field's length or a block's count.
	Min, Max int
	// Fields are a block's fields.
	Fields []Field
	// Doc says what the field means (for docs/LAYOUTS.md).
	Doc string

	from    int     // index of From at this level
	block   *Layout // compiled block
	governs bool    // some later field takes its length or count from this one
}

// Num declares a fixed N field.
func Num(name string, n int, doc string) Field { return Field{Name: name, Type: N, Len: n, Doc: doc} }

// Alpha declares a fixed AN field.
func Alpha(name string, n int, doc string) Field {
	return Field{Name: name, Type: AN, Len: n, Doc: doc}
}

// Korean declares a fixed K field.
func Korean(name string, n int, doc string) Field {
	return Field{Name: name, Type: K, Len: n, Doc: doc}
}

// VarAN declares an AN field whose length is the value of the N field from,
// plus adj, at most max bytes.
func VarAN(name, from string, adj, max int, doc string) Field {
	return Field{Name: name, Type: AN, From: from, Adj: adj, Max: max, Doc: doc}
}

// VarK declares a K field whose length is the value of the N field from,
// plus adj, at most max bytes.
func VarK(name, from string, adj, max int, doc string) Field {
	return Field{Name: name, Type: K, From: from, Adj: adj, Max: max, Doc: doc}
}

// Repeat declares a block of fields repeated the number of times the N field
// from gives, between min and max times.
func Repeat(name, from string, min, max int, doc string, fields ...Field) Field {
	return Field{Name: name, Type: Block, From: from, Min: min, Max: max, Fields: fields, Doc: doc}
}

// Variable reports whether the field's length is not fixed.
func (f *Field) Variable() bool { return f.Len == 0 }

// Sub is the compiled layout of a block's fields; nil for other fields.
func (f *Field) Sub() *Layout { return f.block }

// Layout is a compiled list of fields. It is immutable and safe for
// concurrent use.
type Layout struct {
	Name   string
	Fields []Field
	index  map[string]int
	minLen int // bytes of the smallest valid record
	maxLen int // bytes of the largest valid record
	offs   []int
	fixed  int // fields [0, fixed) have fixed offsets offs[i]
}

// New compiles a layout. It checks names are unique, lengths and counts
// refer to earlier N fields of the same level, and blocks do not nest.
func New(name string, fields ...Field) (*Layout, error) {
	return compile(name, fields, false)
}

// MustNew is New for package-level declarations: it panics on a bad
// declaration, which is a programming error found by any test.
func MustNew(name string, fields ...Field) *Layout {
	l, err := New(name, fields...)
	if err != nil {
		panic(err)
	}
	return l
}

func compile(name string, in []Field, inBlock bool) (*Layout, error) {
	if len(in) == 0 || len(in) > MaxFields {
		return nil, fmt.Errorf("layout %s: %d fields (1..%d)", name, len(in), MaxFields)
	}
	l := &Layout{Name: name, Fields: append([]Field(nil), in...), index: make(map[string]int, len(in))}
	l.fixed = -1
	off := 0
	for i := range l.Fields {
		f := &l.Fields[i]
		if f.Name == "" || strings.ContainsAny(f.Name, ".[] ") {
			return nil, fmt.Errorf("layout %s: field %d: bad name %q", name, i, f.Name)
		}
		if _, dup := l.index[f.Name]; dup {
			return nil, fmt.Errorf("layout %s: field %s declared twice", name, f.Name)
		}
		l.index[f.Name] = i
		f.from = -1
		if f.From != "" {
			j, ok := l.index[f.From]
			if !ok || l.Fields[j].Type != N || l.Fields[j].Len > 9 {
				return nil, fmt.Errorf("layout %s: field %s: %s is not an earlier N field of at most 9 digits", name, f.Name, f.From)
			}
			f.from = j
			l.Fields[j].governs = true
		}
		switch f.Type {
		case N, AN, K:
			if f.Len < 0 || (f.Len == 0 && (f.from < 0 || f.Max <= 0)) || (f.Len > 0 && f.from >= 0) {
				return nil, fmt.Errorf("layout %s: field %s: needs a length, or a length field and a maximum", name, f.Name)
			}
			if f.Type == N && f.Len == 0 {
				return nil, fmt.Errorf("layout %s: field %s: N fields have a fixed length", name, f.Name)
			}
			if f.Len > 0 {
				l.minLen += f.Len
				l.maxLen += f.Len
			} else {
				l.minLen += max(f.Min, 0)
				l.maxLen += f.Max
			}
		case Block:
			if inBlock {
				return nil, fmt.Errorf("layout %s: block %s inside a block", name, f.Name)
			}
			if f.from < 0 || f.Min < 0 || f.Max < f.Min || f.Max == 0 {
				return nil, fmt.Errorf("layout %s: block %s: needs a count field and 0 <= min <= max, max > 0", name, f.Name)
			}
			b, err := compile(name+"."+f.Name, f.Fields, true)
			if err != nil {
				return nil, err
			}
			f.block = b
			f.Len = 0
			l.minLen += f.Min * b.minLen
			l.maxLen += f.Max * b.maxLen
		default:
			return nil, fmt.Errorf("layout %s: field %s: unknown type %d", name, f.Name, f.Type)
		}
		if l.fixed < 0 {
			l.offs = append(l.offs, off)
			if f.Len == 0 {
				l.fixed = i + 1 // a variable field's own offset is fixed; the next is not
			}
			off += f.Len
		}
	}
	if l.fixed < 0 {
		l.fixed = len(l.Fields)
	}
	return l, nil
}

// Index is the index of the named field, or -1.
func (l *Layout) Index(name string) int {
	if i, ok := l.index[name]; ok {
		return i
	}
	return -1
}

// MustIndex is Index for package-level declarations; it panics when the
// field does not exist.
func (l *Layout) MustIndex(name string) int {
	i := l.Index(name)
	if i < 0 {
		panic("layout " + l.Name + ": no field " + name)
	}
	return i
}

// Offset is the fixed offset of field i, and false when the field follows a
// variable-length field or block (its offset depends on the record).
func (l *Layout) Offset(i int) (int, bool) {
	if i < 0 || i >= l.fixed {
		return 0, false
	}
	return l.offs[i], true
}

// MinLen is the length of the smallest record the layout admits.
func (l *Layout) MinLen() int { return l.minLen }

// MaxLen is the length of the largest record the layout admits.
func (l *Layout) MaxLen() int { return l.maxLen }
