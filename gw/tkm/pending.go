package tkm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// pendingMagic starts NAME.pending. Part of the format.
const pendingMagic = "M1TKMP2"

// States of a journal entry. Part of the format.
const (
	// stateFresh: to be put in this attempt; its CLIENT_ID+MSG_KEY was not
	// in the duplicate index when the journal was written, so finding it
	// there later says dist took a record of this batch with that key.
	stateFresh = 'N'
	// stateDup: to be put in this attempt; the key was in the index
	// already (or no index was at hand), so the index says nothing.
	stateDup = 'D'
	// stateQueued: put by an earlier attempt (a resume found it queued);
	// never put again.
	stateQueued = 'Q'
)

// entryLen is the length of one journal entry, line end included. Part of
// the format (see the package doc for the fields).
const entryLen = 66

// pendEntry is one record of a journaled batch.
type pendEntry struct {
	line     int
	gwid     string
	lane     byte
	state    byte
	clientID string
	msgKey   string
}

// journal is a parsed NAME.pending: the batch's line range and its
// entries, queued ones first, then the ones to be put in put order.
type journal struct {
	first, last int
	entries     []pendEntry
}

// errJournal is returned by parseJournal for bytes that are not a whole
// journal of this format.
var errJournal = errors.New("tkm: pending journal unreadable")

// appendEntry appends one fixed-width entry.
func appendEntry(b []byte, e pendEntry) []byte {
	b = fmt.Appendf(b, "%08d ", e.line)
	b = appendPadded(b, e.gwid, 20)
	b = append(b, ' ', e.lane, ' ', e.state, ' ')
	b = appendPadded(b, e.clientID, 10)
	b = append(b, ' ')
	b = appendPadded(b, e.msgKey, 20)
	return append(b, '\n')
}

// appendPadded appends s cut or space-padded to n bytes (bytes, not
// runes: keys are EUC-KR).
func appendPadded(b []byte, s string, n int) []byte {
	if len(s) > n {
		s = s[:n]
	}
	b = append(b, s...)
	for i := len(s); i < n; i++ {
		b = append(b, ' ')
	}
	return b
}

// encodeJournal renders a journal.
func encodeJournal(jr journal) []byte {
	b := fmt.Appendf(nil, "%s %d %d\n", pendingMagic, jr.first, jr.last)
	for _, e := range jr.entries {
		b = appendEntry(b, e)
	}
	return b
}

// parseJournal reads a journal written by encodeJournal. The file is
// replaced by rename, so anything else (an older format, a damaged disk)
// is errJournal, never a partial batch.
func parseJournal(b []byte) (journal, error) {
	var jr journal
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return jr, errJournal
	}
	head := strings.Fields(string(b[:nl]))
	if len(head) != 3 || head[0] != pendingMagic {
		return jr, errJournal
	}
	var err1, err2 error
	jr.first, err1 = strconv.Atoi(head[1])
	jr.last, err2 = strconv.Atoi(head[2])
	if err1 != nil || err2 != nil || jr.first < 1 || jr.last < jr.first {
		return jr, errJournal
	}
	body := b[nl+1:]
	if len(body)%entryLen != 0 {
		return jr, errJournal
	}
	for off := 0; off < len(body); off += entryLen {
		e, ok := parseEntry(body[off : off+entryLen])
		if !ok || e.line < jr.first || e.line > jr.last {
			return jr, errJournal
		}
		jr.entries = append(jr.entries, e)
	}
	// Only the canonical form is a journal: what tkm_files wrote.
	if !bytes.Equal(encodeJournal(jr), b) {
		return journal{}, errJournal
	}
	return jr, nil
}

func parseEntry(b []byte) (pendEntry, bool) {
	if b[8] != ' ' || b[29] != ' ' || b[31] != ' ' || b[33] != ' ' || b[44] != ' ' || b[65] != '\n' {
		return pendEntry{}, false
	}
	line, err := strconv.Atoi(string(b[:8]))
	if err != nil || line < 1 {
		return pendEntry{}, false
	}
	e := pendEntry{line: line, gwid: string(b[9:29]), lane: b[30], state: b[32],
		clientID: trimAN(b[34:44]), msgKey: trimAN(b[45:65])}
	if !isDigits(e.gwid) {
		return pendEntry{}, false
	}
	switch e.lane {
	case 'R', 'S', 'B':
	default:
		return pendEntry{}, false
	}
	switch e.state {
	case stateFresh, stateDup, stateQueued:
	default:
		return pendEntry{}, false
	}
	return e, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// writePending records the batch about to be queued: written to
// NAME.pending.tmp, synced, renamed over NAME.pending, so a reader sees the
// old journal or the new one.
func (j *job) writePending(jr journal) error {
	p := j.path + SuffixPending
	f, err := os.OpenFile(p+suffixTmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("pending journal: %w", err)
	}
	_, err = f.Write(encodeJournal(jr))
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

// readPending loads the journaled batch when it has records without a
// result line: the batch a stop or a kill interrupted between its journal
// and its result lines. A missing journal, or one whose batch is wholly
// done, is no batch.
func (j *job) readPending() error {
	b, err := os.ReadFile(j.path + SuffixPending)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pending journal: %w", err)
	}
	jr, err := parseJournal(b)
	if err != nil {
		// Written by rename, so this is not a torn write: an older format
		// or a damaged disk. Its records are queued again like new ones.
		j.log.Error("pending journal unreadable; the records after the last result line are queued as new ones "+
			"(if they had been queued, dist ends the repeats with 1201)", zap.Error(err))
		return nil
	}
	if jr.last <= j.done {
		return nil
	}
	j.jr = &jr
	return nil
}
