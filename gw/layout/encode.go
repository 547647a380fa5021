package layout

// Encoding never fails: the records M1 encodes hold values it checked when
// they came in. A value longer than its field is cut (a K value at a
// character boundary, so the record stays valid EUC-KR); an N value with
// more digits than the field keeps its lowest digits. Callers that must not
// lose data check lengths first (the validators of gw/telegram do).

// AppendN appends v as n ASCII digits, zero-padded on the left.
func AppendN(dst []byte, v uint64, n int) []byte {
	l := len(dst)
	dst = grow(dst, n)
	for i := l + n - 1; i >= l; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}

// AppendNDigits appends s, a string of digits, right-aligned and zero-padded
// to n bytes (cut to its last n digits when longer). Bytes of s that are not
// digits are written as '0'. It serves N fields too long for a uint64
// (GW_ID, N20) and times (N14).
func AppendNDigits(dst []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	l := len(dst)
	dst = grow(dst, n)
	pad := n - len(s)
	for i := 0; i < pad; i++ {
		dst[l+i] = '0'
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			c = '0'
		}
		dst[l+pad+i] = c
	}
	return dst
}

// AppendAN appends s left-aligned in n bytes, padded with spaces, cut to n.
func AppendAN(dst []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[:n]
	}
	dst = append(dst, s...)
	return pad(dst, n-len(s))
}

// AppendK appends EUC-KR text s left-aligned in n bytes, padded with spaces,
// cut to n bytes without splitting a two-byte character.
func AppendK(dst []byte, s string, n int) []byte {
	if len(s) > n {
		s = cutString(s, n)
	}
	dst = append(dst, s...)
	return pad(dst, n-len(s))
}

// AppendKBytes is AppendK for a byte slice.
func AppendKBytes(dst []byte, b []byte, n int) []byte {
	b = CutEUCKR(b, n)
	dst = append(dst, b...)
	return pad(dst, n-len(b))
}

func cutString(s string, n int) string {
	i := 0
	for i < n && i < len(s) {
		w := 1
		if s[i] >= 0x80 {
			w = 2
		}
		if i+w > n {
			break
		}
		i += w
	}
	return s[:i]
}

// CutEUCKRString is CutEUCKR for a string.
func CutEUCKRString(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	return cutString(s, n)
}

const spaces = "                                                                "

func pad(dst []byte, n int) []byte {
	for n > 0 {
		k := min(n, len(spaces))
		dst = append(dst, spaces[:k]...)
		n -= k
	}
	return dst
}

func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}
