package spill

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/queue"
	"github.com/m1gw/m1/queue/shmq"
)

// ringsFile, in the queue's directory, names the segments the consumer
// reads from: its ring, and removed rings it still drains or commits. A
// consumer that starts after a ring was removed under a dead consumer finds
// the orphan there (it lives on while any producer holds it attached) and
// drains it first.
//
//	rings (text, one line per segment, replaced by rename)
//	<shmid> <created, Unix nanoseconds>
//
// The file name and the line format are part of the format. A segment does
// not survive a reboot, so neither is synced.
const (
	ringsFile    = "rings"
	ringsFileNew = "rings.new"
)

// ringRef names one generation of a segment.
type ringRef struct {
	shmid   int
	created int64
}

func refOf(s *shmq.Queue) ringRef {
	id, _ := s.IDs()
	return ringRef{shmid: id, created: s.Created()}
}

// readRings reads the rings file; a missing file is no rings.
func readRings(dir string) ([]ringRef, error) {
	f, err := os.Open(filepath.Join(dir, ringsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ringRef
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return out, fmt.Errorf("%s line %d: want \"<shmid> <created>\", got %q", filepath.Join(dir, ringsFile), n, sc.Text())
		}
		id, err1 := strconv.Atoi(fields[0])
		created, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return out, fmt.Errorf("%s line %d: %w", filepath.Join(dir, ringsFile), n, err)
		}
		out = append(out, ringRef{shmid: id, created: created})
	}
	return out, sc.Err()
}

// writeRings records the consumer's rings: cur, the adopted ones and the
// orphans. Caller holds takeMu or is Open. A failure is logged, not
// returned: it costs only the rescue of a ring removed while this consumer
// is dead.
func (q *Queue) writeRings(cur *shmq.Queue) {
	q.ringsDirty.Store(false)
	var b strings.Builder
	seen := map[ringRef]bool{}
	add := func(s *shmq.Queue) {
		if s == nil {
			return
		}
		r := refOf(s)
		if seen[r] {
			return
		}
		seen[r] = true
		fmt.Fprintf(&b, "%d %d\n", r.shmid, r.created)
	}
	add(cur)
	for _, s := range q.adopted {
		add(s)
	}
	for _, s := range q.orphans {
		add(s)
	}
	tmp := filepath.Join(q.o.Dir, ringsFileNew)
	err := os.WriteFile(tmp, []byte(b.String()), 0o600)
	if err == nil {
		err = os.Rename(tmp, filepath.Join(q.o.Dir, ringsFile))
	}
	if err != nil {
		q.log.Warn("recording the rings (a ring removed while this consumer is dead could not be drained)", zap.Error(err))
	}
}

// adoptOrphans attaches, at Open, to the rings the last consumer recorded
// that were removed since and are still alive (held by producers), and
// claims them: Take drains them, redelivered records marked, before
// anything else.
func (q *Queue) adoptOrphans() {
	refs, err := readRings(q.o.Dir)
	if err != nil {
		q.log.Warn("reading the recorded rings", zap.Error(err))
	}
	var current ringRef
	if q.shm != nil {
		current = refOf(q.shm)
	}
	for _, r := range refs {
		if r == current {
			continue
		}
		s, err := shmq.OpenRemoved(r.shmid, r.created, q.o.Shm)
		if err != nil {
			continue // gone, or never removed: nothing to drain
		}
		if err := s.Claim(); err != nil {
			// Its consumer is alive (another handle drains it).
			_ = s.Close()
			continue
		}
		q.log.Warn("draining a removed ring a dead consumer left", zap.Int("shmid", r.shmid),
			zap.Int("records", s.Len()))
		q.adopted = append(q.adopted, s)
	}
	q.writeRings(q.shm)
}

// takeAdopted takes from the oldest adopted ring. A ring found empty for
// rescueAfter (no producer can still be putting into it unawares) goes to
// the orphans, kept until what was taken from it is committed. Caller
// holds takeMu.
func (q *Queue) takeAdopted(dst []queue.Record, max int) ([]queue.Record, error) {
	for len(q.adopted) > 0 {
		s := q.adopted[0]
		n := len(dst)
		var err error
		dst, err = s.TakeBatch(dst, max, 0)
		if len(dst) > n {
			q.adoptedEmpty = time.Time{}
			return q.note(dst, n, s), nil
		}
		if err != nil && !errors.Is(err, queue.ErrEmpty) && !errors.Is(err, queue.ErrRemoved) {
			return dst, err
		}
		if q.adoptedEmpty.IsZero() {
			q.adoptedEmpty = time.Now()
		}
		if time.Since(q.adoptedEmpty) < rescueAfter {
			return dst, nil
		}
		q.adoptedEmpty = time.Time{}
		q.adopted = q.adopted[1:]
		q.orphans = append(q.orphans, s)
		q.closeCommittedOrphans()
		q.writeRings(q.ring())
	}
	return dst, nil
}

// holdRemoved keeps a ring removed under a producer attached until every
// record in it is committed: if its consumer is dead, the segment must
// outlive the removal until a new consumer adopts it. Caller holds shmMu.
func (q *Queue) holdRemoved(s *shmq.Queue) {
	if s.Drained() {
		_ = s.Close()
		return
	}
	q.held = append(q.held, s)
}

// heldCheckEvery is how often a producer looks whether the removed rings
// it holds are drained.
const heldCheckEvery = 250 * time.Millisecond

// releaseHeld detaches the held rings that are drained. Caller holds shmMu.
func (q *Queue) releaseHeld(force bool) {
	if len(q.held) == 0 || !force && time.Since(q.heldChecked) < heldCheckEvery {
		return
	}
	q.heldChecked = time.Now()
	kept := q.held[:0]
	for _, s := range q.held {
		if force || s.Drained() {
			_ = s.Close()
			continue
		}
		kept = append(kept, s)
	}
	clear(q.held[len(kept):])
	q.held = kept
}
