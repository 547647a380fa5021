package config

import (
	"time"
)

// Carriers M1 knows, as PNX, routes and senders name them.
const (
	CarrierKT  = "KT"
	CarrierSKT = "SKT"
	CarrierLGT = "LGT"
)

// Carriers lists every carrier name M1 accepts.
var Carriers = []string{CarrierKT, CarrierSKT, CarrierLGT}

// Names of the standard queues. A sender's queue is "SND." + its id.
const (
	QueueDistR = "DIST.R"
	QueueDistS = "DIST.S"
	QueueDistB = "DIST.B"
	QueueDBX   = "DBX"
	QueueRPT   = "RPT"
)

// Names of the daemons. A sender's process name is "sender." + its id
// (sender.KT1): its pid file is var/run/sender.KT1.pid and its log
// log/sender.KT1.YYYYMMDD.log.
var Daemons = []string{"eai_lsnr", "sch", "tkm_files", "dist", "dbx", "sender"}

// SenderProcess is the process name of the sender with the given id.
func SenderProcess(id string) string { return "sender." + id }

// Full policies of a queue.
const (
	FullBlock  = "block"
	FullSpill  = "spill"
	FullReject = "reject"
)

// Durability of a queue's file part: fsync after every record, after each
// group of records written together, or never (the OS decides).
const (
	DurEvery = "every"
	DurGroup = "group"
	DurNone  = "none"
)

// Listener modes (PROTOCOL.md, "Listener modes").
const (
	ModeShared    = "shared"
	ModeDedicated = "dedicated"
)

// Config is the whole configuration of one M1 home: etc/m1.toml and the
// files beside it. Paths are relative to Home in the files and absolute
// after Load.
type Config struct {
	// Home is the absolute M1_HOME the configuration was loaded from.
	Home string `toml:"-"`

	Paths    Paths    `toml:"paths"`
	Database Database `toml:"database"`
	Node     Node     `toml:"node"`
	Log      Log      `toml:"log"`
	Timeouts Timeouts `toml:"timeouts"`
	ProcTab  ProcTab  `toml:"proctab"`
	Queues   []Queue  `toml:"queue"`
	Listener Listener `toml:"eai_lsnr"`
	Senders  []Sender `toml:"sender"`
	Dist     Dist     `toml:"dist"`
	Sch      Sch      `toml:"sch"`
	DBX      DBX      `toml:"dbx"`
	TkmFiles TkmFiles `toml:"tkm_files"`

	// The files beside m1.toml.
	Clients   *Clients   `toml:"-"` // etc/clients.toml
	Dedicated *Dedicated `toml:"-"` // etc/dedicated.conf
	Callbacks *Callbacks `toml:"-"` // etc/callbacks.conf
	Routes    *Routes    `toml:"-"` // etc/routes.toml
	PNX       *PNX       `toml:"-"` // etc/pnx.conf

	lines *lineIndex
}

// Paths are the directories of a home. Relative paths are under M1_HOME.
type Paths struct {
	Var   string `toml:"var"`   // state: database, duplicate index, file queues
	Log   string `toml:"log"`   // one log file per process per day
	Run   string `toml:"run"`   // pid files
	FileQ string `toml:"fileq"` // default parent of each queue's file-queue directory
}

// Database selects the store.
type Database struct {
	// DSN: "sqlite:PATH" (PATH relative to M1_HOME, made absolute by Load),
	// "postgres://..." / "postgresql://...", or "oracle://..." (godror).
	DSN string `toml:"dsn"`
}

// Driver returns "sqlite", "postgres" or "oracle" from the DSN's scheme.
func (d Database) Driver() string {
	switch s := d.DSN; {
	case hasPrefixFold(s, "sqlite:"):
		return "sqlite"
	case hasPrefixFold(s, "postgres://"), hasPrefixFold(s, "postgresql://"):
		return "postgres"
	case hasPrefixFold(s, "oracle://"):
		return "oracle"
	}
	return ""
}

// Node numbers this home among the M1 homes (hosts) that share one
// database. Every GW_ID carries a two-digit node number (gw/msg IDGen), and
// two processes making GW_IDs at the same time must not share one, or two
// messages could be given one GW_ID. Each process that makes GW_IDs takes
// GWIDNode(its slot): node.id × 10 + slot. One eai_lsnr, one sch and one
// tkm_files run per home (the process table refuses a second live process
// of a name), so distinct node.id values give every process a node of its
// own.
type Node struct {
	ID int `toml:"id"` // 0 to MaxNodeID, different on every home sharing the database
}

// MaxNodeID is the largest node.id: ten homes, ten slots each, fill the
// two digits of a GW_ID's node.
const MaxNodeID = 9

