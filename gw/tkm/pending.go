package tkm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// pendingMagic starts NAME.pending. Part of the format.
const pendingMagic = "M1TKMP1"

// writePending records the batch about to be queued: its line range and
// the GW_ID of each record to be put. Written to NAME.pending.tmp, synced,
// renamed over NAME.pending: a reader sees the old journal or the new one.
func (j *job) writePending(batch []item) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %d\n", pendingMagic, batch[0].line, batch[len(batch)-1].line)
	for _, it := range batch {
		if it.rec != nil {
			fmt.Fprintf(&b, "%08d %s\n", it.line, it.gwid)
		}
	}
	p := j.path + SuffixPending
	f, err := os.OpenFile(p+suffixTmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("pending journal: %w", err)
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p+suffixTmp, p)
	}
	if err != nil {
		return fmt.Errorf("pending journal: %w", err)
	}
	syncDir(j.t.spool)
	return nil
}

// readPending loads the GW_IDs of the journaled batch's records that have
// no result line: the batch a kill interrupted between its puts and its
// result lines. A missing or torn journal is no batch.
func (j *job) readPending() error {
	f, err := os.Open(j.path + SuffixPending)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pending journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil
	}
	head := strings.Fields(sc.Text())
	if len(head) != 3 || head[0] != pendingMagic {
		j.log.Warn("pending journal unreadable; ignored")
		return nil
	}
	last, _ := strconv.Atoi(head[2])
	if last <= j.done {
		return nil
	}
	j.pending, j.pendTo = map[int]string{}, last
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 || len(fs[1]) != 20 {
			continue
		}
		if n, err := strconv.Atoi(fs[0]); err == nil && n > j.done {
			j.pending[n] = fs[1]
		}
	}
	if len(j.pending) > 0 {
		j.log.Warn("a batch was being queued when tkm_files stopped; its records are queued again",
			zap.Int("first_line", sortedLines(j.pending)[0]), zap.Int("last_line", last), zap.Int("records", len(j.pending)))
	}
	return nil
}
