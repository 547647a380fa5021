package sender

import (
	"sort"

	"github.com/m1gw/m1/gw/msg"
)

// entry is one record taken from SND.<ID>, from Take until its position
// is committed.
type entry struct {
	pos         uint64
	m           msg.Message
	redelivered bool
	submitted   bool   // a submit is on the link, unanswered
	seq         uint32 // its SEQ while submitted
	done        bool   // its Ack is stored on DBX (or it cannot be sent at all)
}

// tracker holds the taken records in position order and says how far the
// queue may be committed: up to the highest position below which every
// record is done. Records are taken in position order by one consumer, so
// appending keeps the order.
type tracker struct {
	taken    []*entry // position order; the front is the lowest uncommitted
	ready    []*entry // to submit, position order
	inflight map[uint32]*entry
}

func newTracker() *tracker { return &tracker{inflight: map[uint32]*entry{}} }

func (t *tracker) add(e *entry) {
	t.taken = append(t.taken, e)
	if !e.done { // a record that is not a message is done when taken
		t.ready = append(t.ready, e)
	}
}

// advance pops the done prefix and returns the position to commit and how
// many records it frees (0: nothing to commit).
func (t *tracker) advance() (pos uint64, n int) {
	for n < len(t.taken) && t.taken[n].done {
		pos = t.taken[n].pos
		n++
	}
	if n > 0 {
		copy(t.taken, t.taken[n:])
		for i := len(t.taken) - n; i < len(t.taken); i++ {
			t.taken[i] = nil
		}
		t.taken = t.taken[:len(t.taken)-n]
	}
	return pos, n
}

// next pops the lowest ready record.
func (t *tracker) next() *entry {
	if len(t.ready) == 0 {
		return nil
	}
	e := t.ready[0]
	t.ready[0] = nil
	t.ready = t.ready[1:]
	return e
}

// submitted records e under seq.
func (t *tracker) submitted(e *entry, seq uint32) {
	e.submitted, e.seq = true, seq
	t.inflight[seq] = e
}

// answered removes the submit under seq from the window.
func (t *tracker) answered(seq uint32) *entry {
	e := t.inflight[seq]
	if e != nil {
		delete(t.inflight, seq)
		e.submitted = false
	}
	return e
}

// retry puts e back among the ready records, in position order.
func (t *tracker) retry(e *entry) {
	i := sort.Search(len(t.ready), func(i int) bool { return t.ready[i].pos > e.pos })
	t.ready = append(t.ready, nil)
	copy(t.ready[i+1:], t.ready[i:])
	t.ready[i] = e
}

// requeue puts every unanswered submit back among the ready records (the
// link is lost: they are submitted again on the next one) and returns how
// many.
func (t *tracker) requeue() int {
	n := len(t.inflight)
	for seq, e := range t.inflight {
		e.submitted = false
		t.ready = append(t.ready, e)
		delete(t.inflight, seq)
	}
	sort.Slice(t.ready, func(i, j int) bool { return t.ready[i].pos < t.ready[j].pos })
	return n
}