// GW_ID node slots: the last digit of the node number of each process that
// makes GW_IDs. dist, dbx and the senders make none; slots 0 and 4 to 9 are
// reserved (tools/carriersim's benchmark uses node 98, a slot no process
// takes).
const (
	SlotListener = 1 // eai_lsnr
	SlotSch      = 2 // sch
	SlotTkmFiles = 3 // tkm_files
)

// GWIDNode returns the GW_ID node number (0..99) of the process in slot:
// node.id × 10 + slot. With the default node.id 0 that is 1 for eai_lsnr,
// 2 for sch and 3 for tkm_files, the numbers they used before node.id.
func (c *Config) GWIDNode(slot int) int { return c.Node.ID*10 + slot }

// Log is the logging of every process.
type Log struct {
	Format string            `toml:"format"` // "json" or "console"
	Level  string            `toml:"level"`  // debug, info, warn, error
	Levels map[string]string `toml:"levels"` // per process: "dist", "sender" (all senders), "sender.KT1"
}

// LevelFor returns the log level of a process: its own, then its kind's
// ("sender" for "sender.KT1"), then the default.
func (l Log) LevelFor(process string) string {
	if v, ok := l.Levels[process]; ok {
		return v
	}
	for i := 0; i < len(process); i++ {
		if process[i] == '.' {
			if v, ok := l.Levels[process[:i]]; ok {
				return v
			}
			break
		}
	}
	return l.Level
}

// Timeouts shared by several processes.
type Timeouts struct {
	Report            Duration `toml:"report"`              // no carrier report after this: 3004
	Validity          Duration `toml:"validity"`            // no sender could take it within this: 3005
	DuplicateWindow   Duration `toml:"duplicate_window"`    // MSG_KEY seen again within this: 1201
	SenderDownReroute Duration `toml:"sender_down_reroute"` // a sender down this long has its backlog re-routed
}

// ProcTab is the process table segment.
type ProcTab struct {
	Key       QueueKey `toml:"key"`
	Slots     int      `toml:"slots"`
	Heartbeat Duration `toml:"heartbeat"`  // how often a process stamps its slot
	DeadAfter Duration `toml:"dead_after"` // a slot not stamped for this long is a dead process
}

// Queue is one named queue.
type Queue struct {
	Name       string   `toml:"name"`
	Key        QueueKey `toml:"key"`
	Capacity   int      `toml:"capacity"`    // records in shared memory
	RecordSize int      `toml:"record_size"` // bytes
	Full       string   `toml:"full"`        // block, spill or reject
	Durability string   `toml:"durability"`  // every, group or none (file part)
	FileDir    string   `toml:"file_dir"`    // the queue's file queue
	SaveOnStop bool     `toml:"save_on_stop"`
}

// ResolveKey returns the queue's SysV key. For "auto" it creates the
// queue's file-queue directory if needed and derives the key from it with
// Ftok and project id 'M'.
func (q Queue) ResolveKey() (uint32, error) {
	if !q.Key.Auto {
		return q.Key.Value, nil
	}
	if err := mkdirAll(q.FileDir); err != nil {
		return 0, err
	}
	return Ftok(q.FileDir, 'M')
}

// Listener is eai_lsnr.
type Listener struct {
	Ports        []Port   `toml:"port"`
	BindTimeout  Duration `toml:"bind_timeout"`  // BIND must come within this
	LinkInterval Duration `toml:"link_interval"` // send LINK after this much silence
	IdleTimeout  Duration `toml:"idle_timeout"`  // close after this much silence
	SMSMax       int      `toml:"sms_max"`       // EUC-KR bytes of an SMS text
	LMSMax       int      `toml:"lms_max"`       // EUC-KR bytes of an LMS text
	SubjectMax   int      `toml:"subject_max"`   // EUC-KR bytes of an LMS subject
	MaxPipeline  int      `toml:"max_pipeline"`  // unanswered requests per connection
	DefaultTPS   int      `toml:"default_tps"`   // per client, unless clients.toml says otherwise
	DupIndex     string   `toml:"dup_index"`     // the shared duplicate index file
	// The intake brake (gw/lsnr/brake.go): while DBX's shared-memory ring
	// is at least BrakeDBXFill percent full, and has not spilled, a batch
	// of SUBMITs for DIST.S or DIST.B is held up to BrakeWait before it is
	// stored and answered. 0 in either turns the brake off.
	BrakeDBXFill int      `toml:"brake_dbx_fill"`
	BrakeWait    Duration `toml:"brake_wait"`
}

// Port is one listening address.
type Port struct {
	Listen string `toml:"listen"` // "host:port"; ":9001" is every address
	Mode   string `toml:"mode"`   // shared or dedicated
}

