package tkm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue"
)

// job is one file being taken.
type job struct {
	t      *Tkm
	name   string
	path   string
	log    *zap.Logger
	res    *os.File
	done   int             // records with a result line
	jr     *journal        // the interrupted batch, when the start found one
	resume map[int]resumed // its records without a result line, by line
	counts map[telegram.Code]int
	queued int
	broken bool
}

// item is one record of a batch.
type item struct {
	line   int
	key    string
	code   telegram.Code
	gwid   string
	lane   byte
	m      *msg.Message // nil: refused
	rec    []byte
	before bool // queued by the interrupted attempt: not put again
	again  bool // of the interrupted batch, not queued then: put now
}

// take processes one complete file: from where a previous run stopped, to
// done/ or error/.
func (t *Tkm) take(name string) {
	j := &job{t: t, name: name, path: filepath.Join(t.spool, name), log: t.log.With(zap.String("file", name)),
		counts: map[telegram.Code]int{}}
	if _, err := os.Stat(j.path); errors.Is(err, os.ErrNotExist) {
		// Moved already by a run that died before removing the marker.
		j.finishMove("")
		return
	}
	err := j.run()
	if j.res != nil {
		_ = j.res.Close()
	}
	switch {
	case errors.Is(err, errRetry):
		j.log.Error("cannot resume the file yet; trying again at the next poll", zap.Error(err))
	case errors.Is(err, errStopped):
		j.log.Info("stopped within the file; it resumes at the next start", zap.Int("records_done", j.done))
	case err != nil && j.done == 0 && !j.broken:
		j.log.Error("file unreadable; moved to error/", zap.Error(err))
		j.finishMove(ErrorDir)
	case err != nil:
		j.log.Error("file broken; records before the break were taken; moved to error/", zap.Int("records", j.done), zap.Error(err))
		j.summary()
		j.finishMove(ErrorDir)
	default:
		j.summary()
		j.finishMove(DoneDir)
	}
}

func (j *job) summary() {
	by := map[string]int{}
	refused := 0
	for c, n := range j.counts {
		by[fmt.Sprintf("%04d", uint16(c))] = n
		refused += n
	}
	j.log.Info("file done", zap.Int("records", j.done), zap.Int("queued", j.queued), zap.Int("refused", refused),
		zap.Any("refused_by_code", by))
}

