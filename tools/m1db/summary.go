package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/m1gw/m1/gw/store"
)

var sourceName = map[byte]string{'T': "T41 (sch)", 'L': "listener", 'F': "spool file"}

// summary prints, per intake, how many messages were accepted, how many are
// final and with which results, and per sender how many it took.
func summary(ctx context.Context, s *store.Store, out io.Writer) error {
	rows, err := s.Summary(ctx)
	if err != nil {
		return err
	}
	t41, err := s.CountT41(ctx)
	if err != nil {
		return err
	}
	type intake struct {
		total, final, pending int64
		codes                 map[string]int64
	}
	intakes := map[byte]*intake{}
	senders := map[string]int64{}
	for _, r := range rows {
		in := intakes[r.Source]
		if in == nil {
			in = &intake{codes: map[string]int64{}}
			intakes[r.Source] = in
		}
		in.total += r.Count
		if r.Status == '4' {
			in.final += r.Count
			in.codes[r.ResultCode] += r.Count
		} else {
			in.pending += r.Count
		}
		if r.Sender != "" {
			senders[r.Sender] += r.Count
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "intake\taccepted\tfinal\tpending\tdelivered (0000)\tfailed, by code\t")
	for _, src := range []byte{'L', 'T', 'F'} {
		in := intakes[src]
		if in == nil {
			continue
		}
		var failed []string
		for code, n := range in.codes {
			if code != "0000" {
				failed = append(failed, fmt.Sprintf("%s×%d", code, n))
			}
		}
		sort.Strings(failed)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t\n", sourceName[src], in.total, in.final, in.pending, in.codes["0000"], strings.Join(failed, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sender\tmessages\t")
	names := make([]string, 0, len(senders))
	for n := range senders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%d\t\n", n, senders[n])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nT41 still waiting: %d (STATUS 1), %d claimed (STATUS 2)\n", t41['1'], t41['2'])
	return nil
}

// wait polls until o.Final messages are final, none is pending, and no T41
// row is due, printing progress every second.
func wait(ctx context.Context, s *store.Store, o Options, out io.Writer) error {
	deadline := time.Now().Add(o.Timeout)
	last := time.Time{}
	for {
		lc, err := s.CountLog(ctx)
		if err != nil && !store.IsUnavailable(err) {
			return err
		}
		due, _ := s.DueCount(ctx, time.Now())
		final, pending := lc['4'], lc['3']
		if err == nil && final >= int64(o.Final) && pending == 0 && due == 0 {
			fmt.Fprintf(out, "all %d messages final\n", final)
			return nil
		}
		if time.Since(last) >= time.Second {
			fmt.Fprintf(out, "  waiting: %d final of %d, %d awaiting a report, %d T41 rows due\n", final, o.Final, pending, due)
			last = time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %d final of %d, %d pending, %d T41 rows due", o.Timeout, final, o.Final, pending, due)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