// Sender is one carrier link process.
type Sender struct {
	ID             string   `toml:"id"`
	Carrier        string   `toml:"carrier"`
	Dialect        string   `toml:"dialect"`
	Servers        []string `toml:"servers"` // tried in order
	Login          string   `toml:"login"`
	Password       string   `toml:"password"`
	Window         int      `toml:"window"` // unanswered submits
	TPS            int      `toml:"tps"`
	LinkCheck      Duration `toml:"link_check"`
	ReportTimeout  Duration `toml:"report_timeout"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	ReconnectMin   Duration `toml:"reconnect_min"`
	ReconnectMax   Duration `toml:"reconnect_max"`
	Queue          string   `toml:"queue"`
}

// Process is the sender's process name.
func (s Sender) Process() string { return SenderProcess(s.ID) }

// Dist is the distributor.
type Dist struct {
	Batch      int      `toml:"batch"`       // records taken per lane read
	StarveMax  int      `toml:"starve_max"`  // R/S records in a row before one B record is served
	RetryEvery Duration `toml:"retry_every"` // how often a record with no sender is tried again
}

// Sch is the T41 poller.
type Sch struct {
	PollInterval Duration `toml:"poll_interval"`
	Batch        int      `toml:"batch"`         // rows claimed per poll
	ReclaimAfter Duration `toml:"reclaim_after"` // STATUS 2 rows older than this are claimed again
}

// DBX is the history writer.
type DBX struct {
	FetchCount    int      `toml:"fetch_count"`    // events per transaction, at most
	MaxWait       Duration `toml:"max_wait"`       // wait this long for a batch to fill
	RetryMin      Duration `toml:"retry_min"`      // database down: first retry
	RetryMax      Duration `toml:"retry_max"`      // database down: longest wait between retries
	SweepInterval Duration `toml:"sweep_interval"` // how often report timeouts are swept
}

// TkmFiles is the bulk file intake.
type TkmFiles struct {
	SpoolDir     string   `toml:"spool_dir"` // done/ and error/ are made under it
	PollInterval Duration `toml:"poll_interval"`
}

// Queue returns the queue named name.
func (c *Config) Queue(name string) (Queue, bool) {
	for _, q := range c.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return Queue{}, false
}

// Sender returns the sender with the given id.
func (c *Config) Sender(id string) (Sender, bool) {
	for _, s := range c.Senders {
		if s.ID == id {
			return s, true
		}
	}
	return Sender{}, false
}

// defaults returns a Config holding every default of m1.toml. Values of
// array elements (queues, ports, senders) are filled by fillDefaults.
func defaults() *Config {
	return &Config{
		Paths:    Paths{Var: "var", Log: "log", Run: "var/run", FileQ: "var/fileq"},
		Database: Database{DSN: "sqlite:var/m1.db"},
		Log:      Log{Format: "json", Level: "info"},
		Timeouts: Timeouts{
			Report:            Duration(72 * time.Hour),
			Validity:          Duration(24 * time.Hour),
			DuplicateWindow:   Duration(24 * time.Hour),
			SenderDownReroute: Duration(60 * time.Second),
		},
		ProcTab: ProcTab{Key: QueueKey{Value: 0x4d310000}, Slots: 64,
			Heartbeat: Duration(time.Second), DeadAfter: Duration(10 * time.Second)},
		Listener: Listener{
			BindTimeout:  Duration(10 * time.Second),
			LinkInterval: Duration(30 * time.Second),
			IdleTimeout:  Duration(90 * time.Second),
			SMSMax:       90, LMSMax: 2000, SubjectMax: 40,
			MaxPipeline: 64, DefaultTPS: 100,
			DupIndex:     "var/dup.idx",
			BrakeDBXFill: 40, BrakeWait: Duration(time.Second),
		},
		Dist:     Dist{Batch: 100, StarveMax: 16, RetryEvery: Duration(time.Second)},
		Sch:      Sch{PollInterval: Duration(time.Second), Batch: 500, ReclaimAfter: Duration(5 * time.Minute)},
		DBX:      DBX{FetchCount: 5000, MaxWait: Duration(100 * time.Millisecond), RetryMin: Duration(time.Second), RetryMax: Duration(30 * time.Second), SweepInterval: Duration(time.Minute)},
		TkmFiles: TkmFiles{SpoolDir: "var/spool", PollInterval: Duration(2 * time.Second)},
	}
}

// standardKeys are the keys of the standard queues when m1.toml does not
// list them ("M1" is 0x4d31).
var standardKeys = map[string]uint32{
	QueueDistR: 0x4d310001, QueueDistS: 0x4d310002, QueueDistB: 0x4d310003,
	"SND.KT1": 0x4d310011, "SND.KT2": 0x4d310012, "SND.SKT": 0x4d310013, "SND.LG": 0x4d310014,
	QueueDBX: 0x4d310021, QueueRPT: 0x4d310031,
}
