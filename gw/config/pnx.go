package config

import (
	"io"
	"os"
	"slices"
)

// PNX is the seed of the number-portability table (etc/pnx.conf): which
// carrier serves a destination. One entry a line,
//
//	# number or prefix   carrier
//	default              KT
//	011                  SKT
//	01012345678          LGT
//
// The longest matching prefix wins, so a full number (a ported subscriber)
// beats its prefix; "default" names the carrier of numbers nothing matches.
// Exactly one default line is required. Carriers: KT, SKT, LGT.
type PNX struct {
	Default  string
	prefixes map[string]string
	lens     []int // distinct prefix lengths, longest first
}

// Carrier returns the carrier of dest.
func (p *PNX) Carrier(dest string) string {
	for _, l := range p.lens {
		if l <= len(dest) {
			if c, ok := p.prefixes[dest[:l]]; ok {
				return c
			}
		}
	}
	return p.Default
}

// Len is the number of prefix entries.
func (p *PNX) Len() int { return len(p.prefixes) }

// LoadPNX reads a pnx.conf; name is how errors name the file.
func LoadPNX(path, name string) (*PNX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	defer f.Close()
	return ParsePNX(f, name)
}

// ParsePNX parses pnx.conf text.
func ParsePNX(r io.Reader, name string) (*PNX, error) {
	p := &PNX{prefixes: map[string]string{}}
	lines := map[string]int{}
	defLine := 0
	e := &errs{file: name}
	err := eachLine(r, func(n int, f []string) {
		if len(f) != 2 {
			e.line(n, "", "want \"number-or-prefix carrier\", got %d field(s)", len(f))
			return
		}
		if !slices.Contains(Carriers, f[1]) {
			e.line(n, "carrier", "%q: one of KT, SKT, LGT", f[1])
			return
		}
		if f[0] == "default" {
			if defLine != 0 {
				e.line(n, "default", "given twice (first on line %d)", defLine)
				return
			}
			p.Default, defLine = f[1], n
			return
		}
		if !isDigits(f[0]) || len(f[0]) > 16 {
			e.line(n, "number", "%q: digits only, 1 to 16 of them, or \"default\"", f[0])
			return
		}
		if l, dup := lines[f[0]]; dup {
			e.line(n, "number", "%s is already on line %d", f[0], l)
			return
		}
		lines[f[0]] = n
		p.prefixes[f[0]] = f[1]
		if !slices.Contains(p.lens, len(f[0])) {
			p.lens = append(p.lens, len(f[0]))
		}
	})
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	if defLine == 0 {
		e.line(0, "default", "missing: add a line \"default KT\" (the carrier of numbers no line matches)")
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	slices.Sort(p.lens)
	slices.Reverse(p.lens)
	return p, nil
}
