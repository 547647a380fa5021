package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/BurntSushi/toml"
)

// The files of etc/, relative to the home.
const (
	ClientsFile   = "etc/clients.toml"
	DedicatedFile = "etc/dedicated.conf"
	CallbacksFile = "etc/callbacks.conf"
	RoutesFile    = "etc/routes.toml"
	PNXFile       = "etc/pnx.conf"
)

// Load reads and validates every file of home's etc/. On error it returns
// Errors listing every problem found, each naming its file, line and
// setting; no partial Config is returned.
func Load(home string) (*Config, error) {
	h, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("M1 home %s: %w", home, err)
	}
	var all Errors
	add := func(err error) {
		var es Errors
		var e *Error
		switch {
		case err == nil:
		case errors.As(err, &es):
			all = append(all, es...)
		case errors.As(err, &e):
			all = append(all, e)
		default:
			all = append(all, &Error{File: "etc", Msg: err.Error(), Err: err})
		}
	}

	c := defaults()
	c.Home = h
	lines, err := decodeFile(h, MainFile, c)
	add(err)
	if err == nil {
		c.lines = lines
		c.fillDefaults()
		e := &errs{file: MainFile, lines: lines}
		c.validate(e)
		add(e.err())
	}

	clients := &Clients{}
	clines, err := decodeFile(h, ClientsFile, clients)
	add(err)
	if err == nil {
		e := &errs{file: ClientsFile, lines: clines}
		clients.validate(e)
		add(e.err())
	}
	c.Clients = clients

	c.Dedicated, err = LoadDedicated(filepath.Join(h, DedicatedFile), DedicatedFile)
	add(err)
	c.Callbacks, err = LoadCallbacks(filepath.Join(h, CallbacksFile), CallbacksFile)
	add(err)
	c.PNX, err = LoadPNX(filepath.Join(h, PNXFile), PNXFile)
	add(err)

	routes := &Routes{}
	rlines, err := decodeFile(h, RoutesFile, routes)
	add(err)
	if err == nil && len(all) == 0 {
		e := &errs{file: RoutesFile, lines: rlines}
		senders := map[string]bool{}
		for _, s := range c.Senders {
			senders[s.ID] = true
		}
		routes.validate(e, senders, clients, c.Callbacks)
		add(e.err())
	}
	c.Routes = routes

	if len(all) == 0 {
		c.crossCheck(add)
	}
	if len(all) > 0 {
		return nil, all
	}
	return c, nil
}

// decodeFile decodes a TOML file of the home into v and refuses keys that v
// has no place for: a misspelt setting must not be silently ignored.
func decodeFile(home, rel string, v any) (*lineIndex, error) {
	data, err := os.ReadFile(filepath.Join(home, rel))
	if err != nil {
		return nil, &Error{File: rel, Msg: err.Error(), Err: err}
	}
	src := string(data)
	md, err := toml.Decode(src, v)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.Usage != "" {
				msg += " (" + strings.TrimSpace(strings.SplitN(pe.Usage, "\n", 2)[0]) + ")"
			}
			return nil, &Error{File: rel, Line: pe.Position.Line, Setting: pe.LastKey, Msg: msg, Err: err}
		}
		if m := decodeErrRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: rel, Line: line, Setting: m[2], Msg: m[3], Err: err}
		}
		return nil, &Error{File: rel, Msg: err.Error(), Err: err}
	}
	lines := newLineIndex(src)
	var es Errors
	seen := map[string]int{}
	undecoded := md.Undecoded()
	for i, k := range undecoded {
		ks := k.String()
		// An unknown table is reported by its keys, not twice.
		if i+1 < len(undecoded) && strings.HasPrefix(undecoded[i+1].String(), ks+".") {
			continue
		}
		line := lines.plainLine(ks, seen[ks])
		seen[ks]++
		es = append(es, &Error{File: rel, Line: line, Setting: ks, Msg: "unknown setting"})
	}
	if len(es) > 0 {
		return nil, es
	}
	return lines, nil
}

// decodeErrRE takes apart the type errors BurntSushi/toml reports as plain
// errors: `toml: line 188 (last key "eai_lsnr.sms_max"): incompatible ...`.
var decodeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// crossCheck checks what spans files.
func (c *Config) crossCheck(add func(error)) {
	e := &errs{file: DedicatedFile}
	dedicatedPorts := map[int]bool{}
	for _, p := range c.Listener.Ports {
		if p.Mode == ModeDedicated {
			dedicatedPorts[p.PortNumber()] = true
		}
	}
	for _, d := range c.Dedicated.Entries {
		if !dedicatedPorts[d.Port] {
			e.line(d.Line, "server port", "%d is not a dedicated port of [[eai_lsnr.port]] in m1.toml", d.Port)
		}
		if _, ok := c.Clients.Get(d.ClientID); !ok {
			e.line(d.Line, "client ID", "%q is not in clients.toml", d.ClientID)
		}
	}
	add(e.err())
}

// Holder holds the configuration in force and swaps in a new one only when
// it loads and validates: on SIGHUP a daemon calls Reload, and on error the
// old configuration stays in force.
type Holder struct {
	home string
	cur  atomic.Pointer[Config]
}

// NewHolder loads home's configuration.
func NewHolder(home string) (*Holder, error) {
	c, err := Load(home)
	if err != nil {
		return nil, err
	}
	h := &Holder{home: home}
	h.cur.Store(c)
	return h, nil
}

// Get returns the configuration in force. It is never modified; callers may
// keep it for as long as they like.
func (h *Holder) Get() *Config { return h.cur.Load() }

// Load reads the configuration again without putting it in force.
func (h *Holder) Load() (*Config, error) { return Load(h.home) }

// Set puts c in force (after the daemon accepted it).
func (h *Holder) Set(c *Config) { h.cur.Store(c) }

// Reload reads the configuration again and puts it in force when valid. On
// error the configuration in force does not change.
func (h *Holder) Reload() (*Config, error) {
	c, err := Load(h.home)
	if err != nil {
		return nil, err
	}
	h.cur.Store(c)
	return c, nil
}
