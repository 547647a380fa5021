package layout

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// valid2 holds one bit per two-byte CP949 sequence (lead 0x81..0xFE) that
// golang.org/x/text decodes to a character: 126 leads x 256 trails.
var valid2 [126 * 256 / 64]uint64

func init() {
	dec := korean.EUCKR.NewDecoder()
	var in [2]byte
	out := make([]byte, 8)
	for lead := 0x81; lead <= 0xFE; lead++ {
		for trail := 0x41; trail <= 0xFE; trail++ {
			in[0], in[1] = byte(lead), byte(trail)
			dec.Reset()
			nDst, nSrc, err := dec.Transform(out, in[:], true)
			if err != nil || nSrc != 2 {
				continue
			}
			r, size := utf8.DecodeRune(out[:nDst])
			if r == utf8.RuneError || size != nDst {
				continue
			}
			k := (lead-0x81)*256 + trail
			valid2[k/64] |= 1 << (k % 64)
		}
	}
}

func validPair(lead, trail byte) bool {
	if lead < 0x81 || lead == 0xFF {
		return false
	}
	k := int(lead-0x81)*256 + int(trail)
	return valid2[k/64]&(1<<(k%64)) != 0
}

// ErrNotEUCKR is returned for bytes that are not valid EUC-KR/CP949, or for
// UTF-8 text with a character EUC-KR cannot hold.
var ErrNotEUCKR = errors.New("not valid EUC-KR/CP949")

// invalidEUCKR returns the offset of the first byte that is not part of a
// valid CP949 character, or -1.
func invalidEUCKR[T string | []byte](b T) int {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if i+1 >= len(b) || !validPair(c, b[i+1]) {
			return i
		}
		i += 2
	}
	return -1
}

// ValidEUCKR reports whether b is entirely valid EUC-KR/CP949 text (ASCII
// and two-byte characters).
func ValidEUCKR(b []byte) bool { return invalidEUCKR(b) < 0 }

// ValidEUCKRString is ValidEUCKR for a string.
func ValidEUCKRString(s string) bool { return invalidEUCKR(s) < 0 }

// CutEUCKR returns the longest prefix of b of at most n bytes that does not
// split a two-byte character. It assumes b is valid EUC-KR; on invalid
// bytes it still never returns more than n bytes.
func CutEUCKR(b []byte, n int) []byte {
	if n <= 0 {
		return b[:0]
	}
	if len(b) <= n {
		return b
	}
	i := 0
	for i < n {
		w := 1
		if b[i] >= 0x80 {
			w = 2
		}
		if i+w > n {
			break
		}
		i += w
	}
	return b[:i]
}

// ToEUCKR converts UTF-8 text to EUC-KR (CP949). A character EUC-KR cannot
// hold is ErrNotEUCKR.
func ToEUCKR(s string) ([]byte, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return []byte(s), nil
	}
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEUCKR, err)
	}
	return b, nil
}

// MustEUCKR is ToEUCKR for constants in tests and tools; it panics when s
// has a character EUC-KR cannot hold.
func MustEUCKR(s string) []byte {
	b, err := ToEUCKR(s)
	if err != nil {
		panic(err)
	}
	return b
}

// ToUTF8 converts EUC-KR/CP949 text to UTF-8. Invalid bytes are
// ErrNotEUCKR (the decoder of x/text would turn them into U+FFFD silently).
func ToUTF8(b []byte) (string, error) {
	if i := invalidEUCKR(b); i >= 0 {
		return "", fmt.Errorf("%w: byte 0x%02x at offset %d", ErrNotEUCKR, b[i], i)
	}
	out, err := korean.EUCKR.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotEUCKR, err)
	}
	return string(out), nil
}
