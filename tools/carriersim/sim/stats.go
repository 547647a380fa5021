package sim

import (
	"sync"
	"sync/atomic"
)

// Stats are the simulator's counters.
type Stats struct {
	Received       uint64                 `json:"received"`        // submits read
	Unique         uint64                 `json:"unique"`          // distinct references among them
	DupSubmits     uint64                 `json:"dup_submits"`     // submits of a reference already received
	DupMessages    uint64                 `json:"dup_messages"`    // references received more than once
	Accepted       uint64                 `json:"accepted"`        // submits answered accepted
	Throttled      uint64                 `json:"throttled"`       // submits answered with the throttling code
	ReportsSent    uint64                 `json:"reports_sent"`    // reports written (resends included)
	ReportsResent  uint64                 `json:"reports_resent"`  // reports sent again after their connection ended
	ReportsAcked   uint64                 `json:"reports_acked"`   // report responses read
	ReportsPending uint64                 `json:"reports_pending"` // reports due and not yet answered
	ReportsByCode  map[string]uint64      `json:"reports_by_code"` // PROTOCOL.md code → reports drawn
	Logins         uint64                 `json:"logins"`
	LoginsRefused  uint64                 `json:"logins_refused"`
	Drops          uint64                 `json:"drops"`          // links dropped on command or at random
	Links          int                    `json:"links"`          // connections logged in now
	MaxUnanswered  int64                  `json:"max_unanswered"` // most submits one connection had unanswered at once
	Servers        map[string]ServerStats `json:"servers"`
}

// ServerStats are one server's counters.
type ServerStats struct {
	Logins   uint64 `json:"logins"`
	Received uint64 `json:"received"`
	Links    int    `json:"links"`
}

type counters struct {
	received, accepted, throttled            atomic.Uint64
	reportsSent, reportsResent, reportsAcked atomic.Uint64
	logins, loginsRefused, drops             atomic.Uint64
	byCode                                   [4]atomic.Uint64 // 0000 3001 3002 3003
	maxOpen                                  atomic.Int64
}

// noteOpen keeps the most submits one connection had unanswered.
func (c *counters) noteOpen(n int64) {
	for {
		m := c.maxOpen.Load()
		if n <= m || c.maxOpen.CompareAndSwap(m, n) {
			return
		}
	}
}

// refs counts submits per reference.
type refs struct {
	mu          sync.Mutex
	seen        map[string]uint32
	dupSubmits  uint64
	dupMessages uint64
}

func (r *refs) add(ref string) {
	r.mu.Lock()
	n := r.seen[ref]
	if n > 0 {
		r.dupSubmits++
		if n == 1 {
			r.dupMessages++
		}
	}
	r.seen[ref] = n + 1
	r.mu.Unlock()
}
