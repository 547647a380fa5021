package lsnr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m1gw/m1/gw/msg"
)

// A pending report file holds one client's reports from the moment they
// leave the RPT queue until the client answers them with REPORT_RESP:
// <ReportDir>/<CLIENT_ID>.rpt, fixed-length entries appended in arrival
// order (every constant part of the format):
//
//	+-------+----------------------------+----+
//	| STATE | RPT record (gw/msg, 74)    | LF |
//	+-------+----------------------------+----+
//	0       1                            75   76
//
//	STATE ' ' pending: owed to the client
//	      'A' acknowledged: the client answered its REPORT
//
// An entry is appended and fsynced before its RPT record is committed, so a
// report is always in the RPT queue, in a file, or answered. Acknowledging
// writes the one STATE byte in place without fsync: an acknowledgement lost
// to a machine crash only means the REPORT is sent again, which PROTOCOL.md
// lets clients expect. When every entry of a file is acknowledged the file
// is truncated; at start each file is read, a torn last entry (a crash
// during an append) dropped, and the file rewritten with its pending
// entries only.
const (
	entrySize    = 1 + msg.RPTSize + 1
	statePending = ' '
	stateAcked   = 'A'
)

// pendingFile is one client's pending report file.
type pendingFile struct {
	f     *os.File
	n     int // entries in the file
	acked int
}

// fileName makes a CLIENT_ID safe as a file name: letters, digits, '-' and
// '_' stay, anything else becomes %XX.
func fileName(client string) string {
	var b strings.Builder
	for i := 0; i < len(client); i++ {
		c := client[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String() + ".rpt"
}

// loadPending reads a pending file, rewrites it with its pending entries
// only, and returns them (records undecodable are returned in bad).
func loadPending(path string) (*pendingFile, []msg.RPT, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	var out []msg.RPT
	bad := 0
	for off := 0; off+entrySize <= len(data); off += entrySize {
		e := data[off : off+entrySize]
		if e[0] != statePending {
			continue
		}
		r, err := msg.DecodeRPT(e[1 : 1+msg.RPTSize])
		if err != nil || e[entrySize-1] != '\n' {
			bad++
			continue
		}
		out = append(out, r)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	buf := make([]byte, 0, len(out)*entrySize)
	for i := range out {
		buf = appendEntry(buf, &out[i])
	}
	if _, err := f.Write(buf); err != nil {
		_ = f.Close()
		return nil, nil, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, nil, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, nil, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, nil, 0, fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, nil, 0, err
	}
	pf, err := openPending(path)
	if err != nil {
		return nil, nil, 0, err
	}
	pf.n = len(out)
	return pf, out, bad, nil
}

func openPending(path string) (*pendingFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &pendingFile{f: f}, nil
}

func appendEntry(dst []byte, r *msg.RPT) []byte {
	dst = append(dst, statePending)
	start := len(dst)
	dst = r.Encode(dst)
	// Encode writes exactly RPTSize bytes; pad defensively so an entry is
	// always entrySize long.
	for len(dst)-start < msg.RPTSize {
		dst = append(dst, ' ')
	}
	dst = dst[:start+msg.RPTSize]
	return append(dst, '\n')
}

// append writes entries at the end of the file and fsyncs. It returns the
// index of the first.
func (p *pendingFile) append(buf []byte) (int, error) {
	first := p.n
	if _, err := p.f.WriteAt(buf, int64(p.n)*entrySize); err != nil {
		return 0, fmt.Errorf("append %s: %w", p.f.Name(), err)
	}
	if err := p.f.Sync(); err != nil {
		return 0, fmt.Errorf("fsync %s: %w", p.f.Name(), err)
	}
	p.n += len(buf) / entrySize
	return first, nil
}

// ack marks entry i acknowledged; when none is pending any more the file is
// emptied.
func (p *pendingFile) ack(i int) error {
	if _, err := p.f.WriteAt([]byte{stateAcked}, int64(i)*entrySize); err != nil {
		return fmt.Errorf("ack in %s: %w", p.f.Name(), err)
	}
	p.acked++
	if p.acked == p.n {
		return p.reset()
	}
	return nil
}

func (p *pendingFile) reset() error {
	if err := p.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate %s: %w", p.f.Name(), err)
	}
	p.n, p.acked = 0, 0
	return nil
}

func (p *pendingFile) close() error {
	if err := p.f.Sync(); err != nil {
		_ = p.f.Close()
		return err
	}
	return p.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
