package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/carrier"
	"github.com/m1gw/m1/gw/telegram"
)

// Sim is a running simulator.
type Sim struct {
	cfg     Config
	log     *zap.Logger
	servers []*server
	c       counters
	refs    refs

	mu       sync.Mutex
	accounts map[string]*account
	rng      *rand.Rand
	ctl      net.Listener
	ctlConns map[net.Conn]struct{}

	ids    atomic.Uint64 // message ids, unique across servers (accounts span them)
	closed atomic.Bool
	wg     sync.WaitGroup // accept loops, connection loops, control loops
}

type server struct {
	sim  *Sim
	name string
	d    carrier.Dialect
	ln   net.Listener

	// refuseUntil (Unix nanoseconds): logins are refused until then, as a
	// center that is down for a while (Refuse).
	refuseUntil atomic.Int64

	mu     sync.Mutex
	conns  map[*conn]struct{}
	logins uint64
	recvd  uint64
	second int64 // unix second of the TPS window
	inSec  int   // accepted submits in that second
	links  int
}

// New starts a simulator: it listens on every server's address at once.
func New(cfg Config) (*Sim, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, log: cfg.Log, accounts: map[string]*account{}, ctlConns: map[net.Conn]struct{}{},
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	s.refs.seen = map[string]uint32{}
	for _, sc := range cfg.Servers {
		if sc.Dialect == nil {
			s.Close()
			return nil, fmt.Errorf("sim: server %s: no dialect", sc.Name)
		}
		ln, err := net.Listen("tcp", sc.Addr)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sim: server %s: %w", sc.Name, err)
		}
		sv := &server{sim: s, name: sc.Name, d: sc.Dialect, ln: ln, conns: map[*conn]struct{}{}}
		s.servers = append(s.servers, sv)
	}
	for _, sv := range s.servers {
		s.wg.Add(1)
		go sv.acceptLoop()
	}
	return s, nil
}

// Addr is the address server name listens on ("" when there is none).
func (s *Sim) Addr(name string) string {
	for _, sv := range s.servers {
		if sv.name == name {
			return sv.ln.Addr().String()
		}
	}
	return ""
}

// Drop closes every connection of server name ("" for all servers) and
// returns how many it closed.
func (s *Sim) Drop(name string) int {
	n := 0
	for _, sv := range s.servers {
		if name != "" && sv.name != name {
			continue
		}
		sv.mu.Lock()
		cs := make([]*conn, 0, len(sv.conns))
		for c := range sv.conns {
			cs = append(cs, c)
		}
		sv.mu.Unlock()
		for _, c := range cs {
			c.close()
			n++
		}
	}
	s.c.drops.Add(uint64(n))
	return n
}

// Refuse drops server name's links and refuses its logins for d, as a
// center that is down that long and then back; it returns the links
// dropped.
func (s *Sim) Refuse(name string, d time.Duration) int {
	until := time.Now().Add(d).UnixNano()
	for _, sv := range s.servers {
		if sv.name == name {
			sv.refuseUntil.Store(until)
		}
	}
	return s.Drop(name)
}

// StopServer closes server name's listener and connections: it refuses
// connections from then on, as a center that is down.
func (s *Sim) StopServer(name string) {
	for _, sv := range s.servers {
		if sv.name == name {
			_ = sv.ln.Close()
		}
	}
	s.Drop(name)
}

// Close stops every server and waits for their goroutines. Reports not
// yet due are dropped.
func (s *Sim) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	for _, sv := range s.servers {
		_ = sv.ln.Close()
	}
	s.mu.Lock()
	if s.ctl != nil {
		_ = s.ctl.Close()
	}
	for nc := range s.ctlConns {
		_ = nc.Close()
	}
	s.mu.Unlock()
	s.Drop("")
	s.wg.Wait()
	s.mu.Lock()
	for _, a := range s.accounts {
		a.stop()
	}
	s.mu.Unlock()
	return nil
}

// Reset zeroes the counters and forgets the references seen.
func (s *Sim) Reset() {
	c := &s.c
	for _, u := range []*atomic.Uint64{&c.received, &c.accepted, &c.throttled, &c.reportsSent, &c.reportsResent,
		&c.reportsAcked, &c.logins, &c.loginsRefused, &c.drops, &c.byCode[0], &c.byCode[1], &c.byCode[2], &c.byCode[3]} {
		u.Store(0)
	}
	c.maxOpen.Store(0)
	s.refs.mu.Lock()
	s.refs.seen = map[string]uint32{}
	s.refs.dupSubmits, s.refs.dupMessages = 0, 0
	s.refs.mu.Unlock()
	for _, sv := range s.servers {
		sv.mu.Lock()
		sv.logins, sv.recvd = 0, 0
		sv.mu.Unlock()
	}
}

