package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DayFile is a zapcore.WriteSyncer that writes to DIR/PROCESS.YYYYMMDD.log
// for the local day of each write. The file name is part of the format:
// scripts and operators find logs by it.
type DayFile struct {
	dir, process string
	clock        func() time.Time

	mu      sync.Mutex
	f       *os.File
	path    string
	nextDay time.Time // when the current file stops being today's
}

// OpenDayFile opens today's file (clock nil = time.Now).
func OpenDayFile(dir, process string, clock func() time.Time) (*DayFile, error) {
	if clock == nil {
		clock = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	d := &DayFile{dir: dir, process: process, clock: clock}
	if err := d.open(clock()); err != nil {
		return nil, err
	}
	return d, nil
}

// FileName is the name of a process's log file for the day of t.
func FileName(process string, t time.Time) string {
	return process + "." + t.Format("20060102") + ".log"
}

func (d *DayFile) open(now time.Time) error {
	p := filepath.Join(d.dir, FileName(d.process, now))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("logging: %w", err)
	}
	if d.f != nil {
		_ = d.f.Close()
	}
	y, m, day := now.Date()
	d.f, d.path, d.nextDay = f, p, time.Date(y, m, day+1, 0, 0, 0, 0, now.Location())
	return nil
}

// Write writes one entry to the file of the entry's day.
func (d *DayFile) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now := d.clock(); d.f == nil || !now.Before(d.nextDay) {
		if err := d.open(now); err != nil {
			return 0, err
		}
	}
	n, err := d.f.Write(b)
	if err != nil {
		// Open afresh on the next write: the directory may be back.
		_ = d.f.Close()
		d.f = nil
	}
	return n, err
}

// Sync flushes the file to disk.
func (d *DayFile) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	return d.f.Sync()
}

// Reopen closes the file and opens the day's file again by its name.
func (d *DayFile) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return fmt.Errorf("logging: %w", err)
	}
	return d.open(d.clock())
}

// Path is the file written now.
func (d *DayFile) Path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.path
}

// Close closes the file.
func (d *DayFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}
