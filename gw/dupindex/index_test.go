package dupindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.Local)

func openTest(t testing.TB, o Options) *Index {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "dup.idx")
	}
	if o.Logger == nil {
		o.Logger = zaptest.NewLogger(t)
	}
	x, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func mustInsert(t *testing.T, x *Index, client, key string, now time.Time, wantDup bool) {
	t.Helper()
	dup, err := x.CheckAndInsert(client, key, now)
	if err != nil {
		t.Fatalf("CheckAndInsert(%q, %q): %v", client, key, err)
	}
	if dup != wantDup {
		t.Fatalf("CheckAndInsert(%q, %q) at %s: dup=%v, want %v", client, key, now.Format(time.TimeOnly), dup, wantDup)
	}
}

func TestInsertDuplicateExpiry(t *testing.T) {
	x := openTest(t, Options{Capacity: 1024, Window: time.Minute})
	mustInsert(t, x, "BANK01", "MSG0001", t0, false)
	mustInsert(t, x, "BANK01", "MSG0001", t0, true)
	mustInsert(t, x, "BANK01", "MSG0001  ", t0.Add(59*time.Second), true) // trailing spaces are padding
	mustInsert(t, x, "BANK02", "MSG0001", t0, false)                      // another client's key
	mustInsert(t, x, "BANK01", "MSG0002", t0, false)
	if ok, _ := x.Contains("BANK01", "MSG0001", t0.Add(59*time.Second)); !ok {
		t.Fatal("Contains false within the window")
	}
	if ok, _ := x.Contains("BANK01", "MSG0001", t0.Add(time.Minute)); ok {
		t.Fatal("Contains true once the window has passed")
	}
	mustInsert(t, x, "BANK01", "MSG0001", t0.Add(time.Minute), false) // expired: new again
	mustInsert(t, x, "BANK01", "MSG0001", t0.Add(90*time.Second), true)
	st, _ := x.Stats()
	if st.Inserted != 4 || st.Duplicates != 3 {
		t.Fatalf("stats %+v, want 4 inserted 3 duplicates", st)
	}
	// Full-length fields, and fields too long.
	mustInsert(t, x, "ABCDEFGHIJ", "01234567890123456789", t0, false)
	mustInsert(t, x, "ABCDEFGHIJ", "01234567890123456789", t0, true)
	if _, err := x.CheckAndInsert("ABCDEFGHIJK", "1", t0); !errors.Is(err, ErrBadKey) {
		t.Fatalf("11-byte client: %v, want ErrBadKey", err)
	}
	if _, err := x.CheckAndInsert("A", "012345678901234567890", t0); !errors.Is(err, ErrBadKey) {
		t.Fatalf("21-byte key: %v, want ErrBadKey", err)
	}
	if _, err := x.CheckAndInsert("A", "1", time.Unix(-1, 0)); !errors.Is(err, ErrBadTime) {
		t.Fatalf("time before 1970: %v, want ErrBadTime", err)
	}
}

func TestRemove(t *testing.T) {
	x := openTest(t, Options{Capacity: 1024, Window: time.Minute})
	mustInsert(t, x, "C", "K1", t0, false)
	if ok, err := x.Remove("C", "K1", t0); !ok || err != nil {
		t.Fatalf("Remove: %v %v, want true", ok, err)
	}
	if ok, _ := x.Remove("C", "K1", t0); ok {
		t.Fatal("second Remove found the key")
	}
	if ok, _ := x.Contains("C", "K1", t0); ok {
		t.Fatal("Contains after Remove")
	}
	mustInsert(t, x, "C", "K1", t0, false) // the client's retry is accepted
	mustInsert(t, x, "C", "K1", t0, true)
	if ok, _ := x.Remove("C", "K1", t0.Add(time.Hour)); ok {
		t.Fatal("Remove of an expired entry reported true")
	}
}