var resultCodes = [4]telegram.Code{telegram.OK, telegram.RptUnknownSub, telegram.RptUnreachable, telegram.RptRejected}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	c := &s.c
	st := Stats{
		Received: c.received.Load(), Accepted: c.accepted.Load(), Throttled: c.throttled.Load(),
		ReportsSent: c.reportsSent.Load(), ReportsResent: c.reportsResent.Load(), ReportsAcked: c.reportsAcked.Load(),
		MaxUnanswered: c.maxOpen.Load(), Logins: c.logins.Load(), LoginsRefused: c.loginsRefused.Load(), Drops: c.drops.Load(),
		ReportsByCode: map[string]uint64{}, Servers: map[string]ServerStats{},
	}
	for i, code := range resultCodes {
		st.ReportsByCode[code.String()] = c.byCode[i].Load()
	}
	s.refs.mu.Lock()
	st.Unique, st.DupSubmits, st.DupMessages = uint64(len(s.refs.seen)), s.refs.dupSubmits, s.refs.dupMessages
	s.refs.mu.Unlock()
	s.mu.Lock()
	for _, a := range s.accounts {
		st.ReportsPending += uint64(a.pendingCount())
	}
	s.mu.Unlock()
	for _, sv := range s.servers {
		sv.mu.Lock()
		st.Servers[sv.name] = ServerStats{Logins: sv.logins, Received: sv.recvd, Links: sv.links}
		st.Links += sv.links
		sv.mu.Unlock()
	}
	return st
}

func (s *Sim) account(d carrier.Dialect, login string) *account {
	key := d.Name() + "/" + login
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[key]
	if a == nil {
		a = newAccount(s)
		s.accounts[key] = a
	}
	return a
}

// draw picks a report result and a delay.
func (s *Sim) draw() (int, time.Duration) {
	s.mu.Lock()
	p := s.rng.IntN(100)
	d := s.cfg.ReportDelayMin
	if span := s.cfg.ReportDelayMax - s.cfg.ReportDelayMin; span > 0 {
		d += time.Duration(s.rng.Int64N(int64(span) + 1))
	}
	s.mu.Unlock()
	m := s.cfg.Mix
	switch {
	case p < m.UnknownSub:
		return 1, d
	case p < m.UnknownSub+m.Expired:
		return 2, d
	case p < m.UnknownSub+m.Expired+m.Spam:
		return 3, d
	}
	return 0, d
}

func (s *Sim) dropNow() bool {
	if s.cfg.DropProb <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < s.cfg.DropProb
}

func (sv *server) acceptLoop() {
	defer sv.sim.wg.Done()
	for {
		nc, err := sv.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				sv.sim.log.Warn("accept", zap.String("server", sv.name), zap.Error(err))
			}
			return
		}
		c := newConn(sv, nc)
		sv.mu.Lock()
		sv.conns[c] = struct{}{}
		sv.mu.Unlock()
		sv.sim.wg.Add(2)
		go c.readLoop()
		go c.writeLoop()
	}
}

// throttle reports whether a submit now is over the server's TPS ceiling.
func (sv *server) throttle(now time.Time) bool {
	tps := sv.sim.cfg.TPS
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.recvd++
	if tps <= 0 {
		return false
	}
	if sec := now.Unix(); sec != sv.second {
		sv.second, sv.inSec = sec, 0
	}
	if sv.inSec >= tps {
		return true
	}
	sv.inSec++
	return false
}

// msgID makes the server's next message id in its dialect's format.
func (sv *server) msgID() (id, carrierID string) {
	n := sv.sim.ids.Add(1)
	switch sv.d.Name() {
	case "kt":
		return fmt.Sprintf("%010d", n%10_000_000_000), ""
	case "skt":
		return fmt.Sprintf("S%019d", n), ""
	case "lgrelay":
		return fmt.Sprintf("R%015d", n), fmt.Sprintf("LG%018d", n)
	}
	return fmt.Sprint(n), ""
}
