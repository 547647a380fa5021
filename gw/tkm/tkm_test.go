package tkm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/gw/proctab"
	"github.com/m1gw/m1/gw/queues"
	"github.com/m1gw/m1/gw/telegram"
)

// TestValidAndInvalidRecords: a complete file's valid records are queued
// once each to their lanes (SOURCE F, SRC_REF NAME:LINE); invalid ones are
// not queued; the result file has one line per record; the file goes to
// done/; a file without its marker is left alone.
func TestValidAndInvalidRecords(t *testing.T) {
	_, cfg := home(t)
	spool := cfg.TkmFiles.SpoolDir
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	want := map[int]telegram.Code{}
	for i := 1; i <= 30; i++ {
		b := bulk("V", i)
		switch i {
		case 5:
			b.Dest = "0101234abcd"
			want[i] = telegram.ErrDest
		case 9:
			b.MsgType = 'Q'
			want[i] = telegram.ErrField
		case 13:
			b.Text = strings.Repeat("a", 91)
			want[i] = telegram.ErrTooLong
		case 17:
			b.ReserveTime = time.Now().Add(2 * time.Hour).Format(msg.TimeLayout)
			want[i] = telegram.ErrField
		case 21:
			b.ReserveTime = time.Now().Add(-time.Minute).Format(msg.TimeLayout)
		}
		rec := b.Encode(nil)
		if i == 25 {
			copy(rec[len(rec)-1:], "X") // a byte after TEXT_LEN that is not a space
			want[i] = telegram.ErrField
		}
		lines = append(lines, rec)
	}
	writeFile(t, spool, "B20261122.dat", lines, true)
	writeFile(t, spool, "B20261122.part", lines[:3], false)

	tab, err := queues.ProcTab(cfg, true, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tab.Close() })
	k := run(t, Options{Config: cfg, Log: zaptest.NewLogger(t), Lanes: openLanes(t, cfg), Table: tab, Batch: 7})
	done := filepath.Join(spool, DoneDir)
	// The marker goes last (finishMove).
	waitFor(t, 10*time.Second, "file in done/", func() bool {
		return exists(filepath.Join(done, "B20261122.dat.result")) && !exists(filepath.Join(spool, "B20261122.dat.done"))
	})
	if exists(filepath.Join(spool, "B20261122.dat")) || exists(filepath.Join(spool, "B20261122.dat.done")) ||
		exists(filepath.Join(spool, "B20261122.dat.pending")) || !exists(filepath.Join(done, "B20261122.dat")) {
		t.Fatal("file, marker or journal left in the spool, or file not in done/")
	}
	res := readResult(t, filepath.Join(done, "B20261122.dat.result"))
	if len(res) != 30 {
		t.Fatalf("%d result lines, want 30", len(res))
	}
	msgs := drain(t, cfg)
	byID := map[string]msg.Message{}
	for _, m := range msgs {
		byID[m.GWID] = m
	}
	if len(msgs) != 30-len(want) || len(byID) != len(msgs) {
		t.Fatalf("queued %d records (%d GW_IDs), want %d", len(msgs), len(byID), 30-len(want))
	}
	for i, r := range res {
		if r.line != i+1 || r.key != bulk("V", i+1).MsgKey || r.code != int(want[i+1]) {
			t.Errorf("result line %d: %+v, want code %v", i+1, r, want[i+1])
		}
		m, queued := byID[r.gwid]
		if (r.code == 0) != queued {
			t.Errorf("line %d: code %d but queued %v", r.line, r.code, queued)
			continue
		}
		if queued && (m.Source != msg.SourceFile || m.MsgKey != r.key || m.SrcRef != "B20261122.dat:"+strconv.Itoa(r.line) || m.DupChecked) {
			t.Errorf("line %d: record %+v", r.line, m)
		}
	}
	if !exists(filepath.Join(spool, "B20261122.part")) {
		t.Fatal("a file without its marker was taken")
	}
	e, ok := tab.Lookup("tkm_files")
	if !ok || !e.Alive || e.State != proctab.Running || e.In != 30 || e.Out != uint64(len(msgs)) {
		t.Fatalf("process table: %+v %v", e, ok)
	}
	if st := k.Stats(); st.Files != 1 || st.Refused != uint64(len(want)) {
		t.Fatalf("stats %+v", st)
	}
}

// TestBrokenAndUnreadableFiles: a file whose framing breaks is taken up
// to the break and goes to error/ with its result file; a file that is not
// records at all goes to error/.
func TestBrokenAndUnreadableFiles(t *testing.T) {
	_, cfg := home(t)
	spool := cfg.TkmFiles.SpoolDir
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for i := 1; i <= 3; i++ {
		b := bulk("BR", i)
		lines = append(lines, b.Encode(nil))
	}
	lines = append(lines, []byte("short line"))
	writeFile(t, spool, "broken.dat", lines, true)
	if err := os.WriteFile(filepath.Join(spool, "junk.dat"), []byte("not a bulk file"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spool, "junk.dat.done"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(spool, "adir"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spool, "adir.done"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	run(t, Options{Config: cfg, Log: zaptest.NewLogger(t), Lanes: openLanes(t, cfg)})
	errDir := filepath.Join(spool, ErrorDir)
	waitFor(t, 10*time.Second, "files in error/", func() bool {
		return exists(filepath.Join(errDir, "broken.dat")) && exists(filepath.Join(errDir, "junk.dat")) && exists(filepath.Join(errDir, "adir"))
	})
	time.Sleep(50 * time.Millisecond)
	res := readResult(t, filepath.Join(errDir, "broken.dat.result"))
	if len(res) != 4 || res[0].code != 0 || res[2].code != 0 || res[3].code != int(telegram.ErrField) || res[3].line != 4 {
		t.Fatalf("broken file results %+v", res)
	}
	if n := len(drain(t, cfg)); n != 3 {
		t.Fatalf("queued %d, want the 3 records before the break", n)
	}
	if exists(filepath.Join(spool, "junk.dat.done")) || exists(filepath.Join(spool, "adir.done")) {
		t.Fatal("markers left behind")
	}
}
