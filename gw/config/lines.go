package config

import (
	"fmt"
	"strings"
)

// lineIndex finds the line of a TOML setting. BurntSushi/toml reports the
// line of a syntax or type error but keeps the positions of the keys it
// decoded to itself, so errors found after decoding (a capacity of 0, a
// sender that does not exist) need their own map from setting to line.
//
// Paths carry array-of-table indices: "queue[2].capacity",
// "eai_lsnr.port[0].mode". A table header is indexed too ("queue[2]"), so
// a setting that is absent is reported at its table.
type lineIndex struct {
	byPath  map[string]int
	byPlain map[string][]int // path without indices → lines in file order
}

func newLineIndex(src string) *lineIndex {
	ix := &lineIndex{byPath: map[string]int{}, byPlain: map[string][]int{}}
	arrays := map[string]int{} // plain table path → current index
	cur, curPlain := "", ""
	var sc tomlScanner
	for n, raw := range strings.Split(src, "\n") {
		lineNo := n + 1
		if !sc.clean() {
			sc.scan(raw)
			continue
		}
		s := strings.TrimSpace(raw)
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			end := strings.Index(s, "]]")
			if end < 0 {
				continue
			}
			segs := splitKey(s[2:end])
			plain := strings.Join(segs, ".")
			if _, ok := arrays[plain]; ok {
				arrays[plain]++
			} else {
				arrays[plain] = 0
			}
			for k := range arrays { // nested arrays restart under a new element
				if strings.HasPrefix(k, plain+".") {
					delete(arrays, k)
				}
			}
			cur, curPlain = indexed(segs, arrays), plain
			ix.add(cur, curPlain, lineNo)
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				continue
			}
			segs := splitKey(s[1:end])
			cur, curPlain = indexed(segs, arrays), strings.Join(segs, ".")
			ix.add(cur, curPlain, lineNo)
		default:
			eq := keyEnd(s)
			if eq < 0 {
				continue
			}
			key := strings.Join(splitKey(s[:eq]), ".")
			ix.add(join(cur, key), join(curPlain, key), lineNo)
			sc.scan(s[eq+1:])
		}
	}
	return ix
}

func (ix *lineIndex) add(path, plain string, line int) {
	if _, ok := ix.byPath[path]; !ok {
		ix.byPath[path] = line
	}
	ix.byPlain[plain] = append(ix.byPlain[plain], line)
}

// lookup returns the line of path, or of the nearest enclosing table that
// is in the file; 0 when none is.
func (ix *lineIndex) lookup(path string) int {
	if ix == nil {
		return 0
	}
	for path != "" {
		if l, ok := ix.byPath[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// plainLine returns the line of the nth occurrence of a path without
// indices, as toml.MetaData.Undecoded reports keys.
func (ix *lineIndex) plainLine(plain string, nth int) int {
	ls := ix.byPlain[plain]
	if nth < len(ls) {
		return ls[nth]
	}
	if len(ls) > 0 {
		return ls[len(ls)-1]
	}
	return 0
}

func indexed(segs []string, arrays map[string]int) string {
	var b strings.Builder
	plain := ""
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
		plain = join(plain, s)
		if idx, ok := arrays[plain]; ok {
			fmt.Fprintf(&b, "[%d]", idx)
		}
	}
	return b.String()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// splitKey splits a dotted TOML key, removing quotes and spaces.
func splitKey(k string) []string {
	var segs []string
	for _, p := range strings.Split(k, ".") {
		p = strings.TrimSpace(p)
		p = strings.Trim(p, `"'`)
		segs = append(segs, p)
	}
	return segs
}

// keyEnd returns the index of the '=' that ends a key at the start of s, or
// -1 when s does not start with a key.
func keyEnd(s string) int {
	inQ := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQ != 0:
			if c == inQ {
				inQ = 0
			}
		case c == '"' || c == '\'':
			inQ = c
		case c == '=':
			return i
		case c == '_' || c == '-' || c == '.' || c == ' ' || c == '\t' ||
			c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
		default:
			return -1
		}
	}
	return -1
}

// tomlScanner follows values that span lines (arrays, inline tables,
// multi-line strings) so that their inner lines are not taken for keys.
type tomlScanner struct {
	depth int    // open [ and {
	ml    string // open multi-line string delimiter
}

func (t *tomlScanner) clean() bool { return t.depth == 0 && t.ml == "" }

func (t *tomlScanner) scan(s string) {
	for i := 0; i < len(s); i++ {
		if t.ml != "" {
			if strings.HasPrefix(s[i:], t.ml) {
				i += len(t.ml) - 1
				t.ml = ""
			}
			continue
		}
		switch c := s[i]; c {
		case '#':
			return
		case '[', '{':
			t.depth++
		case ']', '}':
			if t.depth > 0 {
				t.depth--
			}
		case '"', '\'':
			if strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], `'''`) {
				t.ml = s[i : i+3]
				i += 2
				continue
			}
			for j := i + 1; j < len(s); j++ {
				if c == '"' && s[j] == '\\' {
					j++
					continue
				}
				if s[j] == c {
					i = j
					break
				}
			}
		}
	}
}
