package fileq

import (
	"errors"
	"io/fs"
	"time"
)

// Durability says when Put returns relative to the record reaching the disk.
type Durability int

const (
	// SyncGroup (the default) is group commit: Put returns after an
	// fdatasync that covers its record; records put while a sync runs
	// share the next one.
	SyncGroup Durability = iota
	// SyncEvery runs one fdatasync per record before Put returns.
	SyncEvery
	// SyncNone never syncs: Put returns once the record is in the page
	// cache. A process crash loses nothing; a machine crash may.
	SyncNone
)

func (d Durability) String() string {
	switch d {
	case SyncGroup:
		return "group"
	case SyncEvery:
		return "every"
	case SyncNone:
		return "none"
	}
	return "unknown"
}

// ParseDurability reads "group", "every" or "none".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "group", "":
		return SyncGroup, nil
	case "every":
		return SyncEvery, nil
	case "none":
		return SyncNone, nil
	}
	return 0, errors.New("fileq: durability must be group, every or none")
}

// Options configure Open. Zero fields take the defaults noted.
type Options struct {
	// Name is the queue's configured name (DIST.R, SND.KT1, ...).
	Name string
	// RecordSize is the largest record accepted, in bytes. Required.
	RecordSize int
	// Consumer opens the queue as its one consumer: Open takes the consumer
	// lock (queue.ErrConsumerBusy when another consumer holds it) and runs
	// recovery. Producer-only opens (the default) never take it.
	Consumer bool
	// SegmentSize is the size at which a segment is sealed and the next one
	// begun. Default 64 MiB.
	SegmentSize int64
	// Durability: SyncGroup (default), SyncEvery or SyncNone.
	Durability Durability
	// GroupInterval bounds how long the group committer waits for more
	// Puts of this process before it syncs a batch (never longer than the
	// previous sync took). Default 2ms.
	GroupInterval time.Duration
	// GroupRecords is the most records one group sync covers. Default 256.
	GroupRecords int
	// Mode is the mode of the files the queue creates. Default 0600.
	Mode fs.FileMode
}

func (o Options) withDefaults() (Options, error) {
	if o.RecordSize <= 0 || o.RecordSize > maxRecordLen {
		return o, errors.New("fileq: RecordSize must be between 1 and 1 GiB")
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = 64 << 20
	}
	if o.SegmentSize < segHeaderSize+2*frameHeaderSize {
		o.SegmentSize = segHeaderSize + 2*frameHeaderSize
	}
	if o.GroupInterval <= 0 {
		o.GroupInterval = 2 * time.Millisecond
	}
	if o.GroupRecords <= 0 {
		o.GroupRecords = 256
	}
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	return o, nil
}
