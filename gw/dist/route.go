package dist

import (
	"github.com/m1gw/m1/gw/config"
)

// router holds the routes in force and the smooth weighted round robin
// state of each. It is rebuilt from scratch on every configuration change,
// so a reload starts every route's rotation afresh.
type router struct {
	cfg    *config.Config
	ids    []string       // sender ids, in m1.toml order
	queues []string       // queue name of each sender
	index  map[string]int // sender id → index in ids
	routes map[*config.Route]*routeState
	// learned is the numbers PNX learned from carrier reports (dist's
	// copy, kept across reloads); nil: none.
	learned *learnedPNX
}

// routeState is one route's senders and their current weights (nginx's
// smooth weighted round robin).
type routeState struct {
	members []member
}

type member struct {
	sender  int
	ratio   int
	current int
}

func newRouter(cfg *config.Config) *router {
	r := &router{cfg: cfg, index: map[string]int{}, routes: map[*config.Route]*routeState{}}
	for _, s := range cfg.Senders {
		r.index[s.ID] = len(r.ids)
		r.ids = append(r.ids, s.ID)
		q := s.Queue
		if q == "" {
			q = "SND." + s.ID
		}
		r.queues = append(r.queues, q)
	}
	if cfg.Routes != nil {
		for i := range cfg.Routes.List {
			rt := &cfg.Routes.List[i]
			st := &routeState{}
			ratios := rt.Ratios
			if ratios == nil {
				ratios, _ = config.ParseRatios(rt.Senders)
			}
			for _, ra := range ratios {
				if j, ok := r.index[ra.Sender]; ok {
					st.members = append(st.members, member{sender: j, ratio: ra.Ratio})
				}
			}
			r.routes[rt] = st
		}
	}
	return r
}

// carrier resolves a destination's carrier: the numbers PNX learned from
// carrier reports first, then etc/pnx.conf.
func (r *router) carrier(dest string) string {
	if r.learned != nil {
		if c, ok := r.learned.carrier(dest); ok {
			return c
		}
	}
	if r.cfg.PNX == nil {
		return config.CarrierKT
	}
	return r.cfg.PNX.Carrier(dest)
}

// route returns the state of the route that matches, or nil.
func (r *router) route(client, class, carrier, dest string) (*config.Route, *routeState) {
	if r.cfg.Routes == nil {
		return nil, nil
	}
	rt := r.cfg.Routes.Match(client, class, carrier, dest)
	if rt == nil {
		return nil, nil
	}
	return rt, r.routes[rt]
}

// pick chooses a sender of the route among those up: the ratio > 0 ones by
// smooth weighted round robin; when none of them is up, the first ratio 0
// sender that is up, in the order written; ratio -1 never. It returns -1
// when no sender can take the record.
func (st *routeState) pick(up []bool) int {
	if st == nil {
		return -1
	}
	total, best := 0, -1
	for i := range st.members {
		m := &st.members[i]
		if m.ratio <= 0 || !up[m.sender] {
			continue
		}
		m.current += m.ratio
		total += m.ratio
		if best < 0 || m.current > st.members[best].current {
			best = i
		}
	}
	if best >= 0 {
		st.members[best].current -= total
		return st.members[best].sender
	}
	for _, m := range st.members {
		if m.ratio == 0 && up[m.sender] {
			return m.sender
		}
	}
	return -1
}