// TestFull fills one probe window: the next insert is refused with
// ErrIndexFull and records nothing; once entries expire there is room.
func TestFull(t *testing.T) {
	x := openTest(t, Options{Capacity: 16, Probe: 16, Locks: 4, Window: time.Minute})
	for i := range 16 {
		mustInsert(t, x, "C", fmt.Sprint(i), t0, false)
	}
	_, err := x.CheckAndInsert("C", "16", t0)
	if !errors.Is(err, ErrIndexFull) {
		t.Fatalf("17th insert into 16 slots: %v, want ErrIndexFull", err)
	}
	if ok, _ := x.Contains("C", "16", t0); ok {
		t.Fatal("a refused key was recorded")
	}
	for i := range 16 { // still all there
		mustInsert(t, x, "C", fmt.Sprint(i), t0.Add(59*time.Second), true)
	}
	mustInsert(t, x, "C", "16", t0.Add(time.Minute), false)
	if n, _ := x.CountLive(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("CountLive %d, want 1", n)
	}
	st, _ := x.Stats()
	if st.Full != 1 || st.ReusedExpired != 1 {
		t.Fatalf("stats %+v, want Full 1 and ReusedExpired 1", st)
	}
}

// TestFillUntilFull measures how full the default probe window lets the
// table get before the first ErrIndexFull.
func TestFillUntilFull(t *testing.T) {
	slots := uint64(1 << 16)
	if s := os.Getenv("DUPINDEX_FILL_SLOTS"); s != "" {
		fmt.Sscan(s, &slots)
	}
	x := openTest(t, Options{Capacity: slots, Window: time.Minute})
	for i := range slots {
		_, err := x.CheckAndInsert("C", fmt.Sprint(i), t0)
		if errors.Is(err, ErrIndexFull) {
			load := float64(i) / float64(slots)
			t.Logf("first ErrIndexFull at %d of %d slots (%.1f%% full)", i, slots, 100*load)
			if load < 0.8 {
				t.Fatalf("full at %.1f%%: the probe window is too short for the documented sizing", 100*load)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("never full")
}

func TestReopenKeepsEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.idx")
	o := Options{Path: path, Capacity: 4096, Window: time.Hour, Logger: zaptest.NewLogger(t)}
	x, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		mustInsert(t, x, "C", fmt.Sprint(i), t0, false)
	}
	seed := x.Header().Seed
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Contains("C", "1", t0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Contains after Close: %v, want ErrClosed", err)
	}
	x, err = Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Header().Seed != seed {
		t.Fatal("reopen changed the seed")
	}
	for i := range 1000 {
		mustInsert(t, x, "C", fmt.Sprint(i), t0.Add(time.Minute), true)
	}
	mustInsert(t, x, "C", "1000", t0, false)
	if st, _ := x.Stats(); st.Inserted != 1001 || st.Duplicates != 1000 {
		t.Fatalf("counters not kept across reopen: %+v", st)
	}
}

func TestGeometryMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.idx")
	x, err := Open(Options{Path: path, Capacity: 4096, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	for _, o := range []Options{
		{Capacity: 4096, Window: 2 * time.Minute},
		{Capacity: 8192, Window: time.Minute},
		{Capacity: 4096, Window: time.Minute, Probe: 32},
		{Capacity: 4096, Window: time.Minute, Locks: 1024},
	} {
		o.Path = path
		_, err := Open(o)
		if !errors.Is(err, ErrGeometry) {
			t.Fatalf("open with %s: %v, want ErrGeometry", o.geometry(), err)
		}
		created := Geometry{Slots: 4096, Probe: DefaultProbe, Locks: DefaultLocks, Window: time.Minute}
		if !strings.Contains(err.Error(), created.String()) || !strings.Contains(err.Error(), o.geometry().String()) {
			t.Fatalf("error does not name both geometries: %v", err)
		}
	}
	if _, err := Open(Options{Path: path, Capacity: 4096, Window: 1500 * time.Millisecond}); err == nil || errors.Is(err, ErrGeometry) {
		t.Fatalf("fractional window: %v, want an options error", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	x, err := Open(Options{Path: good, Capacity: 64, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	b, _ := os.ReadFile(good)
	for name, mutate := range map[string]func([]byte) []byte{
		"empty":     func(b []byte) []byte { return nil },
		"short":     func(b []byte) []byte { return b[:100] },
		"truncated": func(b []byte) []byte { return b[:len(b)-1] },
		"magic":     func(b []byte) []byte { b[0] = 'X'; return b },
		"version":   func(b []byte) []byte { b[offVersion] = 9; return b },
		"crc":       func(b []byte) []byte { b[offSlotCount]++; return b },
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, mutate(append([]byte(nil), b...)), 0o600)
		_, err := Open(Options{Path: p, Capacity: 64, Window: time.Minute})
		if !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s: %v, want ErrBadHeader", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestConcurrentOpen: processes starting together all open one file.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.idx")
	var wg sync.WaitGroup
	seeds := make([]uint64, 8)
	for i := range seeds {
		wg.Go(func() {
			x, err := Open(Options{Path: path, Capacity: 1024, Window: time.Minute})
			if err != nil {
				t.Error(err)
				return
			}
			seeds[i] = x.Header().Seed
			x.Close()
		})
	}
	wg.Wait()
	for _, s := range seeds {
		if s != seeds[0] {
			t.Fatal("concurrent Open created more than one file")
		}
	}
	if m, _ := filepath.Glob(path + ".new*"); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// deadIdentity returns the lock word of a process that has exited.
func deadIdentity(t *testing.T) uint64 {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return uint64(cmd.Process.Pid)<<32 | 12345
}

// TestDeadHolder plants what a writer killed mid-insert leaves: its stripe
// lock held and a claimed, half-written slot holding the key. The key is
// not seen, the next insert takes the lock over and reuses the slot.
func TestDeadHolder(t *testing.T) {
	x := openTest(t, Options{Capacity: 1024, Window: time.Minute, Locks: 16})
	k, _ := makeKey("C", "HALF")
	hp := place(x.hdr.Seed, &k, x.hdr.Slots, x.hdr.Locks)
	x.lockWord(hp.lock).Store(deadIdentity(t))
	x.storeKey(hp.home[0], &k)
	x.stateWord(hp.home[0]).Store(mkWord(stWriting, hp.lock, 1))
	if ok, _ := x.Contains("C", "HALF", t0); ok {
		t.Fatal("a half-written slot was seen as recorded")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		mustInsert(t, x, "C", "HALF", t0, false)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("insert blocked behind a dead lock holder")
	}
	if x.lockWord(hp.lock).Load() != 0 {
		t.Fatal("lock not released")
	}
	if w := x.stateWord(hp.home[0]).Load(); wordState(w) != stLive {
		t.Fatalf("home slot state %d, want live (reused)", wordState(w))
	}
	st, _ := x.Stats()
	if st.LocksStolen != 1 || st.ReclaimedWriting != 1 {
		t.Fatalf("stats %+v, want one stolen lock and one reclaimed slot", st)
	}
}

// TestLiveHolderNotStolen: a lock held by a live process (this one, from
// another goroutine) is waited for, never taken over.
func TestLiveHolderNotStolen(t *testing.T) {
	x := openTest(t, Options{Capacity: 1024, Window: time.Minute, Locks: 1})
	x.lock(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		mustInsert(t, x, "C", "K", t0, false)
	}()
	select {
	case <-done:
		t.Fatal("insert ran while another holder held the lock")
	case <-time.After(50 * time.Millisecond):
	}
	x.unlock(0)
	<-done
	if st, _ := x.Stats(); st.LocksStolen != 0 {
		t.Fatalf("a live holder's lock was stolen: %+v", st)
	}
}

func TestProcIdentity(t *testing.T) {
	if holderDead(identity) {
		t.Fatal("own identity reported dead")
	}
	if !holderDead(deadIdentity(t)) {
		t.Fatal("exited process reported alive")
	}
	// The parent (go test) is alive: its real identity is not dead.
	if start, _, err := procStart(os.Getppid()); err == nil && holderDead(uint64(os.Getppid())<<32|uint64(uint32(start))) {
		t.Fatal("live parent reported dead")
	}
	if start, _, err := procStart(os.Getpid()); err == nil {
		// Same pid, another start time: a reused pid.
		if !holderDead(uint64(os.Getpid())<<32 | uint64(uint32(start)+1)) {
			t.Fatal("pid with a different start time reported alive")
		}
	}
}

func TestFlushAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.idx")
	x, err := Open(Options{Path: path, Capacity: 1024, Window: time.Minute, FlushInterval: 5 * time.Millisecond,
		Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, x, "C", "K", t0, false)
	time.Sleep(20 * time.Millisecond) // let the flush loop run
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	for name, err := range map[string]error{
		"Flush": x.Flush(),
		"Insert": func() error {
			_, err := x.CheckAndInsert("C", "K", t0)
			return err
		}(),
		"Remove": func() error {
			_, err := x.Remove("C", "K", t0)
			return err
		}(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	// What was written is in the file, read back by a plain read.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeHeader(b[:headerSize], int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(b[counterOffset+ctrInserted*counterStride:]); n != 1 {
		t.Fatalf("inserted counter in the file %d, want 1", n)
	}
	if h.Slots != 1024 {
		t.Fatalf("header slots %d", h.Slots)
	}
}
