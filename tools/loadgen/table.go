package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/m1gw/m1/gw/telegram"
)

// printTable writes the summary of one or more runs.
func printTable(w io.Writer, rs ...*result) {
	fmt.Fprintf(w, "%-10s %10s %10s %10s %9s %9s %9s %9s %9s\n", "run", "sent", "accepted", "rate/s", "p50 ms", "p99 ms", "max ms", "reports", "repeated")
	for _, r := range rs {
		max := pct(r.Lat, 1)
		fmt.Fprintf(w, "%-10s %10d %10d %10.0f %9s %9s %9s %9d %9d\n", r.Label, r.Sent, r.accepted(), r.rate(),
			ms(pct(r.Lat, 0.50)), ms(pct(r.Lat, 0.99)), ms(max), r.Reports, r.Repeated)
	}
	for _, r := range rs {
		var codes []telegram.Code
		for c := range r.Codes {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%s=%d", c, r.Codes[c]))
		}
		if r.Errors > 0 {
			parts = append(parts, fmt.Sprintf("no-response=%d", r.Errors))
		}
		fmt.Fprintf(w, "%-10s results: %s\n", r.Label, strings.Join(parts, " "))
		if len(r.ReportLat) > 0 {
			fmt.Fprintf(w, "%-10s SUBMIT->REPORT p50=%sms p99=%sms (%d reports)\n", r.Label, ms(pct(r.ReportLat, 0.5)),
				ms(pct(r.ReportLat, 0.99)), len(r.ReportLat))
		}
	}
}
