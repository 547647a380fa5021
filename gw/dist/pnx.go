package dist

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// PNXSource is where dist learns the numbers carrier reports revealed as
// ported: the database's PNX table, which dbx keeps (gw/store).
type PNXSource interface {
	LoadPNXSince(ctx context.Context, since string) (map[string]string, string, error)
}

// PNXEvery is how often dist reads what PNX learned since its last look
// (and at once on SIGHUP). A number learned ported is routed to its new
// carrier at most this long after dbx wrote it.
const PNXEvery = time.Minute

// pnxTimeout bounds one read of PNX: a database that hangs must not hold
// the refresh loop (and Exit) for long.
const pnxTimeout = 30 * time.Second

// learnedPNX is dist's copy of the numbers the database's PNX table holds.
// They are whole numbers, and beat etc/pnx.conf (the seed: prefixes and
// numbers an operator wrote), because a carrier's report is the newer word.
// Read by the main loop for every record, written by pnxLoop.
type learnedPNX struct {
	mu sync.RWMutex
	m  map[string]string
}

func (l *learnedPNX) carrier(dest string) (string, bool) {
	l.mu.RLock()
	c, ok := l.m[dest]
	l.mu.RUnlock()
	return c, ok
}

func (l *learnedPNX) merge(m map[string]string) (changed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]string, len(m))
	}
	for n, c := range m {
		if l.m[n] != c {
			l.m[n] = c
			changed++
		}
	}
	return changed
}

func (l *learnedPNX) len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.m)
}

// pnxLoop reads PNX at start, every PNXEvery and when kicked (SIGHUP),
// until stop. A database that is down keeps the copy as it is: routing
// goes on from it and etc/pnx.conf, and the failure is logged once.
func (d *Dist) pnxLoop(src PNXSource, every time.Duration, kick <-chan struct{}) {
	since := ""
	failing := false
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		case <-kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), pnxTimeout)
		m, latest, err := src.LoadPNXSince(ctx, since)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			d.log.Warn("reading the learned PNX failed; routing from the copy held and pnx.conf until it works",
				zap.Int("learned", d.learned.len()), zap.Error(err))
		case err == nil:
			if failing {
				d.log.Info("learned PNX readable again")
				failing = false
			}
			if n := d.learned.merge(m); n > 0 || since == "" {
				d.log.Info("learned PNX read", zap.Int("changed", n), zap.Int("learned", d.learned.len()))
			}
			since = latest
		}
		t.Reset(every)
	}
}
