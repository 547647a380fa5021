package layout

import (
	"strconv"
)

// Span is where one field lies in a record: Off and Len in bytes. For a
// block, Off is the index in the Record's element table of the block's first
// element and Len is the repeat count.
type Span struct{ Off, Len int32 }

// Record is a decoded record: the input bytes and where each field lies in
// them. It refers to the input, which must not change while the Record is
// used. The zero Record is ready for Decode; reusing one across calls
// reuses its element table.
type Record struct {
	L     *Layout
	B     []byte
	spans [MaxFields]Span
	elems []Span
}

// Decode decodes b, which must be exactly one record, into r.
func (l *Layout) Decode(b []byte, r *Record) error {
	n, err := l.DecodePrefix(b, r)
	if err != nil && (n == 0 || KindOf(err) == Framing) {
		return err
	}
	if n != len(b) {
		return &Error{Layout: l.Name, Kind: Framing, Off: n, Reason: strconv.Itoa(len(b)-n) + " bytes after the end of the record"}
	}
	return err
}

// DecodePrefix decodes the record at the start of b into r and returns its
// length; bytes after it are not looked at.
func (l *Layout) DecodePrefix(b []byte, r *Record) (int, error) {
	r.L = l
	r.B = b
	r.elems = r.elems[:0]
	var content *Error
	n, err := l.decodeLevel(b, 0, r.spans[:len(l.Fields)], r, l.Name, "", -1, &content)
	if err != nil {
		return 0, err
	}
	if content != nil {
		return n, content
	}
	return n, nil
}

// decodeLevel decodes l's fields from b[off:], filling spans. top, block
// and elem name the field in errors (elem is -1 at top level).
//
// The shape is checked before the content: an error in a field that governs
// no length or count (a non-digit in a plain N field, bad EUC-KR) is kept in
// *content and reported only when the record's shape is right, so that a
// length that disagrees with the record is a framing error, whatever bytes
// it makes the decoder look at. (A length or count field that is not digits
// stops decoding at once: a field error.)
func (l *Layout) decodeLevel(b []byte, off int, spans []Span, r *Record, top, block string, elem int, content **Error) (int, error) {
	for i := range l.Fields {
		f := &l.Fields[i]
		n := f.Len
		if f.Type == Block {
			cnt := int(digits(b[spans[f.from].Off : spans[f.from].Off+spans[f.from].Len]))
			if cnt < f.Min || cnt > f.Max {
				return 0, l.err(top, block, f, elem, FieldErr, off, "count "+strconv.Itoa(cnt)+" out of range "+strconv.Itoa(f.Min)+".."+strconv.Itoa(f.Max))
			}
			if need := cnt * f.block.minLen; need > len(b)-off {
				return 0, l.err(top, block, f, elem, Framing, off, strconv.Itoa(cnt)+" elements need at least "+strconv.Itoa(need)+" bytes, "+strconv.Itoa(len(b)-off)+" left")
			}
			nf := len(f.block.Fields)
			start := len(r.elems)
			if need := start + cnt*nf; need > cap(r.elems) {
				grown := make([]Span, start, need)
				copy(grown, r.elems)
				r.elems = grown
			}
			r.elems = r.elems[:start+cnt*nf]
			for k := 0; k < cnt; k++ {
				es := r.elems[start+k*nf : start+(k+1)*nf]
				var err error
				off, err = f.block.decodeLevel(b, off, es, r, top, f.Name, k, content)
				if err != nil {
					return 0, err
				}
			}
			spans[i] = Span{Off: int32(start), Len: int32(cnt)}
			continue
		}
		if n == 0 {
			n = int(digits(b[spans[f.from].Off:spans[f.from].Off+spans[f.from].Len])) + f.Adj
			if n < f.Min || n > f.Max {
				return 0, l.err(top, block, f, elem, FieldErr, off, "length "+strconv.Itoa(n)+" out of range "+strconv.Itoa(f.Min)+".."+strconv.Itoa(f.Max))
			}
		}
		if n > len(b)-off {
			return 0, l.err(top, block, f, elem, Framing, off, "needs "+strconv.Itoa(n)+" bytes, "+strconv.Itoa(len(b)-off)+" left")
		}
		v := b[off : off+n]
		switch f.Type {
		case N:
			for j, c := range v {
				if c < '0' || c > '9' {
					e := l.err(top, block, f, elem, FieldErr, off, "non-digit 0x"+strconv.FormatUint(uint64(c), 16)+" at byte "+strconv.Itoa(j)+" of an N field")
					if f.governs {
						return 0, e
					}
					if *content == nil {
						*content = e
					}
					break
				}
			}
		case K:
			if j := invalidEUCKR(v); j >= 0 && *content == nil {
				*content = l.err(top, block, f, elem, Encoding, off, "byte 0x"+strconv.FormatUint(uint64(v[j]), 16)+" at byte "+strconv.Itoa(j)+" is not CP949")
			}
		}
		spans[i] = Span{Off: int32(off), Len: int32(n)}
		off += n
	}
	return off, nil
}

