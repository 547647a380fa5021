package spill

import (
	"errors"
	"fmt"
	"time"

	"github.com/m1gw/m1/queue"
)

// Len is the number of uncommitted records in both parts. A producer that
// has not written to the file part yet opens it to count.
func (q *Queue) Len() int {
	n := 0
	if s := q.ring(); s != nil {
		n = s.Len()
	}
	if f, err := q.filePart(); err == nil {
		n += f.Len()
	}
	return n
}

// RingLen is the number of uncommitted records in the ring alone: two
// loads from the segment header, cheap enough to read per batch (eai_lsnr's
// intake brake does). 0 while there is no ring.
//
// A handle that only reads (eai_lsnr's brake never puts into DBX) would
// never meet an ipcrm of the segment in a put, and would read a dead
// header for good: RingLen looks for the removal itself (at most every
// 250 ms) and forgets such a ring as a put would.
func (q *Queue) RingLen() int {
	s := q.ring()
	if s == nil {
		return 0
	}
	if !q.o.Consumer && s.RemovedLately() {
		q.dropRing(s, fmt.Errorf("queue %s: segment removed: %w", q.Name(), queue.ErrRemoved))
		return 0
	}
	return s.Len()
}

// Stat reports the ring's header, with the file part's depth in FileLen.
func (q *Queue) Stat() (queue.Stat, error) {
	st := queue.Stat{Name: q.Name(), RecordSize: q.RecordSize(), Capacity: q.o.Shm.Capacity}
	if s := q.ring(); s != nil {
		var err error
		if st, err = s.Stat(); err != nil {
			return st, err
		}
	}
	st.Kind = "spill"
	if f, err := q.filePart(); err == nil {
		st.FileLen = f.Len()
	}
	return st, nil
}

// Spilling tells whether writers currently go to the file part.
func (q *Queue) Spilling() bool {
	s := q.ring()
	return s == nil || s.Spilling()
}

// Save moves every record the ring holds into the file part (synced), then
// commits them in the ring. Only the consumer may save, after it has
// committed what it finished; records it took and did not commit are saved
// too. Records producers put while Save runs stay in the ring.
//
// Records that were delivered before (taken and not committed, by this
// handle or a consumer that died) keep their Redelivered mark in the file
// part (fileq's MarkRedelivered): records already waiting there are marked
// with them, which costs a consumer a check, never a record. Without the
// mark a dist would have ended such a record 1201 on its own key.
func (q *Queue) Save() (int, error) {
	if !q.o.Consumer {
		return 0, queue.ErrConsumerBusy
	}
	q.takeMu.Lock()
	defer q.takeMu.Unlock()
	s := q.ring()
	if s == nil {
		return 0, nil
	}
	// The consumer role first: a handle that has not taken yet would
	// otherwise commit positions it never took, and claiming moves head
	// back to what is committed, so everything Peek shows is taken below.
	if err := s.Claim(); err != nil {
		return 0, err
	}
	recs := s.Peek(s.Capacity())
	if len(recs) == 0 {
		return 0, nil
	}
	// The records delivered before are a prefix: those this handle took
	// (below head), then those a dead consumer took (below redeliver).
	st, err := s.Stat()
	if err != nil {
		return 0, err
	}
	marked := 0
	for marked < len(recs) && (recs[marked].Pos < st.Head || recs[marked].Redelivered) {
		marked++
	}
	data := make([][]byte, len(recs))
	for i := range recs {
		data[i] = recs[i].Data
	}
	if marked > 0 {
		if n, err := q.file.PutBatch(data[:marked], 10*time.Second); err != nil {
			return n, err
		}
		if err := q.file.MarkRedelivered(); err != nil {
			return marked, fmt.Errorf("queue %s: marking saved records redelivered: %w", q.Name(), err)
		}
	}
	if n, err := q.file.PutBatch(data[marked:], 10*time.Second); err != nil {
		return marked + n, err
	}
	last := recs[len(recs)-1].Pos
	for {
		st, _ := s.Stat()
		if st.Head > last {
			break
		}
		if _, err := s.TakeBatch(nil, int(last-st.Head+1), 0); err != nil && !errors.Is(err, queue.ErrEmpty) {
			return len(recs), err
		}
	}
	if err := s.Commit(last); err != nil {
		return len(recs), err
	}
	q.taken = q.taken[:0]
	s.MarkSpilling()
	return len(recs), nil
}

// Close closes both parts. Taken and uncommitted records are delivered again
// to the next consumer.
func (q *Queue) Close() error {
	q.takeMu.Lock()
	q.closed.Store(true)
	orphans := append(q.orphans, q.adopted...)
	q.orphans, q.adopted = nil, nil
	q.takeMu.Unlock()
	var errs []error
	for _, o := range orphans {
		errs = append(errs, o.Close())
	}
	q.shmMu.Lock()
	if q.shm != nil {
		errs = append(errs, q.shm.Close())
		q.shm = nil
	}
	// A stopping producer lets go of the removed rings it held: a live
	// consumer drains them; if it is dead, only other producers still
	// hold them for the next one.
	q.releaseHeld(true)
	q.shmMu.Unlock()
	q.fileMu.Lock()
	if q.file != nil {
		errs = append(errs, q.file.Close())
		q.file = nil
	}
	q.fileMu.Unlock()
	return errors.Join(errs...)
}
