package sim

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
)

// Server is one listening SMS center.
type Server struct {
	Name    string // KT1, KT2, SKT1, SKT2, LG: in Stats and DROP
	Addr    string // host:port; port 0 picks one (see Sim.Addr)
	Dialect carrier.Dialect
}

// Mix is the share of each report result, in percent; what is left to
// 100 is delivered.
type Mix struct {
	UnknownSub int `json:"unknown_sub"` // 3001
	Expired    int `json:"expired"`     // 3002
	Spam       int `json:"spam"`        // 3003
}

// Config is a simulator's configuration.
type Config struct {
	Servers        []Server
	AckLatency     time.Duration // before each SubmitResp
	ReportDelayMin time.Duration // reports come after a delay uniform in [min, max]
	ReportDelayMax time.Duration
	Mix            Mix
	// TPS is each server's ceiling: submits beyond it within one second
	// are answered with the dialect's throttling code. 0: none.
	TPS int
	// DropProb is the chance, per submit, that the server drops the link
	// right after reading it (the submit unanswered).
	DropProb float64
	// Accounts, when set, are the only logins accepted (login → password).
	Accounts map[string]string
	// RelayID is what the LG relay calls itself (default "RLY00001").
	RelayID string
	Seed    uint64
	Log     *zap.Logger
}

func (c *Config) check() error {
	if len(c.Servers) == 0 {
		return errors.New("sim: no servers")
	}
	m := c.Mix
	if m.UnknownSub < 0 || m.Expired < 0 || m.Spam < 0 || m.UnknownSub+m.Expired+m.Spam > 100 {
		return fmt.Errorf("sim: result mix %+v: want percentages summing to at most 100", m)
	}
	if c.ReportDelayMax < c.ReportDelayMin {
		c.ReportDelayMax = c.ReportDelayMin
	}
	if c.RelayID == "" {
		c.RelayID = "RLY00001"
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return nil
}
