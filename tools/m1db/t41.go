package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/m1gw/m1/gw/store"
)

// insertT41 inserts rows as a business system does: due now, and some due
// later, SMS with an LMS every few rows, Korean text.
func insertT41(ctx context.Context, s *store.Store, o Options, out io.Writer) error {
	now := time.Now()
	rows := make([]store.T41Row, 0, o.N+o.Future)
	// T41 holds text in the database's encoding (UTF-8), as business
	// systems insert it; sch converts it to EUC-KR for the carriers.
	sms := "[M1] 입금 100,000원 잔액 1,234,567원"
	lms := strings.Repeat("M1 장문 메시지 시험입니다. ", 20)
	subj := "M1 안내"
	for i := 0; i < o.N+o.Future; i++ {
		when := now.Add(-time.Second)
		if i >= o.N {
			when = now.Add(o.FutureIn)
		}
		r := store.T41Row{
			ClientID: o.Client, MsgKey: fmt.Sprintf("%s%d", o.Prefix, i), SendTime: store.FormatTime(when),
			MsgType: "S", JobClass: o.Class, Callback: o.Callback,
			Dest: fmt.Sprintf("010%08d", rand.IntN(100000000)), Text: sms,
		}
		if o.LMSEvery > 0 && i%o.LMSEvery == o.LMSEvery-1 {
			r.MsgType, r.Subject, r.Text = "L", subj, lms
		}
		rows = append(rows, r)
	}
	for i := 0; i < len(rows); i += 1000 {
		if err := s.InsertT41(ctx, rows[i:min(i+1000, len(rows))]); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "inserted %d T41 rows for %s (%d due now, %d due at %s)\n", len(rows), o.Client, o.N, o.Future,
		now.Add(o.FutureIn).Format(time.TimeOnly))
	return nil
}
