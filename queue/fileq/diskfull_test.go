package fileq

import (
	"strings"
	"testing"
)

// TestDiskFull runs a producer under RLIMIT_FSIZE until its writes fail
// with EFBIG: the error wraps ErrDiskFull, and every record acknowledged
// before is there, none torn.
func TestDiskFull(t *testing.T) {
	for _, d := range []string{"group", "every", "none"} {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			c := startChild(t, "diskfull", "FILEQ_DIR="+dir, "FILEQ_DURABILITY="+d,
				"FILEQ_SEGMENT=1048576", "FILEQ_FSIZE=50000")
			lines := c.wait(t)
			acked, full := 0, ""
			for _, l := range lines {
				if strings.HasPrefix(l, "A ") {
					acked++
				} else if strings.HasPrefix(l, "FULL ") {
					full = l
				}
			}
			if full == "" || !strings.Contains(full, "file too large") {
				t.Fatalf("no full-disk error; lines %d, last %q", len(lines), lines[len(lines)-1])
			}
			if acked < 100 {
				t.Fatalf("only %d records before the limit", acked)
			}
			q := openT(t, dir, Options{Consumer: true})
			defer q.Close()
			got := drain(t, q)
			if len(got) != acked {
				t.Fatalf("%d records acknowledged, %d in the queue", acked, len(got))
			}
			for i, r := range got {
				if _, n := parseRec(t, r.Data); n != uint64(i) {
					t.Fatalf("record %d is %d", i, n)
				}
			}
			t.Logf("%s: %s after %d records", d, full, acked)
		})
	}
}
