package dist

import (
	"sync"

	"github.com/m1gw/m1/gw/config"
	"github.com/m1gw/m1/gw/proctab"
)

// SenderState is what dist needs to know of a sender process.
type SenderState struct {
	Alive  bool // the process runs (a dead one has its backlog re-routed after the delay)
	LinkUp bool // its carrier link is up
}

// SenderHealth tells dist the state of each sender by id (KT1, ...). The
// production implementation reads the process table (TableHealth); tests of
// the routing logic use StaticHealth.
type SenderHealth interface {
	Senders(ids []string, out []SenderState)
}

// TableHealth reads sender states from the process table: a sender is
// alive when its slot names a live process, and its link is up when the
// slot says so and the process is running.
type TableHealth struct{ T *proctab.Table }

// Senders fills out[i] with the state of sender ids[i].
func (h TableHealth) Senders(ids []string, out []SenderState) {
	for i, id := range ids {
		e, ok := h.T.Lookup(config.SenderProcess(id))
		out[i] = SenderState{Alive: ok && e.Alive, LinkUp: ok && e.Up()}
	}
}

// StaticHealth is a SenderHealth set by hand: for tests and for running
// without a process table. Unknown senders are up.
type StaticHealth struct {
	mu sync.Mutex
	m  map[string]SenderState
}

// Set records a sender's state.
func (h *StaticHealth) Set(id string, alive, linkUp bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]SenderState{}
	}
	h.m[id] = SenderState{Alive: alive, LinkUp: linkUp}
}

// Senders fills out[i] with the state of sender ids[i].
func (h *StaticHealth) Senders(ids []string, out []SenderState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, id := range ids {
		s, ok := h.m[id]
		if !ok {
			s = SenderState{Alive: true, LinkUp: true}
		}
		out[i] = s
	}
}
