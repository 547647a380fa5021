package lsnr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/msg"
)

// Listener is the eai_lsnr daemon: New, then Main; Exit stops it.
type Listener struct {
	opts Options
	log  *zap.Logger
	set  atomic.Pointer[settings]
	ids  *msg.IDGen
	clk  clock
	tps  buckets

	ports  []*port
	lanes  map[byte]*lane
	future *futureLane
	hub    *hub
	brake  *brake // nil: off

	mu       sync.Mutex
	conns    map[*conn]struct{}
	stopping bool
	started  bool

	connWG  sync.WaitGroup // accept loops and connections
	laneWG  sync.WaitGroup // lane loops
	hubWG   sync.WaitGroup // the RPT loop
	exitCh  chan struct{}
	stopped chan struct{}
	once    sync.Once
	nextID  atomic.Uint64
}

// port is one listening socket.
type port struct {
	cfg       config.Port
	ln        net.Listener
	number    int
	dedicated bool

	mu     sync.Mutex
	byAddr map[netip.Addr]*conn // dedicated: the one connection per client IP
	reg    *config.Dedicated    // dedicated: the registry last read
}

// New opens the listening sockets and the pending report files. Nothing
// is served before Main.
func New(opts Options) (*Listener, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	ids, err := msg.NewIDGen(opts.Node)
	if err != nil {
		return nil, fmt.Errorf("lsnr: GW_ID node: %w", err)
	}
	l := &Listener{opts: opts, log: opts.Log, ids: ids, conns: map[*conn]struct{}{},
		exitCh: make(chan struct{}), stopped: make(chan struct{}), lanes: map[byte]*lane{}}
	l.set.Store(newSettings(opts.Config))
	if opts.DBX != nil {
		l.brake = newBrake(opts.DBX, dbxCapacity(opts.DBX), l.exitCh, l.log)
		l.brake.checkMark(l.set.Load(), opts.Config.DBX.FetchCount)
	}
	for _, jc := range jobClasses {
		l.lanes[jc] = newLane(l, opts.Lanes[jc], jc != 'R')
	}
	if opts.Future != nil {
		l.future = newFutureLane(l, opts.Future)
	}
	l.hub, err = openHub(l, opts.ReportDir)
	if err != nil {
		return nil, err
	}
	for _, pc := range opts.Ports {
		ln, err := net.Listen("tcp", pc.Listen)
		if err != nil {
			l.closePorts()
			_ = l.hub.close()
			return nil, fmt.Errorf("lsnr: listen %s: %w", pc.Listen, err)
		}
		p := &port{cfg: pc, ln: ln, dedicated: pc.Mode == config.ModeDedicated, byAddr: map[netip.Addr]*conn{}}
		p.number = ln.Addr().(*net.TCPAddr).Port
		p.reg = opts.Config.Dedicated
		l.ports = append(l.ports, p)
	}
	return l, nil
}

// Addrs are the addresses listened on, in the order of the ports.
func (l *Listener) Addrs() []net.Addr {
	out := make([]net.Addr, len(l.ports))
	for i, p := range l.ports {
		out[i] = p.ln.Addr()
	}
	return out
}

// Main serves until Exit and returns nil after a clean stop.
func (l *Listener) Main() error {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		<-l.stopped
		return nil
	}
	l.started = true
	l.mu.Unlock()
	for _, ln := range l.lanes {
		l.laneWG.Add(1)
		go func() { defer l.laneWG.Done(); ln.loop() }()
	}
	if l.future != nil {
		l.laneWG.Add(1)
		go func() { defer l.laneWG.Done(); l.future.loop() }()
	}
	if l.opts.RPT != nil {
		l.hubWG.Add(1)
		go func() { defer l.hubWG.Done(); l.hub.rptLoop(l.opts.RPT) }()
	}
	for _, p := range l.ports {
		l.connWG.Add(1)
		go func() { defer l.connWG.Done(); l.acceptLoop(p) }()
		l.log.Info("listening", zap.String("listen", p.ln.Addr().String()), zap.String("mode", p.cfg.Mode))
	}
	<-l.exitCh
	l.stop()
	close(l.stopped)
	return nil
}

// Exit stops the listener in the stop order of gw/daemon and returns once
// it has stopped. Safe to call more than once and before Main.
func (l *Listener) Exit() {
	l.once.Do(func() {
		l.mu.Lock()
		started := l.started
		l.stopping = true
		l.mu.Unlock()
		close(l.exitCh)
		if !started {
			l.stop()
			close(l.stopped)
		}
	})
	<-l.stopped
}

