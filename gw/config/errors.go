package config

import (
	"fmt"
	"strings"
)

// Error is one configuration error. It names the file (relative to M1_HOME
// when the file is under it), the line, and the setting, so that an operator
// can go straight to it: "etc/m1.toml:57: queue.capacity: DIST.R: must be at
// least 1 (got 0)".
type Error struct {
	File    string // e.g. "etc/m1.toml"
	Line    int    // 1-based; 0 when the setting is absent from the file
	Setting string // e.g. "queue.capacity"; empty for a whole line or file
	Msg     string
	Err     error // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Setting != "" {
		b.WriteString(e.Setting)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every error found in one load, in file order. Load reports them
// all at once so that an operator fixes a file in one pass.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find the first *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errs collects errors for one file.
type errs struct {
	file  string
	lines *lineIndex // nil for line-based files
	list  Errors
}

// at records an error for the setting at path (e.g. "queue[2].capacity"),
// shown to the operator as setting (e.g. "queue.capacity").
func (c *errs) at(path, setting, format string, args ...any) {
	line := 0
	if c.lines != nil {
		line = c.lines.lookup(path)
	}
	c.list = append(c.list, &Error{File: c.file, Line: line, Setting: setting, Msg: fmt.Sprintf(format, args...)})
}

// line records an error for a line of a line-based file.
func (c *errs) line(n int, setting, format string, args ...any) {
	c.list = append(c.list, &Error{File: c.file, Line: n, Setting: setting, Msg: fmt.Sprintf(format, args...)})
}

func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}
