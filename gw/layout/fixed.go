package layout

// Fixed is the fast path to a field at a fixed offset (Layout.Offset): for
// hot records, read fields straight from the record, without a Record, once
// Decode has checked it. Its methods read from a string holding the record
// at base (the string of the whole record: one allocation, every field a
// substring of it) and do no checks of their own: they must only be used on
// bytes Decode accepted.
type Fixed struct{ Off, Len int }

// MustFixed is the Fixed of the named field, for package-level
// declarations; it panics when the field does not exist or its offset is
// not fixed.
func (l *Layout) MustFixed(name string) Fixed {
	i := l.MustIndex(name)
	off, ok := l.Offset(i)
	if !ok {
		panic("layout " + l.Name + ": field " + name + " has no fixed offset")
	}
	return Fixed{Off: off, Len: l.Fields[i].Len}
}

// AN is an AN or K field without its trailing spaces.
func (f Fixed) AN(s string, base int) string {
	v := s[base+f.Off : base+f.Off+f.Len]
	n := len(v)
	for n > 0 && v[n-1] == ' ' {
		n--
	}
	return v[:n]
}

// Raw is the field as it is.
func (f Fixed) Raw(s string, base int) string { return s[base+f.Off : base+f.Off+f.Len] }

// Uint is an N field's value.
func (f Fixed) Uint(s string, base int) uint64 {
	var v uint64
	for i := base + f.Off; i < base+f.Off+f.Len; i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

// NonZero is an N field as it is, "" when all zeros (times, GW_IDs).
func (f Fixed) NonZero(s string, base int) string {
	v := s[base+f.Off : base+f.Off+f.Len]
	for i := 0; i < len(v); i++ {
		if v[i] != '0' {
			return v
		}
	}
	return ""
}

// Byte is an AN1 field's byte; NUL (legacy padding) reads as a space.
func (f Fixed) Byte(s string, base int) byte {
	if c := s[base+f.Off]; c != 0 {
		return c
	}
	return ' '
}