// stop: (1) stop intake: close the listening sockets and stop taking from
// RPT; (2) stop reading requests on every connection, answer what was
// accepted, then close each; (3) flush the lanes; (4) close the report
// files. Queues and the duplicate index belong to the caller.
func (l *Listener) stop() {
	l.mu.Lock()
	l.stopping = true
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	l.closePorts()
	l.hub.stopTaking()
	l.hubWG.Wait()
	for _, c := range conns {
		c.stopReading()
	}
	l.connWG.Wait()
	for _, ln := range l.lanes {
		close(ln.in)
	}
	if l.future != nil {
		close(l.future.in)
	}
	l.laneWG.Wait()
	if err := l.hub.close(); err != nil {
		l.log.Error("closing pending report files", zap.Error(err))
	}
	l.log.Info("listener stopped: every accepted request answered, lanes flushed")
}

func (l *Listener) closePorts() {
	for _, p := range l.ports {
		_ = p.ln.Close()
	}
}

// ReloadConfig puts a new configuration in force (SIGHUP): clients,
// passwords, TPS, callbacks, dedicated registry, limits and timers.
// Listening ports cannot change in a running process; a change is logged
// and takes effect at the next start.
func (l *Listener) ReloadConfig(c *config.Config) error {
	if c == nil {
		return errors.New("lsnr: nil configuration")
	}
	old := l.set.Load().cfg
	if fmt.Sprint(old.Listener.Ports) != fmt.Sprint(c.Listener.Ports) {
		l.log.Warn("listener ports changed in etc/m1.toml; they take effect at the next start")
	}
	l.set.Store(newSettings(c))
	l.brake.checkMark(l.set.Load(), c.DBX.FetchCount)
	for _, p := range l.ports {
		p.mu.Lock()
		p.reg = c.Dedicated
		p.mu.Unlock()
	}
	return nil
}

func (l *Listener) acceptLoop(p *port) {
	var delay time.Duration
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: back off instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.log.Warn("accept failed", zap.String("listen", p.cfg.Listen), zap.Error(err))
			time.Sleep(delay)
			continue
		}
		delay = 0
		l.connWG.Add(1)
		go func() { defer l.connWG.Done(); l.serve(p, nc) }()
	}
}

// serve runs one connection from accept to close.
func (l *Listener) serve(p *port, nc net.Conn) {
	c := newConn(l, p, nc)
	log := c.log
	if p.dedicated {
		client, ok := l.admitDedicated(p, c)
		if !ok {
			_ = nc.Close()
			return
		}
		c.dedicatedClient = client
	}
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		log.Info("connection refused: stopping")
		_ = nc.Close()
		return
	}
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	log.Info("connection opened", zap.String("mode", p.cfg.Mode))

	c.run()

	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	if p.dedicated {
		p.mu.Lock()
		if p.byAddr[c.ip] == c {
			delete(p.byAddr, c.ip)
		}
		p.mu.Unlock()
	}
	l.hub.unbind(c)
	log.Info("connection closed", zap.String("client", c.client), zap.String("reason", c.reason()),
		zap.Uint64("submits", c.nSubmit), zap.Uint64("accepted", c.nAccepted.Load()))
}

// admitDedicated applies the dedicated port's rules to a new connection:
// its address must be registered for this port (the registry is read again
// when it is not), and one connection per client IP: a second one closes
// both.
func (l *Listener) admitDedicated(p *port, c *conn) (string, bool) {
	p.mu.Lock()
	reg := p.reg
	p.mu.Unlock()
	client, ok := reg.Lookup(c.ip, p.number)
	if !ok {
		cfg := l.set.Load().cfg
		fresh, err := config.LoadDedicated(cfg.Path(config.DedicatedFile), config.DedicatedFile)
		if err != nil {
			c.log.Error("dedicated registry could not be read again; keeping the one in force", zap.Error(err))
		} else {
			p.mu.Lock()
			p.reg = fresh
			p.mu.Unlock()
			client, ok = fresh.Lookup(c.ip, p.number)
		}
	}
	if !ok {
		c.log.Warn("connection refused: address not registered for this dedicated port", zap.Int("port", p.number))
		return "", false
	}
	p.mu.Lock()
	old := p.byAddr[c.ip]
	if old != nil {
		delete(p.byAddr, c.ip)
		p.mu.Unlock()
		c.log.Warn("second connection from a dedicated client IP: closing both", zap.String("client", client),
			zap.Uint64("old_conn", old.id))
		old.kill("second connection from the same dedicated IP")
		return "", false
	}
	p.byAddr[c.ip] = c
	p.mu.Unlock()
	return client, true
}
