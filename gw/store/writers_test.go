package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWritersKeepEveryEvent: two stores (separate connections)
// apply different events of the same messages at the same time; every
// row ends with all of them. Without the writers' lock a read-merge-write
// could write a row without the other's events.
func TestConcurrentWritersKeepEveryEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		a, b := openTest(t, dsn), openTest(t, dsn)
		const msgs, batch = 600, 50
		ids := make([]string, msgs)
		var acks, reps []Event
		for i := range ids {
			evs := lifecycle(fmt.Sprintf("W%019d", i), SourceListener)
			ids[i] = evs[0].GWID
			acks = append(acks, evs[0], evs[1]) // Accept and Ack
			reps = append(reps, evs[2])         // Report
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		run := func(s *Store, evs []Event, per int) {
			defer wg.Done()
			for off := 0; off < len(evs); off += per {
				if _, err := s.ApplyEvents(bg, evs[off:min(off+per, len(evs))]); err != nil {
					errs <- err
					return
				}
			}
		}
		wg.Add(2)
		go run(a, acks, 2*batch)
		go run(b, reps, batch)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rows, err := a.Log(bg, ids)
		if err != nil || len(rows) != msgs {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		for _, r := range rows {
			if r.AcceptTime == "" || r.AckCode != "0000" || r.ResultCode != "0000" || r.Status != StatusDone {
				t.Fatalf("row lost an event: %+v", r)
			}
		}
		pend, err := a.PendingReports(bg, 2*msgs)
		if err != nil || len(pend) != msgs {
			t.Fatalf("pending %d, %v", len(pend), err)
		}
	})
}

// FuzzRender: rendering never panics and numbers every ? once, in order.
func FuzzRender(f *testing.F) {
	f.Add("SELECT ? FROM T WHERE A = ? AND B IN (?, ?)")
	f.Add("no binds")
	f.Fuzz(func(t *testing.T, q string) {
		n := strings.Count(q, "?")
		for _, d := range []*dialect{dialectSQLite, dialectPostgres, dialectOracle} {
			out := d.render(q)
			if d.bindPrefix == "" {
				if out != q {
					t.Fatal("sqlite render changed the text")
				}
				continue
			}
			if strings.Count(out, "?") != 0 {
				t.Fatalf("%s: ? left in %q", d.name, out)
			}
			if n > 0 && !strings.Contains(out, fmt.Sprintf("%s%d", d.bindPrefix, n)) {
				t.Fatalf("%s: bind %d missing in %q", d.name, n, out)
			}
		}
	})
}
