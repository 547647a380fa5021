package fileq

import "errors"

// ErrDiskFull is returned (wrapped, with the path) when a write fails because
// the disk or the process's file-size limit is full (ENOSPC, EFBIG, EDQUOT).
// The frame that did not fit is cut off; every record acknowledged before is
// kept.
var ErrDiskFull = errors.New("fileq: disk full")

// ErrNotConsumer is returned by Take, TakeBatch and Commit on a queue opened
// without Options.Consumer.
var ErrNotConsumer = errors.New("fileq: queue not opened as consumer")
