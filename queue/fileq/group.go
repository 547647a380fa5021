package fileq

import (
	"sync"
	"time"

	"github.com/m1gw/m1/queue"
)

// putReq is one PutBatch waiting for the group committer.
type putReq struct {
	recs    [][]byte
	written func()
	n       int
	err     error
	done    chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &putReq{done: make(chan struct{}, 1)} }}

// groupPut hands recs to the committer and waits until they are synced.
// Called with closeMu held shared, so the committer outlives the call.
func (q *Queue) groupPut(recs [][]byte, written func()) (int, error) {
	q.inPut.Add(1)
	r := reqPool.Get().(*putReq)
	r.recs, r.written, r.n, r.err = recs, written, 0, nil
	q.reqs <- r
	<-r.done
	n, err := r.n, r.err
	r.recs, r.written = nil, nil
	reqPool.Put(r)
	return n, err
}

// commitLoop is the group committer: it writes every waiting request with
// one write under one hold of the append lock and covers them with one
// fdatasync. Requests that arrive while a sync runs wait for the next one,
// which is how concurrent producers come to share a sync. Before syncing a
// batch smaller than GroupRecords it lingers for Puts of this process
// already under way (counted in inPut but not yet queued) and for as many
// requests as the previous batch held, at most GroupInterval and at most as
// long as the previous sync took; a lone producer never waits.
func (q *Queue) commitLoop() {
	defer q.wg.Done()
	var batch []*putReq
	var recs [][]byte
	prev := 0                  // requests in the previous batch
	var lastSync time.Duration // how long the previous batch took
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
		var timer *time.Timer
	gather:
		for nrec < q.opts.GroupRecords {
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
				nrec += len(r.recs)
				continue
			default:
			}
			// Wait for Puts under way, and for as many requests as the
			// last batch had: its producers were just answered and are
			// likely coming back. Never longer than GroupInterval nor than
			// the last sync took, so a drop in load costs little.
			if len(batch) >= max(int(q.inPut.Load()), prev) {
				break gather
			}
			if timer == nil {
				timer = time.NewTimer(min(q.opts.GroupInterval, lastSync))
			}
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
				nrec += len(r.recs)
			case <-timer.C:
				break gather
			}
		}
		if timer != nil {
			timer.Stop()
		}
		prev = len(batch)
		start := time.Now()
		recs = recs[:0]
		for _, r := range batch {
			recs = append(recs, r.recs...)
		}
		var stored int
		err := q.locked(func() error {
			var aerr error
			stored, aerr = q.a.append(recs, func() {
				for _, r := range batch {
					if r.written != nil {
						r.written()
					}
				}
			})
			return aerr
		})
		lastSync = time.Since(start)
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
