package config

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Dedicated is the registry of dedicated listener ports (etc/dedicated.conf,
// PROTOCOL.md "Listener modes"): one line per entry,
//
//	# client IP     server port   client ID
//	10.1.2.3        9002          BANK01
//
// fields separated by spaces or tabs, '#' starts a comment. An IP may appear
// on several ports; an (IP, port) pair only once.
type Dedicated struct {
	Entries []DedicatedEntry
	byAddr  map[dedKey]int
}

// DedicatedEntry is one line of dedicated.conf.
type DedicatedEntry struct {
	IP       netip.Addr
	Port     int
	ClientID string
	Line     int
}

type dedKey struct {
	ip   netip.Addr
	port int
}

// Lookup returns the client registered for a connection from ip to the
// server port, if any.
func (d *Dedicated) Lookup(ip netip.Addr, port int) (string, bool) {
	if d == nil {
		return "", false
	}
	i, ok := d.byAddr[dedKey{ip.Unmap(), port}]
	if !ok {
		return "", false
	}
	return d.Entries[i].ClientID, true
}

// LoadDedicated reads a dedicated.conf. eai_lsnr calls it again when an
// unknown address connects, so a line added while it runs takes effect.
// name is how errors name the file (e.g. "etc/dedicated.conf").
func LoadDedicated(path, name string) (*Dedicated, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	defer f.Close()
	return ParseDedicated(f, name)
}

// ParseDedicated parses dedicated.conf text.
func ParseDedicated(r io.Reader, name string) (*Dedicated, error) {
	d := &Dedicated{byAddr: map[dedKey]int{}}
	e := &errs{file: name}
	err := eachLine(r, func(n int, fields []string) {
		if len(fields) != 3 {
			e.line(n, "", "want 3 fields \"client-IP server-port client-ID\", got %d", len(fields))
			return
		}
		ip, err := netip.ParseAddr(fields[0])
		if err != nil {
			e.line(n, "client IP", "%q is not an IP address", fields[0])
			return
		}
		port, err := strconv.Atoi(fields[1])
		if err != nil || port < 1 || port > 65535 {
			e.line(n, "server port", "%q is not a port number 1-65535", fields[1])
			return
		}
		if !isANField(fields[2], 10) {
			e.line(n, "client ID", "%q: 1 to 10 printable ASCII characters", fields[2])
			return
		}
		k := dedKey{ip.Unmap(), port}
		if j, dup := d.byAddr[k]; dup {
			e.line(n, "", "%s port %d is already registered on line %d", ip, port, d.Entries[j].Line)
			return
		}
		d.byAddr[k] = len(d.Entries)
		d.Entries = append(d.Entries, DedicatedEntry{IP: ip.Unmap(), Port: port, ClientID: fields[2], Line: n})
	})
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// eachLine calls fn with the fields of every line that is not blank or a
// comment; n is the 1-based line number.
func eachLine(r io.Reader, fn func(n int, fields []string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		fn(n, fields)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}
