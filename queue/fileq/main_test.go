package fileq

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/m1gw/m1/queue"
)

var rounds = flag.Int("fileq.rounds", 50, "rounds of the SIGKILL crash tests (FILEQ_ROUNDS overrides)")

// childEnv selects the role of a re-executed test binary.
const childEnv = "FILEQ_TEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

func crashRounds() int {
	if v := os.Getenv("FILEQ_ROUNDS"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
			return n
		}
	}
	return *rounds
}

// rec builds a self-checking record: producer id, number, then filler
// derived from both, so a record torn or mixed with another is caught.
func rec(producer, n uint64, size int) []byte {
	if size < 16 {
		size = 16
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b, producer)
	binary.LittleEndian.PutUint64(b[8:], n)
	for i := 16; i < size; i++ {
		b[i] = byte(producer*31 + n*7 + uint64(i))
	}
	return b
}

// parseRec checks a record built by rec.
func parseRec(t testing.TB, b []byte) (producer, n uint64) {
	t.Helper()
	if len(b) < 16 {
		t.Fatalf("record of %d bytes", len(b))
	}
	producer, n = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if !bytes.Equal(b, rec(producer, n, len(b))) {
		t.Fatalf("record %d/%d has wrong content", producer, n)
	}
	return producer, n
}

func openT(t testing.TB, dir string, o Options) *Queue {
	t.Helper()
	if o.RecordSize == 0 {
		o.RecordSize = 1024
	}
	q, err := Open(dir, o, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return q
}

// drain takes and commits everything in the queue.
func drain(t testing.TB, q *Queue) []queue.Record {
	t.Helper()
	var out []queue.Record
	for {
		recs, err := q.TakeBatch(nil, 100, 0)
		if len(recs) == 0 {
			if err != queue.ErrEmpty {
				t.Fatalf("TakeBatch: %v", err)
			}
			return out
		}
		out = append(out, recs...)
		if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
}
