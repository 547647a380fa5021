package fileq

import (
	"os"

	"github.com/m1gw/m1/queue"
)

// MarkRedelivered marks every record in the queue now, taken or not, as
// taken before: this consumer and the next deliver them with Redelivered
// set. Records put after the call are not marked.
//
// It is for a consumer that moves records delivered before into this queue
// (queue/spill's Save moves a ring's records here): without it they would
// come out unmarked, and a consumer that acts on the mark (dist's duplicate
// check) would take a record's own key for a duplicate. The mark is one
// position (the taken mark of consumer.lock), so records that were waiting
// here untaken are marked too. A mark means "may have been delivered
// before": it costs a consumer a check, never a record.
func (q *Queue) MarkRedelivered() error {
	if q.c == nil {
		return ErrNotConsumer
	}
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return queue.ErrClosed
	}
	var tail uint64
	// The tail as the files say, under the append lock: puts of other
	// processes count.
	if err := q.locked(func() error {
		if err := q.a.refresh(); err != nil {
			return err
		}
		tail = q.a.next
		return nil
	}); err != nil {
		return err
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.redel = max(c.redel, tail)
	if tail <= c.taken {
		return nil
	}
	return c.writeConsFile(uint32(os.Getpid()), tail)
}
