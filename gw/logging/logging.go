// Package logging gives each M1 process its zap logger: one file per
// process per day under log/,
//
//	log/dist.20261121.log
//	log/sender.KT1.20261121.log
//
// switching to the next day's file at local midnight, JSON or console
// encoded as etc/m1.toml says, at the level configured for the process.
//
// The logger is returned and passed in, never global. Reopen closes and
// reopens the day's file: a daemon calls it on SIGUSR1, after an external
// tool (logrotate, a cron'd gzip) moved the file away, so the process does
// not keep writing into the moved file. SetLevel changes the level in place
// (on SIGHUP).
//
// A write that fails (disk full, directory removed) is retried on a fresh
// file at the next write; a logger never stops the process.
package logging

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options configures a Logger.
type Options struct {
	Dir     string // log directory; created if missing
	Process string // process name: the file's prefix
	Format  string // "json" (default) or "console"
	Level   string // debug, info (default), warn, error
	// Clock returns the time that names the file; time.Now when nil.
	// Tests inject one to cross midnight.
	Clock func() time.Time
	// Tee, when set, also receives every entry (a foreground process logs
	// to stderr as well).
	Tee zapcore.WriteSyncer
}

// Logger is a process's logger and the file behind it.
type Logger struct {
	*zap.Logger
	level zap.AtomicLevel
	file  *DayFile
}

// New opens the day's log file and returns the logger writing to it.
func New(o Options) (*Logger, error) {
	if o.Process == "" {
		return nil, fmt.Errorf("logging: no process name")
	}
	lvl := zap.NewAtomicLevel()
	if o.Level != "" {
		if err := lvl.UnmarshalText([]byte(o.Level)); err != nil {
			return nil, fmt.Errorf("logging: level %q: %w", o.Level, err)
		}
	}
	enc, err := encoder(o.Format)
	if err != nil {
		return nil, err
	}
	f, err := OpenDayFile(o.Dir, o.Process, o.Clock)
	if err != nil {
		return nil, err
	}
	var ws zapcore.WriteSyncer = f
	if o.Tee != nil {
		ws = zapcore.NewMultiWriteSyncer(f, o.Tee)
	}
	core := zapcore.NewCore(enc, ws, lvl)
	zl := zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(os.Stderr)))).
		With(zap.String("proc", o.Process), zap.Int("pid", os.Getpid()))
	return &Logger{Logger: zl, level: lvl, file: f}, nil
}

func encoder(format string) (zapcore.Encoder, error) {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.TimeEncoderOfLayout("2006-01-02T15:04:05.000000Z07:00")
	cfg.EncodeDuration = zapcore.StringDurationEncoder
	switch format {
	case "", "json":
		return zapcore.NewJSONEncoder(cfg), nil
	case "console":
		cfg.EncodeLevel = zapcore.CapitalLevelEncoder
		return zapcore.NewConsoleEncoder(cfg), nil
	}
	return nil, fmt.Errorf("logging: format %q: json or console", format)
}

// Reopen closes the current file and opens the day's file again by name.
func (l *Logger) Reopen() error { return l.file.Reopen() }

// SetLevel changes the level of the logger and every logger derived from it.
func (l *Logger) SetLevel(level string) error {
	return l.level.UnmarshalText([]byte(level))
}

// Level returns the current level.
func (l *Logger) Level() zapcore.Level { return l.level.Level() }

// Path is the file written now.
func (l *Logger) Path() string { return l.file.Path() }

// Close flushes and closes the file. The logger must not be used after.
func (l *Logger) Close() error {
	_ = l.Logger.Sync()
	return l.file.Close()
}
