package tkm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/telegram"
	"github.com/m1gw/m1/queue"
)

// job is one file being taken.
type job struct {
	t       *Tkm
	name    string
	path    string
	log     *zap.Logger
	res     *os.File
	done    int // records with a result line
	pending map[int]string
	pendTo  int
	counts  map[telegram.Code]int
	queued  int
	broken  bool
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
	oldID  string
	resume bool
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
	r := bufio.NewReaderSize(f, 64<<10)
	buf := make([]byte, msg.BulkRecordLen)
	for line := 1; line <= j.done; line++ {
		if _, err := msg.ReadBulkRecord(r, buf); err != nil {
			return fmt.Errorf("record %d, already done: %w", line, err)
		}
	}
	if j.done > 0 {
		j.log.Info("resuming the file", zap.Int("records_done", j.done))
	}
	line := j.done
	batch := make([]item, 0, j.t.opts.Batch)
	for {
		if j.t.stopping() {
			return errStopped
		}
		batch = batch[:0]
		var ferr error
		for len(batch) < j.t.opts.Batch {
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
	for i := range batch {
		it := &batch[i]
		if it.m == nil {
			continue
		}
		if old, ok := j.pending[it.line]; ok {
			it.oldID, it.resume = old, true
		}
		it.gwid = t.ids.Next()
		it.m.GWID = it.gwid
		it.rec = it.m.Encode(make([]byte, 0, it.m.Size()))
	}
	if err := j.writePending(batch); err != nil {
		return err
	}
	var resumed []zap.Field
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
	}
	out := make([]byte, 0, len(batch)*(msg.BulkResultLen+1))
	queued := 0
	for _, it := range batch {
		gwid := ""
		if it.rec != nil {
			gwid = it.gwid
			queued++
			if it.resume {
				resumed = append(resumed, zap.String(strconv.Itoa(it.line), it.oldID+" -> "+it.gwid))
			}
		} else {
			j.counts[it.code]++
		}
		out = msg.AppendBulkResult(out, it.line, it.key, it.code, gwid)
	}
	if len(resumed) > 0 {
		t.stats.requeued.Add(uint64(len(resumed)))
		j.log.Warn("records of a batch interrupted by a stop were queued again under new GW_IDs; "+
			"if they had been queued before, dist ends the repeats with 1201", resumed...)
	}
	if _, err := j.res.Write(out); err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	if err := j.res.Sync(); err != nil {
		return fmt.Errorf("result file: %w", err)
	}
	before := j.done
	j.done += len(batch)
	j.queued += queued
	t.stats.records.Add(uint64(len(batch)))
	t.stats.queued.Add(uint64(queued))
	t.stats.refused.Add(uint64(len(batch) - queued))
	if t.slot != nil {
		t.slot.AddIn(len(batch))
		t.slot.AddOut(queued)
	}
	if j.done/t.opts.LogEvery != before/t.opts.LogEvery {
		j.log.Info("progress", zap.Int("records", j.done), zap.Int("queued", j.queued))
	}
	return nil
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

// sortedLines is for tests and logs.
func sortedLines(m map[int]string) []int {
	var l []int
	for k := range m {
		l = append(l, k)
	}
	sort.Ints(l)
	return l
}
