package fileq

import (
	"fmt"
	"testing"
)

// MarkRedelivered marks what is in the queue, for this consumer and for the
// next one, and nothing put after it; a producer in another handle (here:
// another Queue on the same directory) counts.
func TestMarkRedelivered(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{Consumer: true})
	p := openT(t, dir, Options{})
	defer p.Close()
	put := func(q *Queue, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := q.Put([]byte(fmt.Sprintf("r%02d", i)), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(c, 0, 3)
	put(p, 3, 5) // written by another handle: the consumer's appender has not seen it
	if err := c.MarkRedelivered(); err != nil {
		t.Fatal(err)
	}
	put(p, 5, 8)
	recs, err := c.TakeBatch(nil, 2, 0)
	if err != nil || len(recs) != 2 {
		t.Fatalf("TakeBatch: %d, %v", len(recs), err)
	}
	if err := c.Commit(recs[1].Pos); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !r.Redelivered {
			t.Errorf("%s: not marked in the same handle", r.Data)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openT(t, dir, Options{Consumer: true})
	defer c.Close()
	rest := drain(t, c)
	if len(rest) != 6 {
		t.Fatalf("next consumer got %d records, want 6", len(rest))
	}
	for i, r := range rest {
		want := i+2 < 5
		if r.Redelivered != want {
			t.Errorf("next consumer: %s: Redelivered = %v, want %v", r.Data, r.Redelivered, want)
		}
	}
	if err := p.MarkRedelivered(); err != ErrNotConsumer {
		t.Errorf("MarkRedelivered on a producer: %v, want ErrNotConsumer", err)
	}
}
