package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Routes is etc/routes.toml: which senders carry which messages.
//
// A route matches on client, job class, destination carrier and a
// destination pattern; an empty value or "*" matches anything. When several
// routes match, the most specific wins, judged field by field in this
// order: a named client beats any client; then the longer destination
// prefix; then a named carrier; then a named class; and between equals the
// one earlier in the file. So a bank's own route always beats a general
// one, which is what an operations team expects when it adds a line for one
// client.
type Routes struct {
	List []Route `toml:"route"`
}

// Route is one [[route]] of routes.toml.
type Route struct {
	Name    string `toml:"name"`    // for logs and operators
	Client  string `toml:"client"`  // CLIENT_ID, or "" / "*"
	Class   string `toml:"class"`   // R, B, S, or "" / "*"
	Carrier string `toml:"carrier"` // KT, SKT, LGT, or "" / "*"
	Dest    string `toml:"dest"`    // "010*" (prefix), "01012345678" (one number), or "" / "*"
	Senders string `toml:"senders"` // "KT1=1, KT2=0"

	// Ratios is Senders parsed, in the order written.
	Ratios []Ratio `toml:"-"`
}

// Ratio is one sender of a route and its share.
//
//   - Ratio > 0: a share of the traffic, by smooth weighted round robin among
//     the ratio > 0 senders that are up;
//   - Ratio 0: used only while every ratio > 0 sender of the route is down;
//   - Ratio -1: never used, not even on failover.
type Ratio struct {
	Sender string
	Ratio  int
}

// ParseRatios parses "KT1=1, KT2=0" (commas or spaces between entries).
func ParseRatios(s string) ([]Ratio, error) {
	var out []Ratio
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		id, val, ok := strings.Cut(part, "=")
		if !ok || id == "" {
			return nil, fmt.Errorf("%q: want SENDER=RATIO, e.g. KT1=1", part)
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("%q: the ratio is a whole number, -1 or more", part)
		}
		if slices.ContainsFunc(out, func(r Ratio) bool { return r.Sender == id }) {
			return nil, fmt.Errorf("sender %s named twice", id)
		}
		out = append(out, Ratio{Sender: id, Ratio: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no senders: write e.g. \"KT1=1, KT2=0\"")
	}
	return out, nil
}

func anyValue(s string) bool { return s == "" || s == "*" }

// matches reports whether r matches the message.
func (r *Route) matches(client, class, carrier, dest string) bool {
	if !anyValue(r.Client) && r.Client != client {
		return false
	}
	if !anyValue(r.Class) && r.Class != class {
		return false
	}
	if !anyValue(r.Carrier) && r.Carrier != carrier {
		return false
	}
	if anyValue(r.Dest) {
		return true
	}
	if p, ok := strings.CutSuffix(r.Dest, "*"); ok {
		return strings.HasPrefix(dest, p)
	}
	return dest == r.Dest
}

// rank orders routes by specificity (see Routes).
func (r *Route) rank() [4]int {
	var k [4]int
	if !anyValue(r.Client) {
		k[0] = 1
	}
	if !anyValue(r.Dest) {
		k[1] = len(strings.TrimSuffix(r.Dest, "*")) + 1
		if !strings.HasSuffix(r.Dest, "*") {
			k[1] += 100 // one exact number beats every prefix
		}
	}
	if !anyValue(r.Carrier) {
		k[2] = 1
	}
	if !anyValue(r.Class) {
		k[3] = 1
	}
	return k
}

// Match returns the most specific route for a message, or nil.
func (rs *Routes) Match(client, class, carrier, dest string) *Route {
	var best *Route
	var bestRank [4]int
	for i := range rs.List {
		r := &rs.List[i]
		if !r.matches(client, class, carrier, dest) {
			continue
		}
		if k := r.rank(); best == nil || slices.Compare(k[:], bestRank[:]) > 0 {
			best, bestRank = r, k
		}
	}
	return best
}

func (rs *Routes) validate(e *errs, senders map[string]bool, clients *Clients, cbs *Callbacks) {
	for i := range rs.List {
		r := &rs.List[i]
		p := fmt.Sprintf("route[%d]", i)
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("route %d", i+1)
		}
		if !anyValue(r.Client) {
			// T41 clients never BIND, so clients.toml may not know them;
			// but every client that sends has callback numbers.
			if _, ok := clients.Get(r.Client); !ok && cbs.Numbers(r.Client) == 0 {
				e.at(p+".client", "route.client", "%s: client %q is neither in clients.toml nor in callbacks.conf", name, r.Client)
			}
		}
		if !anyValue(r.Class) && r.Class != "R" && r.Class != "B" && r.Class != "S" {
			e.at(p+".class", "route.class", "%s: %q: R, B, S or \"*\"", name, r.Class)
		}
		if !anyValue(r.Carrier) && !slices.Contains(Carriers, r.Carrier) {
			e.at(p+".carrier", "route.carrier", "%s: %q: KT, SKT, LGT or \"*\"", name, r.Carrier)
		}
		if !anyValue(r.Dest) {
			d := strings.TrimSuffix(r.Dest, "*")
			if !isDigits(d) || len(d) > 16 {
				e.at(p+".dest", "route.dest", "%s: %q: digits with an optional trailing \"*\", or \"*\"", name, r.Dest)
			}
		}
		ratios, err := ParseRatios(r.Senders)
		if err != nil {
			e.at(p+".senders", "route.senders", "%s: %v", name, err)
			continue
		}
		usable := false
		for _, rt := range ratios {
			if !senders[rt.Sender] {
				e.at(p+".senders", "route.senders", "%s: sender %q is not a [[sender]] of m1.toml", name, rt.Sender)
			}
			if rt.Ratio >= 0 {
				usable = true
			}
		}
		if !usable {
			e.at(p+".senders", "route.senders", "%s: every sender is -1 (never used): the route can send nothing", name)
		}
		r.Ratios = ratios
	}
	// Every message must find a route: each carrier needs one that does
	// not depend on client, class or destination.
	for _, c := range Carriers {
		if !slices.ContainsFunc(rs.List, func(r Route) bool {
			return anyValue(r.Client) && anyValue(r.Class) && anyValue(r.Dest) && (anyValue(r.Carrier) || r.Carrier == c)
		}) {
			e.at("", "route", "no catch-all route for carrier %s: add a [[route]] with carrier = %q and no client, class or dest", c, c)
		}
	}
}
