package config

import (
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Record sizes of the standard queues when m1.toml does not give one: an
// LMS (2,000 bytes of text, a 40-byte subject) and its common part fit in
// 2,400 bytes; a report record is small.
const (
	DefaultRecordSize       = 2400
	DefaultReportRecordSize = 256
	// LegacyDistCapacity is the distributor queue's capacity in the systems
	// M1 replaces.
	LegacyDistCapacity = 190
	// DefaultDBXCapacity is DBX's ring when m1.toml does not set it: room
	// for the intake brake's mark (eai_lsnr.brake_dbx_fill, 40 %) well above
	// a dbx batch (fetch_count 5,000), and for the events of the messages
	// already past the brake above the mark (measured: docs/BENCHMARKS.md).
	DefaultDBXCapacity = 40000
	// MaxRecordSize bounds record_size: a shared-memory slot, not a file.
	MaxRecordSize = 1 << 20
)

// fillDefaults completes what m1.toml left out: the standard queues it does
// not list, the defaults of each queue and sender, and absolute paths.
func (c *Config) fillDefaults() {
	c.Paths.Var = c.Path(c.Paths.Var)
	c.Paths.Log = c.Path(c.Paths.Log)
	c.Paths.Run = c.Path(c.Paths.Run)
	c.Paths.FileQ = c.Path(c.Paths.FileQ)
	if p, ok := strings.CutPrefix(c.Database.DSN, "sqlite:"); ok && p != "" && !strings.HasPrefix(p, "file:") && p != ":memory:" {
		c.Database.DSN = "sqlite:" + c.Path(p)
	}
	c.Listener.DupIndex = c.Path(c.Listener.DupIndex)
	c.TkmFiles.SpoolDir = c.Path(c.TkmFiles.SpoolDir)

	for i := range c.Senders {
		s := &c.Senders[i]
		if s.Queue == "" {
			s.Queue = "SND." + s.ID
		}
		if s.Window == 0 {
			s.Window = 64
		}
		if s.TPS == 0 {
			s.TPS = 100
		}
		if s.LinkCheck == 0 {
			s.LinkCheck = c.Listener.LinkInterval
		}
		if s.ReportTimeout == 0 {
			s.ReportTimeout = c.Timeouts.Report
		}
		if s.ConnectTimeout == 0 {
			s.ConnectTimeout = Duration(5e9)
		}
		if s.ReconnectMin == 0 {
			s.ReconnectMin = Duration(1e9)
		}
		if s.ReconnectMax == 0 {
			s.ReconnectMax = Duration(30e9)
		}
	}
	// Standard queues not listed are added with their defaults, so that a
	// short m1.toml is a whole suite; each sender's queue likewise.
	need := []string{QueueDistR, QueueDistS, QueueDistB}
	for _, s := range c.Senders {
		need = append(need, s.Queue)
	}
	need = append(need, QueueDBX, QueueRPT)
	for _, n := range need {
		if _, ok := c.Queue(n); !ok && n != "" {
			c.Queues = append(c.Queues, Queue{Name: n})
		}
	}
	for i := range c.Queues {
		q := &c.Queues[i]
		if q.Key.IsZero() {
			if k, ok := standardKeys[q.Name]; ok {
				q.Key = QueueKey{Value: k}
			} else {
				q.Key = QueueKey{Auto: true}
			}
		}
		if q.Capacity == 0 {
			q.Capacity = 10000
			switch {
			case strings.HasPrefix(q.Name, "DIST."):
				q.Capacity = LegacyDistCapacity
			case q.Name == QueueDBX:
				q.Capacity = DefaultDBXCapacity
			}
		}
		if q.RecordSize == 0 {
			q.RecordSize = DefaultRecordSize
			if q.Name == QueueRPT {
				q.RecordSize = DefaultReportRecordSize
			}
		}
		if q.Full == "" {
			q.Full = FullBlock
		}
		if q.Durability == "" {
			q.Durability = DurGroup
		}
		if q.FileDir == "" {
			q.FileDir = filepath.Join(c.Paths.FileQ, q.Name)
		} else {
			q.FileDir = c.Path(q.FileDir)
		}
	}
}

// Validate checks the settings of m1.toml (and the routes, when loaded)
// again, e.g. after a test changed a loaded Config in code. Load has
// already done it for what it returns; do not call it on a Config in force
// (it refreshes Route.Ratios).
func (c *Config) Validate() error {
	e := &errs{file: MainFile, lines: c.lines}
	c.validate(e)
	if c.Routes != nil {
		senders := map[string]bool{}
		for _, s := range c.Senders {
			senders[s.ID] = true
		}
		re := &errs{file: RoutesFile}
		c.Routes.validate(re, senders, c.Clients, c.Callbacks)
		e.list = append(e.list, re.list...)
	}
	return e.err()
}

// validate checks m1.toml after defaults.
func (c *Config) validate(e *errs) {
	if c.Database.Driver() == "" {
		e.at("database.dsn", "database.dsn", "%q: want sqlite:PATH, postgres://..., or oracle://...", c.Database.DSN)
	}
	if c.Node.ID < 0 || c.Node.ID > MaxNodeID {
		e.at("node.id", "node.id", "%d: 0 to %d, different on every host that shares the database", c.Node.ID, MaxNodeID)
	}
	if c.Log.Format != "json" && c.Log.Format != "console" {
		e.at("log.format", "log.format", "%q: json or console", c.Log.Format)
	}
	if !validLevel(c.Log.Level) {
		e.at("log.level", "log.level", "%q: debug, info, warn or error", c.Log.Level)
	}
	for _, p := range slices.Sorted(maps.Keys(c.Log.Levels)) {
		lv := c.Log.Levels[p]
		if !validLevel(lv) {
			e.at("log.levels."+p, "log.levels."+p, "%q: debug, info, warn or error", lv)
		}
		if !c.knownProcess(p) {
			e.at("log.levels."+p, "log.levels."+p, "no such process (want one of %s, or sender.<id> of a [[sender]])", strings.Join(Daemons, ", "))
		}
	}
	positive := func(path string, d Duration) {
		if d <= 0 {
			e.at(path, path, "must be more than 0 (got %s)", d)
		}
	}
	positive("timeouts.report", c.Timeouts.Report)
	positive("timeouts.validity", c.Timeouts.Validity)
	positive("timeouts.duplicate_window", c.Timeouts.DuplicateWindow)
	if w := c.Timeouts.DuplicateWindow.D(); w > 0 && w%time.Second != 0 {
		// The duplicate index records the window in whole seconds.
		e.at("timeouts.duplicate_window", "timeouts.duplicate_window", "must be whole seconds (got %s)", w)
	}
	positive("timeouts.sender_down_reroute", c.Timeouts.SenderDownReroute)

	if c.ProcTab.Key.Auto || c.ProcTab.Key.IsZero() {
		e.at("proctab.key", "proctab.key", "the process table needs a fixed key such as \"0x4d310000\"")
	}
	if c.ProcTab.Slots < 8 || c.ProcTab.Slots > 4096 {
		e.at("proctab.slots", "proctab.slots", "%d: 8 to 4096", c.ProcTab.Slots)
	}
	positive("proctab.heartbeat", c.ProcTab.Heartbeat)
	if c.ProcTab.DeadAfter <= c.ProcTab.Heartbeat {
		e.at("proctab.dead_after", "proctab.dead_after", "%s must be longer than proctab.heartbeat (%s)", c.ProcTab.DeadAfter, c.ProcTab.Heartbeat)
	}

	c.validateQueues(e)
	c.validateListener(e)
	c.validateSenders(e)

	if c.Dist.Batch < 1 {
		e.at("dist.batch", "dist.batch", "must be at least 1 (got %d)", c.Dist.Batch)
	}
	if c.Dist.StarveMax < 1 {
		e.at("dist.starve_max", "dist.starve_max", "must be at least 1 (got %d)", c.Dist.StarveMax)
	}
	positive("dist.retry_every", c.Dist.RetryEvery)
	positive("sch.poll_interval", c.Sch.PollInterval)
	if c.Sch.Batch < 1 {
		e.at("sch.batch", "sch.batch", "must be at least 1 (got %d)", c.Sch.Batch)
	}
	positive("sch.reclaim_after", c.Sch.ReclaimAfter)
	if c.DBX.FetchCount < 1 {
		e.at("dbx.fetch_count", "dbx.fetch_count", "must be at least 1 (got %d)", c.DBX.FetchCount)
	}
	if c.DBX.MaxWait < 0 {
		e.at("dbx.max_wait", "dbx.max_wait", "must not be negative (got %s)", c.DBX.MaxWait)
	}
	positive("dbx.retry_min", c.DBX.RetryMin)
	if c.DBX.RetryMax < c.DBX.RetryMin {
		e.at("dbx.retry_max", "dbx.retry_max", "%s is shorter than dbx.retry_min (%s)", c.DBX.RetryMax, c.DBX.RetryMin)
	}
	positive("dbx.sweep_interval", c.DBX.SweepInterval)
	positive("tkm_files.poll_interval", c.TkmFiles.PollInterval)
}

func (c *Config) validateQueues(e *errs) {
	known := map[string]bool{QueueDistR: true, QueueDistS: true, QueueDistB: true, QueueDBX: true, QueueRPT: true}
	for _, s := range c.Senders {
		known[s.Queue] = true
	}
	names := map[string]int{}
	keys := map[uint32]string{}
	for i, q := range c.Queues {
		p := fmt.Sprintf("queue[%d]", i)
		switch {
		case q.Name == "":
			e.at(p+".name", "queue.name", "missing")
		case !known[q.Name]:
			e.at(p+".name", "queue.name", "%q is not a queue of the suite (DIST.R, DIST.S, DIST.B, DBX, RPT, or a sender's queue)", q.Name)
		}
		if j, dup := names[q.Name]; dup && q.Name != "" {
			e.at(p+".name", "queue.name", "%s is defined twice (also queue number %d)", q.Name, j+1)
		}
		names[q.Name] = i
		if !q.Key.Auto {
			if other, dup := keys[q.Key.Value]; dup {
				e.at(p+".key", "queue.key", "%s: key %s is already the key of %s", q.Name, q.Key, other)
			}
			if q.Key.Value == c.ProcTab.Key.Value {
				e.at(p+".key", "queue.key", "%s: key %s is the process table's key", q.Name, q.Key)
			}
			keys[q.Key.Value] = q.Name
		}
		if q.Capacity < 1 {
			e.at(p+".capacity", "queue.capacity", "%s: must be at least 1 (got %d)", q.Name, q.Capacity)
		}
		if q.RecordSize < 64 || q.RecordSize > MaxRecordSize {
			e.at(p+".record_size", "queue.record_size", "%s: %d bytes: 64 to %d", q.Name, q.RecordSize, MaxRecordSize)
		}
		if q.Full != FullBlock && q.Full != FullSpill && q.Full != FullReject {
			e.at(p+".full", "queue.full", "%s: %q: block, spill or reject", q.Name, q.Full)
		}
		if q.Durability != DurEvery && q.Durability != DurGroup && q.Durability != DurNone {
			e.at(p+".durability", "queue.durability", "%s: %q: every, group or none", q.Name, q.Durability)
		}
	}
}

func (c *Config) validateListener(e *errs) {
	l := c.Listener
	if len(l.Ports) == 0 {
		e.at("eai_lsnr", "eai_lsnr.port", "no [[eai_lsnr.port]]: the listener needs at least one")
	}
	seen := map[int]int{}
	for i, p := range l.Ports {
		path := fmt.Sprintf("eai_lsnr.port[%d]", i)
		n := p.PortNumber()
		if n == 0 {
			e.at(path+".listen", "eai_lsnr.port.listen", "%q: want host:port, e.g. \":9001\" or \"127.0.0.1:9001\"", p.Listen)
		} else if j, dup := seen[n]; dup {
			e.at(path+".listen", "eai_lsnr.port.listen", "port %d is already listed (port number %d)", n, j+1)
		} else {
			seen[n] = i
		}
		if p.Mode != ModeShared && p.Mode != ModeDedicated {
			e.at(path+".mode", "eai_lsnr.port.mode", "%q: shared or dedicated", p.Mode)
		}
	}
	pos := func(path string, d Duration) {
		if d <= 0 {
			e.at(path, path, "must be more than 0 (got %s)", d)
		}
	}
	pos("eai_lsnr.bind_timeout", l.BindTimeout)
	pos("eai_lsnr.link_interval", l.LinkInterval)
	if l.IdleTimeout <= l.LinkInterval {
		e.at("eai_lsnr.idle_timeout", "eai_lsnr.idle_timeout", "%s must be longer than eai_lsnr.link_interval (%s)", l.IdleTimeout, l.LinkInterval)
	}
	between := func(path string, v, lo, hi int) {
		if v < lo || v > hi {
			e.at(path, path, "%d: %d to %d", v, lo, hi)
		}
	}
	// The telegram's TEXT_LEN is N 4 and LEN at most 9999.
	between("eai_lsnr.sms_max", l.SMSMax, 1, 9999)
	between("eai_lsnr.lms_max", l.LMSMax, l.SMSMax, 9999)
	between("eai_lsnr.subject_max", l.SubjectMax, 0, 40)
	between("eai_lsnr.max_pipeline", l.MaxPipeline, 1, 64)
	between("eai_lsnr.default_tps", l.DefaultTPS, 1, 1000000)
	between("eai_lsnr.brake_dbx_fill", l.BrakeDBXFill, 0, 100)
	// A client waits for its SUBMIT_RESP; a hold near its own timeout
	// would make it give up and send again, and an UNBIND waits at most
	// 5 s for the answers it is owed (gw/lsnr Options.DrainTimeout).
	if l.BrakeWait < 0 || l.BrakeWait > Duration(5*time.Second) {
		e.at("eai_lsnr.brake_wait", "eai_lsnr.brake_wait", "%s: 0 (off) to 5s", l.BrakeWait)
	}
}

func (c *Config) validateSenders(e *errs) {
	if len(c.Senders) == 0 {
		e.at("", "sender", "no [[sender]]: the suite needs at least one carrier link")
	}
	ids := map[string]int{}
	for i, s := range c.Senders {
		p := fmt.Sprintf("sender[%d]", i)
		switch {
		case s.ID == "":
			e.at(p+".id", "sender.id", "missing")
		case !isIdent(s.ID, 8):
			e.at(p+".id", "sender.id", "%q: 1 to 8 letters, digits or _", s.ID)
		}
		if j, dup := ids[s.ID]; dup && s.ID != "" {
			e.at(p+".id", "sender.id", "%s is defined twice (also sender number %d)", s.ID, j+1)
		}
		ids[s.ID] = i
		if !slices.Contains(Carriers, s.Carrier) {
			e.at(p+".carrier", "sender.carrier", "%s: %q: KT, SKT or LGT", s.ID, s.Carrier)
		}
		if !isIdent(s.Dialect, 16) {
			e.at(p+".dialect", "sender.dialect", "%s: %q: the name of a carrier dialect (kt, skt, lgrelay)", s.ID, s.Dialect)
		}
		if len(s.Servers) == 0 {
			e.at(p+".servers", "sender.servers", "%s: at least one host:port", s.ID)
		}
		for _, a := range s.Servers {
			if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
				e.at(p+".servers", "sender.servers", "%s: %q: want host:port", s.ID, a)
			}
		}
		if s.Window < 1 || s.Window > 65535 {
			e.at(p+".window", "sender.window", "%s: %d: 1 to 65535", s.ID, s.Window)
		}
		if s.TPS < 1 {
			e.at(p+".tps", "sender.tps", "%s: must be at least 1 (got %d)", s.ID, s.TPS)
		}
		for _, d := range []struct {
			k string
			v Duration
		}{{"link_check", s.LinkCheck}, {"report_timeout", s.ReportTimeout}, {"connect_timeout", s.ConnectTimeout}, {"reconnect_min", s.ReconnectMin}} {
			if d.v <= 0 {
				e.at(p+"."+d.k, "sender."+d.k, "%s: must be more than 0 (got %s)", s.ID, d.v)
			}
		}
		if s.ReconnectMax < s.ReconnectMin {
			e.at(p+".reconnect_max", "sender.reconnect_max", "%s: %s is shorter than reconnect_min (%s)", s.ID, s.ReconnectMax, s.ReconnectMin)
		}
	}
}

// PortNumber returns the port of Listen, 0 when it has none.
func (p Port) PortNumber() int {
	_, ps, err := net.SplitHostPort(p.Listen)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

func (c *Config) knownProcess(p string) bool {
	if slices.Contains(Daemons, p) {
		return true
	}
	id, ok := strings.CutPrefix(p, "sender.")
	if !ok {
		return false
	}
	_, ok = c.Sender(id)
	return ok
}

func validLevel(s string) bool {
	_, err := zapcore.ParseLevel(s)
	return err == nil && s != "" && s != "dpanic" && s != "panic" && s != "fatal"
}

func isIdent(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
