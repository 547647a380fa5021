package fileq

import (
	"runtime"
	"sync"
	"time"

	"github.com/m1gw/m1/queue"
)

// putReq is one PutBatch waiting for the group committer.
type putReq struct {
	recs [][]byte
	n    int
	err  error
	done chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &putReq{done: make(chan struct{}, 1)} }}

// groupPut hands recs to the committer and waits until they are synced.
// Called with closeMu held shared, so the committer outlives the call.
func (q *Queue) groupPut(recs [][]byte) (int, error) {
	q.inPut.Add(1)
	r := reqPool.Get().(*putReq)
	r.recs, r.n, r.err = recs, 0, nil
	q.reqs <- r
	<-r.done
	n, err := r.n, r.err
	r.recs = nil
	reqPool.Put(r)
	return n, err
}

// commitLoop is the group committer: it writes every waiting request with
// one write under one hold of the append lock and covers them with one
// fdatasync. Requests that arrive while a sync runs wait for the next one,
// which is how concurrent producers come to share a sync. Before syncing a
// batch smaller than GroupRecords it lingers, at most GroupInterval, only
// for Puts of this process already under way (counted in inPut but not yet
// queued), so a lone producer never waits for company that is not coming.
func (q *Queue) commitLoop() {
	defer q.wg.Done()
	var batch []*putReq
	var recs [][]byte
	for {
		var first *putReq
		select {
		case first = <-q.reqs:
		case <-q.closing:
			// closeMu is held exclusively: no Put is in flight.
			return
		}
		batch = append(batch[:0], first)
		nrec := len(first.recs)
		var deadline time.Time
	gather:
		for nrec < q.opts.GroupRecords {
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
				nrec += len(r.recs)
				continue
			default:
			}
			if int64(len(batch)) >= q.inPut.Load() {
				break gather
			}
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(q.opts.GroupInterval)
			} else if now.After(deadline) {
				break gather
			}
			runtime.Gosched()
		}
		recs = recs[:0]
		for _, r := range batch {
			recs = append(recs, r.recs...)
		}
		var stored int
		err := q.locked(func() error {
			var aerr error
			stored, aerr = q.a.append(recs)
			return aerr
		})
		q.inPut.Add(-int64(len(batch)))
		for _, r := range batch {
			switch {
			case stored >= len(r.recs):
				r.n, r.err = len(r.recs), nil
				stored -= len(r.recs)
			default:
				r.n, r.err = stored, err
				stored = 0
				if r.err == nil {
					r.err = queue.ErrClosed
				}
			}
			r.done <- struct{}{}
		}
		clear(recs)
	}
}