func (l *Layout) err(top, block string, f *Field, elem int, k Kind, off int, reason string) *Error {
	name := f.Name
	if elem >= 0 {
		name = block + "[" + strconv.Itoa(elem) + "]." + f.Name
	}
	return &Error{Layout: top, Field: name, Kind: k, Off: off, Reason: reason}
}

// digits parses b, known to be ASCII digits, saturating rather than
// overflowing.
func digits(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 1<<64 - 1
		}
		v = v*10 + d
	}
	return v
}

// Value is one field of a decoded record.
type Value struct {
	f   *Field
	raw []byte
	off int
}

// In returns Bytes as a substring of s, which must be string(r.B) for the
// Record the Value came from: decoding a record into strings then costs one
// allocation (the string of the whole record) however many fields it has.
func (v Value) In(s string) string {
	n := len(v.Bytes())
	if v.off < 0 || v.off+n > len(s) {
		return ""
	}
	return s[v.off : v.off+n]
}

// Raw is the field's bytes as they are in the record, padding included.
func (v Value) Raw() []byte { return v.raw }

// Bytes is the field's value: an AN or K field of fixed length without its
// trailing spaces; a variable-length field or an N field as it is. It is a
// sub-slice of the record, not a copy.
func (v Value) Bytes() []byte {
	if v.f == nil || v.f.Type == N || v.f.Len == 0 {
		return v.raw
	}
	return TrimSpace(v.raw)
}

// String is Bytes as a string (a copy).
func (v Value) String() string { return string(v.Bytes()) }

// Uint is an N field's value; it saturates at the largest uint64 and is 0 for
// other types.
func (v Value) Uint() uint64 {
	if v.f == nil || v.f.Type != N {
		return 0
	}
	return digits(v.raw)
}

// Int is Uint as an int, saturating at the largest int.
func (v Value) Int() int {
	u := v.Uint()
	if u > uint64(^uint(0)>>1) {
		return int(^uint(0) >> 1)
	}
	return int(u)
}

// Field returns field i of the record. An index out of range is a
// zero Value.
func (r *Record) Field(i int) Value {
	if r.L == nil || i < 0 || i >= len(r.L.Fields) {
		return Value{}
	}
	s := r.spans[i]
	if r.L.Fields[i].Type == Block {
		return Value{f: &r.L.Fields[i]}
	}
	return Value{f: &r.L.Fields[i], raw: r.B[s.Off : s.Off+s.Len], off: int(s.Off)}
}

// Get returns the named field; a zero Value when there is none.
func (r *Record) Get(name string) Value {
	if r.L == nil {
		return Value{}
	}
	return r.Field(r.L.Index(name))
}

// Count is the number of elements of block field i (0 for other fields).
func (r *Record) Count(i int) int {
	if r.L == nil || i < 0 || i >= len(r.L.Fields) || r.L.Fields[i].Type != Block {
		return 0
	}
	return int(r.spans[i].Len)
}

// Elem returns field j of element k of block field i.
func (r *Record) Elem(i, k, j int) Value {
	if k < 0 || k >= r.Count(i) {
		return Value{}
	}
	b := r.L.Fields[i].block
	if j < 0 || j >= len(b.Fields) {
		return Value{}
	}
	s := r.elems[int(r.spans[i].Off)+k*len(b.Fields)+j]
	return Value{f: &b.Fields[j], raw: r.B[s.Off : s.Off+s.Len], off: int(s.Off)}
}

// Span is where field i lies (see Span).
func (r *Record) Span(i int) Span {
	if i < 0 || i >= MaxFields {
		return Span{}
	}
	return r.spans[i]
}

// TrimSpace drops trailing spaces (0x20) only: the padding of AN and K.
func TrimSpace(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == ' ' {
		n--
	}
	return b[:n]
}
