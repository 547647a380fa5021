package config

import "fmt"

// Client is one client system allowed to BIND (etc/clients.toml).
type Client struct {
	ID       string `toml:"id"`       // CLIENT_ID of BIND, at most 10 characters
	Name     string `toml:"name"`     // for operators
	Password string `toml:"password"` // a hash made by HashPassword (m1passwd)
	TPS      int    `toml:"tps"`      // SUBMITs per second; 0 = eai_lsnr.default_tps
}

// Clients is the client registry.
type Clients struct {
	List []Client `toml:"client"`
	byID map[string]int
}

// Get returns the client with the given id.
func (c *Clients) Get(id string) (Client, bool) {
	if c == nil {
		return Client{}, false
	}
	i, ok := c.byID[id]
	if !ok {
		return Client{}, false
	}
	return c.List[i], true
}

// Authenticate reports whether id is a client and password its password.
// An unknown id costs the same hash as a known one, so that timing does not
// tell which client ids exist.
func (c *Clients) Authenticate(id, password string) bool {
	cl, ok := c.Get(id)
	if !ok {
		CheckPassword(dummyHash, password)
		return false
	}
	return CheckPassword(cl.Password, password)
}

// dummyHash is hashed against for unknown clients; its password is
// unknowable and irrelevant, only its cost matters.
const dummyHash = "pbkdf2-sha256$100000$EU+l4n+oE8ViCl2151jb2g$tmiRt72S0O+VP+1iQ7+tVM8BMoDjeEe5IV8awFh6eWE"

// isANField reports whether s fits an AN field of n bytes: printable ASCII,
// no spaces (trailing spaces are padding, so a value cannot hold them).
func isANField(s string, n int) bool {
	if len(s) == 0 || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (c *Clients) validate(e *errs) {
	c.byID = map[string]int{}
	for i, cl := range c.List {
		p := fmt.Sprintf("client[%d]", i)
		switch {
		case cl.ID == "":
			e.at(p+".id", "client.id", "missing")
		case !isANField(cl.ID, 10):
			e.at(p+".id", "client.id", "%q: 1 to 10 printable ASCII characters without spaces", cl.ID)
		default:
			if j, dup := c.byID[cl.ID]; dup {
				e.at(p+".id", "client.id", "%q: defined twice (also client number %d)", cl.ID, j+1)
			}
			c.byID[cl.ID] = i
		}
		if err := ValidateHash(cl.Password); err != nil {
			e.at(p+".password", "client.password", "%s: %v", cl.ID, err)
		}
		if cl.TPS < 0 {
			e.at(p+".tps", "client.tps", "%s: must be 0 (the default) or more (got %d)", cl.ID, cl.TPS)
		}
	}
}
