package fileq

import (
	"errors"
	"fmt"

	"github.com/m1gw/m1/queue"
)

// ErrDiskFull is returned (wrapped, with the path and the system error) when
// a write fails because the disk or the process's file-size limit is full
// (ENOSPC, EFBIG, EDQUOT). The frame that did not fit is cut off; every
// record acknowledged before is kept. It wraps queue.ErrFull, so callers
// that answer a full queue with result 2001 answer a full disk the same way.
var ErrDiskFull = fmt.Errorf("fileq: disk full: %w", queue.ErrFull)

// ErrNotConsumer is returned by Take, TakeBatch and Commit on a queue opened
// without Options.Consumer.
var ErrNotConsumer = errors.New("fileq: queue not opened as consumer")
