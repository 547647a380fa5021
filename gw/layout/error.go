package layout

import (
	"errors"
	"fmt"
)

// Kind says what went wrong, so that protocol layers can map an error onto
// their result codes (PROTOCOL.md: framing 1001, field 1003, EUC-KR 1204).
type Kind uint8

// Error kinds.
const (
	// Framing: the bytes do not have the shape the layout declares (too
	// short, bytes left over, a length field pointing past the end).
	Framing Kind = iota + 1
	// FieldErr: a field holds a value its type or bounds forbid (a non-digit
	// in N, a count or length out of range).
	FieldErr
	// Encoding: a K field holds bytes that are not valid CP949.
	Encoding
)

func (k Kind) String() string {
	switch k {
	case Framing:
		return "framing"
	case FieldErr:
		return "field"
	case Encoding:
		return "encoding"
	}
	return "unknown"
}

// Error is a decoding failure: which layout, which field, where, and why.
type Error struct {
	Layout string
	Field  string // "DESTS[3].DEST" inside a block; "" for the record as a whole
	Kind   Kind
	Off    int // offset in the record where the field starts
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("layout %s: %s error at offset %d: %s", e.Layout, e.Kind, e.Off, e.Reason)
	}
	return fmt.Sprintf("layout %s: field %s at offset %d: %s error: %s", e.Layout, e.Field, e.Off, e.Kind, e.Reason)
}

// KindOf is the Kind of the *Error in err's chain, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// FieldOf is the field named by the *Error in err's chain, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
