package msg

import (
	"fmt"
	"sync/atomic"
	"time"
)

// IDGen makes GW_IDs: 20 digits, unique across processes and restarts with
// no coordination but a node number configured per process.
//
//	+---------------------------+------+-----------+
//	| unix milliseconds (13)    | node | counter   |
//	| 1763770000123             | 01   | 00042     |
//	+---------------------------+------+-----------+
//
// The counter counts ids within one millisecond (100,000 a millisecond at
// most); when it runs out, Next waits for the next millisecond. The clock
// never goes backwards as far as IDGen is concerned: when the system clock
// steps back, it keeps counting in the last millisecond it used, and when
// that runs out it moves to the next millisecond on its own, ahead of the
// clock, until the clock catches up. Two processes must never share a node
// number; a restarted process is unique against its former self as long as
// the clock did not step back across the restart by more than the restart
// took. IDs of one process increase strictly; the ids of all processes sort
// roughly by time.
//
// IDGen is safe for concurrent use and lock-free (one compare-and-swap an
// id).
type IDGen struct {
	node  uint64
	state atomic.Uint64 // ms<<17 | counter
	now   func() int64  // unix milliseconds
}

const (
	ctrBits = 17
	ctrMask = 1<<ctrBits - 1
	ctrMax  = 99999
)

// NewIDGen returns a generator for node 0..99.
func NewIDGen(node int) (*IDGen, error) {
	if node < 0 || node > 99 {
		return nil, fmt.Errorf("gw_id node %d: want 0..99", node)
	}
	return &IDGen{node: uint64(node), now: func() int64 { return time.Now().UnixMilli() }}, nil
}

func (g *IDGen) next() (ms, ctr uint64) {
	for {
		old := g.state.Load()
		oms, octr := old>>ctrBits, old&ctrMask
		now := uint64(g.now())
		switch {
		case now > oms:
			ms, ctr = now, 0
		case octr < ctrMax:
			ms, ctr = oms, octr+1
		case now < oms:
			ms, ctr = oms+1, 0 // clock behind and this millisecond used up: run ahead
		default:
			time.Sleep(50 * time.Microsecond) // this millisecond used up: wait for the next
			continue
		}
		if g.state.CompareAndSwap(old, ms<<ctrBits|ctr) {
			return ms, ctr
		}
	}
}

// AppendNext appends the next GW_ID's 20 digits to dst.
func (g *IDGen) AppendNext(dst []byte) []byte {
	ms, ctr := g.next()
	var b [20]byte
	for i := 12; i >= 0; i-- {
		b[i] = byte('0' + ms%10)
		ms /= 10
	}
	b[13] = byte('0' + g.node/10)
	b[14] = byte('0' + g.node%10)
	for i := 19; i >= 15; i-- {
		b[i] = byte('0' + ctr%10)
		ctr /= 10
	}
	return append(dst, b[:]...)
}

// Next returns the next GW_ID.
func (g *IDGen) Next() string {
	var b [20]byte
	return string(g.AppendNext(b[:0]))
}
