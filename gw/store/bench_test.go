package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// Benchmarks. Run:
//
//	go test -run '^$' -bench . -benchtime 30x ./gw/store/
//
// BenchmarkApplyEvents reports events/s at dbx batch sizes 1, 100, 1000,
// three events per message with Acks 100 messages and Reports 200
// messages behind the Accepts, as they arrive from live senders.
// BenchmarkBaselineInsert, in the same run, inserts the same number of
// rows per batch into an empty T41_LOG with one plain multi-row INSERT per
// batch: the floor cost of writing that many rows on that database.
// BenchmarkClaimDrain drains 100,000 due T41 rows with ClaimDue(1000) and
// reports claimed rows/s beside the rows/s of the InsertT41 that filled
// them.

// benchDSN returns a fresh database of kind db ("sqlite" or "postgres").
func benchDSN(b *testing.B, db string) string {
	if db == "sqlite" {
		return "sqlite:" + filepath.Join(b.TempDir(), "m1.db")
	}
	return pgSchemaDSN(b)
}

// streamEvent returns event p of an endless stream of message lifecycles.
func streamEvent(p int) Event {
	const lag = 100
	m := p / 3
	switch p % 3 {
	case 1:
		m -= lag
	case 2:
		m -= 2 * lag
	}
	id := fmt.Sprintf("%020d", m+1_000_000)
	switch p % 3 {
	case 0:
		msg := testMessage(id, SourceListener)
		msg.MsgKey = "K" + id[8:]
		return Event{Kind: EventAccept, Message: msg}
	case 1:
		ev := Event{Kind: EventAck, EventTime: "20261121100002", AckCode: "0000", CarrierMsgID: "C" + id[10:]}
		ev.GWID, ev.Carrier, ev.Sender = id, "KT", "KT1"
		return ev
	}
	ev := Event{Kind: EventReport, EventTime: "20261121100009", ResultCode: "0000", CarrierCode: "06"}
	ev.GWID = id
	return ev
}

func BenchmarkApplyEvents(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, batch := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", db, batch), func(b *testing.B) {
				s := openTest(b, benchDSN(b, db))
				evs := make([]Event, batch)
				p := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range evs {
						evs[j] = streamEvent(p)
						p++
					}
					reps, err := s.ApplyEvents(bg, evs)
					if err != nil {
						b.Fatal(err)
					}
					if err := s.MarkReported(bg, gwidsOf(reps)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

func gwidsOf(reps []PendingReport) []string {
	ids := make([]string, len(reps))
	for i, r := range reps {
		ids[i] = r.GWID
	}
	return ids
}

func BenchmarkBaselineInsert(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, batch := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", db, batch), func(b *testing.B) {
				s := openTest(b, benchDSN(b, db))
				rows := make([]*LogRow, batch)
				n := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range rows {
						ev := streamEvent(3 * n)
						r := &LogRow{Message: ev.Message, Status: StatusRequested}
						rows[j] = r
						n++
					}
					err := s.inTx(bg, "baseline", func(t tx) error {
						width := len(logCols)
						per := s.d.chunk(width)
						for off := 0; off < len(rows); off += per {
							part := rows[off:min(off+per, len(rows))]
							args := make([]any, 0, len(part)*width)
							for _, r := range part {
								args = append(args, r.GWID, nb(r.Source), ns(r.ClientID), ns(r.MsgKey), ni(r.MsgSeq), ns(r.MsgType),
									ns(r.JobClass), ns(r.Callback), ns(r.Dest), ns(r.Subject), ns(r.Text), ns(r.SendTime),
									ns(r.Carrier), ns(r.Sender), nb(r.Status), ns(r.AcceptTime), ns(r.AckTime), ns(r.AckCode),
									ns(r.CarrierMsgID), ns(r.ReportTime), ns(r.ResultCode), ns(r.CarrierCode), nb(r.ResultSrc))
							}
							q := s.stmt(fmt.Sprintf("base/%d", len(part)), func() string { return s.d.insertRows("T41_LOG", logCols, len(part)) })
							if _, err := t.exec(bg, q, s.d.rowsArgs(logCols, len(part), args)...); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

func BenchmarkClaimDrain(b *testing.B) {
	const rows = 100_000
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var claimed int
			var claimTime, insTime time.Duration
			for i := 0; i < b.N; i++ {
				s := openTest(b, benchDSN(b, db))
				t0 := time.Now()
				fillDue(b, s, rows)
				insTime += time.Since(t0)
				t0 = time.Now()
				got, err := drain(bg, s, 1000)
				if err != nil {
					b.Fatal(err)
				}
				claimTime += time.Since(t0)
				if len(got) != rows {
					b.Fatalf("claimed %d of %d", len(got), rows)
				}
				claimed += len(got)
			}
			b.ReportMetric(float64(claimed)/claimTime.Seconds(), "claimed-rows/s")
			b.ReportMetric(float64(claimed)/insTime.Seconds(), "baseline-insert-rows/s")
		})
	}
}
