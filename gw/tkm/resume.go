package tkm

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/ipc"
	"github.com/m1gw/m1/queue/fileq"
)

// DupIndex is the part of gw/dupindex tkm_files uses: whether dist has
// recorded a CLIENT_ID+MSG_KEY. tkm_files never records keys itself.
type DupIndex interface {
	Contains(clientID, msgKey string, now time.Time) (bool, error)
}

// errRetry is returned when a resume cannot decide which records of an
// interrupted batch were queued (a lane or the duplicate index could not
// be read): the file is left where it is and tried again at the next poll.
var errRetry = errors.New("tkm: interrupted batch not resolved yet")

// offGWID is where a lane record (msg.MessageLayout) holds its GW_ID.
var offGWID = msg.MessageLayout.MustFixed("GW_ID")

// resumed is what the resume decided for one journaled record.
type resumed struct {
	pendEntry
	queued bool // put before the interruption: never put again
}

// resolve decides, for every journaled record without a result line,
// whether the interrupted attempt put it. The records to be put form a
// prefix of the journal's put order (PutBatch stores a prefix, lanes are
// put one after another, a kill stops the sequence), so it is enough to
// find the last record with evidence of its put:
//
//	A. its GW_ID is still in its lane: in the ring from its commit position
//	   to its tail, or in the file part from its committed position;
//	B. then: its key, not in the duplicate index when the journal was
//	   written, is there now (dist records the key before it commits the
//	   lane record, so a record that left the lane left its key).
//
// A is done before B: a record that moves from the lane to dist meanwhile
// is seen by B. A ring saved to its file part is found there: the ring is
// looked at first, and Save writes the file part before it commits the
// ring. earlier holds keys that an earlier line of the file also has: the
// index cannot tell those apart.
func (j *job) resolve(earlier map[string]bool) error {
	jr := j.jr
	t := j.t
	j.resume = map[int]resumed{}
	// A result line of the batch was written only after all its puts.
	partial := j.done >= jr.first
	var order []pendEntry
	for _, e := range jr.entries {
		switch {
		case e.line <= j.done:
		case e.state == stateQueued || partial:
			j.resume[e.line] = resumed{pendEntry: e, queued: true}
		default:
			order = append(order, e)
		}
	}
	last, inLane, inIndex := -1, 0, 0
	if len(order) > 0 {
		want := make(map[string]int, len(order))
		for i, e := range order {
			want[e.gwid] = i
		}
		found, err := t.scanLanes(want)
		if err != nil {
			return fmt.Errorf("%w: %w", errRetry, err)
		}
		inLane = len(found)
		for _, i := range found {
			last = max(last, i)
		}
		if t.opts.Dup != nil {
			firstOf := map[string]int{}
			for i, e := range order {
				if _, ok := firstOf[keyOf(e.clientID, e.msgKey)]; !ok {
					firstOf[keyOf(e.clientID, e.msgKey)] = i
				}
			}
			now := t.opts.Now()
			for _, e := range order {
				k := keyOf(e.clientID, e.msgKey)
				if e.state != stateFresh || earlier[k] || firstOf[k] <= last {
					continue
				}
				in, err := t.opts.Dup.Contains(e.clientID, e.msgKey, now)
				if err != nil {
					return fmt.Errorf("%w: duplicate index: %w", errRetry, err)
				}
				if in {
					inIndex++
					// Any record of the key put means its first one was.
					last = max(last, firstOf[k])
				}
			}
		}
	}
	for i, e := range order {
		j.resume[e.line] = resumed{pendEntry: e, queued: i <= last}
	}
	queued := 0
	for _, r := range j.resume {
		if r.queued {
			queued++
		}
	}
	j.log.Warn("resuming a batch interrupted between its puts and its result lines",
		zap.Int("first_line", jr.first), zap.Int("last_line", jr.last), zap.Int("records", len(j.resume)),
		zap.Int("queued_before", queued), zap.Int("to_queue_now", len(j.resume)-queued),
		zap.Int("found_in_lanes", inLane), zap.Int("found_in_dup_index", inIndex), zap.Bool("result_partly_written", partial))
	return nil
}

func keyOf(clientID, msgKey string) string { return clientID + "\x00" + msgKey }

// scanLanes returns the put-order indexes (values of want) of the GW_IDs
// that the lanes hold, uncommitted. Each lane's ring is looked at before
// its file part.
func (t *Tkm) scanLanes(want map[string]int) ([]int, error) {
	cfg := t.opts.Config
	var found []int
	seen := map[string]bool{}
	look := func(data []byte) {
		if len(data) < offGWID.Off+offGWID.Len {
			return
		}
		id := string(data[offGWID.Off : offGWID.Off+offGWID.Len])
		if i, ok := want[id]; ok && !seen[id] {
			seen[id] = true
			found = append(found, i)
		}
	}
	all := func() bool { return len(seen) == len(want) }
	for _, jc := range []byte{'R', 'S', 'B'} {
		if all() {
			break
		}
		name := t.opts.Lanes[jc].Name()
		o, err := queues.Options(cfg, name, false, nil)
		if err != nil {
			return nil, err
		}
		s, err := queues.OpenShm(cfg, name)
		switch {
		case err == nil:
			for _, r := range s.Peek(s.Capacity()) {
				look(r.Data)
			}
			_ = s.Close()
		case !errors.Is(err, ipc.ErrNotExist):
			return nil, fmt.Errorf("lane %s: %w", name, err)
		}
		if err := fileq.Peek(o.Dir, func(_ uint64, data []byte) bool { look(data); return !all() }); err != nil {
			return nil, fmt.Errorf("lane %s: %w", name, err)
		}
	}
	return found, nil
}
