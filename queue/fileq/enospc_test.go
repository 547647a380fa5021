package fileq

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"
)

// tmpfs mounts a tmpfs of size bytes on a new directory and unmounts it
// when the test ends; the test is skipped where mounting is not allowed
// (not root, no CAP_SYS_ADMIN).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("a real full disk needs a tmpfs mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFullENOSPC fills a real file system: puts fail with ErrDiskFull
// (ENOSPC), every record acknowledged before is delivered and none torn,
// the consumer can still commit on the full disk (else nothing could ever
// free it), and once committed segments are removed puts work again.
func TestDiskFullENOSPC(t *testing.T) {
	for _, d := range []Durability{SyncGroup, SyncEvery, SyncNone} {
		t.Run(d.String(), func(t *testing.T) {
			dir := tmpfs(t, "256k")
			p := openT(t, dir, Options{SegmentSize: 32 << 10, Durability: d})
			defer p.Close()
			// The consumer is open before the disk fills, as in production.
			core, logs := observer.New(zapcore.WarnLevel)
			c, err := Open(dir, Options{Consumer: true, RecordSize: 1024, Durability: d}, zap.New(core))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			acked := 0
			var full error
			for i := 0; i < 100000; i++ {
				if err := p.Put(rec(1, uint64(i), 900), 0); err != nil {
					full = err
					break
				}
				acked++
			}
			if !errors.Is(full, ErrDiskFull) || !errors.Is(full, unix.ENOSPC) {
				t.Fatalf("after %d records: %v, want ErrDiskFull (ENOSPC)", acked, full)
			}
			var got int
			for {
				recs, _ := c.TakeBatch(nil, 50, 0)
				if len(recs) == 0 {
					break
				}
				for _, r := range recs {
					if _, n := parseRec(t, r.Data); n != uint64(got) {
						t.Fatalf("record %d is %d", got, n)
					}
					got++
				}
				if err := c.Commit(recs[len(recs)-1].Pos); err != nil {
					t.Fatalf("commit on a full disk, after %d records: %v", got, err)
				}
			}
			if got != acked {
				t.Fatalf("%d records acknowledged, %d delivered", acked, got)
			}
			if err := p.Put(rec(1, uint64(acked), 900), 0); err != nil {
				t.Fatalf("put after the consumer freed the disk: %v", err)
			}
			if n := logs.FilterMessageSnippet("spare position file").Len(); n == 0 {
				t.Error("no commit went through the spare: the disk was not full when the consumer committed")
			}
			if _, err := os.Stat(filepath.Join(dir, spareName)); err != nil {
				t.Errorf("the spare was not made again once there was room: %v", err)
			}
			t.Logf("%s: %d records before %v", d, acked, full)
		})
	}
}
