package daemon

import (
	"errors"
	"sync"

	"go.uber.org/zap"
)

// Closers holds what a daemon's constructor opened for it (queues, the
// process table, the store, the duplicate index) and closes it once, in
// reverse order, after the daemon stopped: step 5 of the stop order. A
// constructor that fails half way closes what it had opened with the same
// call.
type Closers struct {
	what string
	log  *zap.Logger
	mu   sync.Mutex
	fns  []func() error
	done bool
}

// NewClosers returns an empty set; what names its contents in the error
// logged when closing fails ("queues, process table and store").
func NewClosers(what string, log *zap.Logger) *Closers {
	return &Closers{what: what, log: log}
}

// Add registers f to be closed, after everything added before it.
func (c *Closers) Add(f func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

// Close closes everything added, last first, once; closing again is
// harmless. Errors are logged, not returned: the daemon has stopped and
// there is nobody left to act on them but the operator.
func (c *Closers) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.fns = nil
	if err := errors.Join(errs...); err != nil && c.log != nil {
		c.log.Error("closing "+c.what, zap.Error(err))
	}
}
