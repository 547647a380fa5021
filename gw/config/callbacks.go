package config

import (
	"io"
	"os"
)

// Callbacks is the registry of callback numbers (발신번호 사전등록) each client
// may send from (etc/callbacks.conf): one line per client or per number,
//
//	# client ID   callback numbers...
//	DEMO01        0215880000 0222223333
//	DEMO01        16449999
//
// Lines of the same client add up. Numbers are digits only, 1 to 16 long.
type Callbacks struct {
	byClient map[string]map[string]int // client → number → line
}

// Allowed reports whether client may send with callback number.
func (c *Callbacks) Allowed(client, number string) bool {
	if c == nil {
		return false
	}
	_, ok := c.byClient[client][number]
	return ok
}

// Numbers returns how many numbers are registered for client.
func (c *Callbacks) Numbers(client string) int {
	if c == nil {
		return 0
	}
	return len(c.byClient[client])
}

// LoadCallbacks reads a callbacks.conf; name is how errors name the file.
func LoadCallbacks(path, name string) (*Callbacks, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	defer f.Close()
	return ParseCallbacks(f, name)
}

// ParseCallbacks parses callbacks.conf text.
func ParseCallbacks(r io.Reader, name string) (*Callbacks, error) {
	c := &Callbacks{byClient: map[string]map[string]int{}}
	e := &errs{file: name}
	err := eachLine(r, func(n int, f []string) {
		if len(f) < 2 {
			e.line(n, "", "want \"client-ID number...\", got %d field(s)", len(f))
			return
		}
		if !isANField(f[0], 10) {
			e.line(n, "client ID", "%q: 1 to 10 printable ASCII characters", f[0])
			return
		}
		m := c.byClient[f[0]]
		if m == nil {
			m = map[string]int{}
			c.byClient[f[0]] = m
		}
		for _, num := range f[1:] {
			if !isDigits(num) || len(num) > 16 {
				e.line(n, "callback number", "%q: digits only, 1 to 16 of them", num)
				continue
			}
			if _, dup := m[num]; !dup {
				m[num] = n
			}
		}
	})
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return c, nil
}