// run reads the file from its first record without a result line.
func (j *job) run() error {
	f, err := os.Open(j.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := j.openResult(); err != nil {
		return err
	}
	if err := j.readPending(); err != nil {
		return err
	}
	// Keys of the interrupted batch's fresh records that an earlier line
	// of the file also has: the duplicate index cannot speak for them.
	var earlier map[string]bool
	if j.jr != nil {
		earlier = map[string]bool{}
		for _, e := range j.jr.entries {
			if e.state == stateFresh && e.line > j.done {
				earlier[keyOf(e.clientID, e.msgKey)] = false
			}
		}
	}
	r := bufio.NewReaderSize(f, 64<<10)
	buf := make([]byte, msg.BulkRecordLen)
	for line := 1; line <= j.done; line++ {
		rec, err := msg.ReadBulkRecord(r, buf)
		if err != nil {
			return fmt.Errorf("record %d, already done: %w", line, err)
		}
		if len(earlier) > 0 && len(rec) >= 30 {
			if k := keyOf(trimAN(rec[:10]), trimAN(rec[10:30])); !earlier[k] {
				if _, ok := earlier[k]; ok {
					earlier[k] = true
				}
			}
		}
	}
	if j.done > 0 {
		j.log.Info("resuming the file", zap.Int("records_done", j.done))
	}
	pendTo := 0
	if j.jr != nil {
		if err := j.resolve(earlier); err != nil {
			return err
		}
		pendTo = j.jr.last
	}
	line := j.done
	batch := make([]item, 0, j.t.opts.Batch)
	for {
		if j.t.stopping() {
			return errStopped
		}
		batch = batch[:0]
		var ferr error
		// The first batch covers the interrupted one whole, whatever the
		// batch size now: its journal must carry every record decided.
		for len(batch) < j.t.opts.Batch || line < pendTo {
			rec, err := msg.ReadBulkRecord(r, buf)
			if err == io.EOF {
				ferr = io.EOF
				break
			}
			line++
			if err != nil {
				// The file is not whole records from here: this record is
				// refused and the rest cannot be framed.
				j.broken = true
				batch = append(batch, item{line: line, code: telegram.ErrField})
				ferr = fmt.Errorf("record %d: %w", line, err)
				break
			}
			batch = append(batch, j.t.check(rec, line, j.name))
		}
		if len(batch) > 0 {
			if err := j.step(batch); err != nil {
				return err
			}
		}
		if ferr == io.EOF {
			return nil
		}
		if ferr != nil {
			return ferr
		}
	}
}

// check decodes and validates one record and builds its lane record.
func (t *Tkm) check(rec []byte, line int, name string) item {
	it := item{line: line}
	b, err := msg.DecodeBulk(rec)
	if err != nil {
		if len(rec) >= 30 {
			it.key = trimAN(rec[10:30])
		}
		it.code = telegram.ResultOf(err)
		return it
	}
	it.key = b.MsgKey
	now := t.opts.Now()
	m := b.Message()
	if it.code = m.Validate(t.lim); it.code != telegram.OK {
		return it
	}
	if m.SendTime != "" {
		if st, err := msg.ParseTime(m.SendTime); err == nil && st.After(now.Add(time.Minute)) {
			it.code = telegram.ErrField // reserved sends go through T41
			return it
		}
	}
	m.AcceptTime = msg.FormatTime(now)
	m.ExpireTime = msg.FormatTime(now.Add(t.validity))
	m.SrcRef = srcRef(name, line)
	it.lane = m.JobClass
	it.m = &m
	return it
}

// srcRef is "NAME:LINE", cut from the left of the name to fit SRC_REF (48).
func srcRef(name string, line int) string {
	s := ":" + strconv.Itoa(line)
	if len(name)+len(s) > 48 {
		name = name[len(name)+len(s)-48:]
	}
	return name + s
}

func trimAN(b []byte) string {
	i := len(b)
	for i > 0 && (b[i-1] == ' ' || b[i-1] == 0) {
		i--
	}
	return string(b[:i])
}

// step queues one batch and records its results: pending journal, puts,
// result lines.
func (j *job) step(batch []item) error {
	t := j.t
	jr := journal{first: batch[0].line, last: batch[len(batch)-1].line}
	for i := range batch {
		it := &batch[i]
		r, ok := j.resume[it.line]
		switch {
		case ok && r.queued:
			// Queued before the interruption: answered, never put again,
			// whatever a check with today's settings says.
			it.before, it.gwid, it.code, it.m = true, r.gwid, telegram.OK, nil
			e := r.pendEntry
			e.state = stateQueued
			jr.entries = append(jr.entries, e)
			continue
		case it.m == nil:
			continue
		case ok:
			it.gwid, it.again = r.gwid, true
		default:
			it.gwid = t.ids.Next()
		}
		it.m.GWID = it.gwid
		it.rec = it.m.Encode(make([]byte, 0, it.m.Size()))
	}
	now := t.opts.Now()
	for _, jc := range []byte{'R', 'S', 'B'} {
		for i := range batch {
			if it := &batch[i]; it.rec != nil && it.lane == jc {
				jr.entries = append(jr.entries, pendEntry{line: it.line, gwid: it.gwid, lane: jc,
					state: j.freshness(it.m, now), clientID: it.m.ClientID, msgKey: it.m.MsgKey})
			}
		}
	}
	if err := j.writePending(jr); err != nil {
		return err
	}
	for _, jc := range []byte{'R', 'S', 'B'} {
		var recs [][]byte
		for i := range batch {
			if batch[i].rec != nil && batch[i].lane == jc {
				recs = append(recs, batch[i].rec)
			}
		}
		if err := j.put(t.opts.Lanes[jc], recs); err != nil {
			return err
		}
		if testHookAfterPut != nil {
			testHookAfterPut(jc)
		}
	}
	out := make([]byte, 0, len(batch)*(msg.BulkResultLen+1))
	queued, before, again := 0, 0, 0
	for _, it := range batch {
		gwid := ""
		switch {
		case it.before:
			gwid = it.gwid
			queued++
			before++
		case it.rec != nil:
			gwid = it.gwid
			queued++
			if it.again {
				again++
			}
		default:
			j.counts[it.code]++
		}
		out = msg.AppendBulkResult(out, it.line, it.key, it.code, gwid)
	}
	if before+again > 0 {
		t.stats.resumed.Add(uint64(before))
		t.stats.requeued.Add(uint64(again))
		j.log.Info("interrupted batch finished: each record queued once, under its first GW_ID",
			zap.Int("queued_before", before), zap.Int("queued_now", again))
	}
	if _, err := j.res.Write(out); err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	if err := j.res.Sync(); err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	j.resume = nil
	before0 := j.done
	j.done += len(batch)
	j.queued += queued
	t.stats.records.Add(uint64(len(batch)))
	t.stats.queued.Add(uint64(queued))
	t.stats.refused.Add(uint64(len(batch) - queued))
	if t.slot != nil {
		t.slot.AddIn(len(batch))
		t.slot.AddOut(queued)
	}
	if j.done/t.opts.LogEvery != before0/t.opts.LogEvery {
		j.log.Info("progress", zap.Int("records", j.done), zap.Int("queued", j.queued))
	}
	return nil
}

// freshness is the journal state of a record about to be put: fresh when
// its key is not in the duplicate index now, so that finding it there
// after a kill says dist took this batch's record.
func (j *job) freshness(m *msg.Message, now time.Time) byte {
	if j.t.opts.Dup == nil {
		return stateDup
	}
	in, err := j.t.opts.Dup.Contains(m.ClientID, m.MsgKey, now)
	if err != nil {
		j.log.Warn("duplicate index unreadable: the record is journaled without its key's state", zap.Error(err))
		return stateDup
	}
	if in {
		return stateDup
	}
	return stateFresh
}

// put stores recs on q, waiting while it is full; a stop while waiting
// leaves the batch to the resume.
func (j *job) put(q queue.Queue, recs [][]byte) error {
	for len(recs) > 0 {
		n, err := q.PutBatch(recs, j.t.opts.PutTimeout)
		recs = recs[n:]
		if len(recs) == 0 {
			return nil
		}
		if !errors.Is(err, queue.ErrFull) {
			if j.t.slot != nil {
				j.t.slot.AddErr(1)
				j.t.slot.SetLastError(fmt.Sprintf("put %s: %v", q.Name(), err))
			}
			j.log.Error("lane put failed; retrying", zap.String("queue", q.Name()), zap.Error(err))
		}
		select {
		case <-j.t.stop:
			return errStopped
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// openResult opens NAME.result for appending, cutting a torn last line,
// and counts the records done.
func (j *job) openResult() error {
	p := j.path + SuffixResult
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("result file: %w", err)
	}
	const ll = msg.BulkResultLen + 1
	whole := fi.Size() / ll * ll
	if whole != fi.Size() {
		if err := f.Truncate(whole); err != nil {
			_ = f.Close()
			return fmt.Errorf("result file: %w", err)
		}
	}
	if _, err := f.Seek(whole, io.SeekStart); err != nil {
		_ = f.Close()
		return fmt.Errorf("result file: %w", err)
	}
	j.res, j.done = f, int(whole/ll)
	return nil
}

// finishMove moves NAME and NAME.result to dir (done/ or error/; "" when NAME
// is gone already) and removes the marker and the journal. The data file
// moves first: a kill after it leaves a marker without its file, which the
// next scan finishes here.
func (j *job) finishMove(dir string) {
	spool := j.t.spool
	if dir != "" {
		dst := j.target(dir)
		if err := os.Rename(j.path, filepath.Join(spool, dir, dst)); err != nil {
			j.log.Error("cannot move the file", zap.String("to", dir), zap.Error(err))
			return
		}
		j.t.stats.files.Add(1)
		if j.t.slot != nil && dir == ErrorDir {
			j.t.slot.AddErr(1)
		}
		syncDir(filepath.Join(spool, dir))
		j.name = dst
	} else {
		dir = DoneDir
		if _, err := os.Stat(filepath.Join(spool, ErrorDir, j.name)); err == nil {
			dir = ErrorDir
		}
	}
	if _, err := os.Stat(j.path + SuffixResult); err == nil {
		if err := os.Rename(j.path+SuffixResult, filepath.Join(spool, dir, j.name+SuffixResult)); err != nil {
			j.log.Error("cannot move the result file", zap.Error(err))
		}
	}
	_ = os.Remove(j.path + SuffixPending)
	_ = os.Remove(j.path + SuffixDone)
	syncDir(spool)
}

// target is the file's name in dir: its own, or with a time suffix when a
// file of that name is there already (the same name sent twice).
func (j *job) target(dir string) string {
	n := j.name
	if _, err := os.Stat(filepath.Join(j.t.spool, dir, n)); err == nil {
		n += "." + time.Now().Format("20060102150405.000000000")
	}
	return n
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
