package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m1gw/m1/gw/client"
	"github.com/m1gw/m1/gw/telegram"
)

// loadSpec is one run of load against one gateway address.
type loadSpec struct {
	Addr       string
	ID, Pass   string
	Conns      int
	N          int     // messages (a MULTI_SUBMIT counts its destinations)
	Window     int     // unanswered requests per connection
	LMS        float64 // share of LMS messages
	Multi      float64 // share of requests that are MULTI_SUBMITs
	MultiDests int
	JobClass   byte
	Callback   string
	ReportWait time.Duration // after the last response, wait this long for REPORTs
	Progress   io.Writer     // one line a second; nil: none
	Label      string
}

// result is what a run measured.
type result struct {
	Label     string
	Sent      int64 // messages sent (destinations counted)
	Codes     map[telegram.Code]int64
	Errors    int64 // requests without a response (connection lost)
	Elapsed   time.Duration
	Lat       []time.Duration // SUBMIT→SUBMIT_RESP, one per request
	Reports   int64
	Repeated  int64
	ReportLat []time.Duration
}

func (r *result) accepted() int64 { return r.Codes[telegram.OK] }

// rate is accepted messages a second.
func (r *result) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.accepted()) / r.Elapsed.Seconds()
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

// keyGen makes MSG_KEYs unique across runs: L, 7 characters of run id, 12
// digits of counter.
type keyGen struct {
	run string
	n   atomic.Uint64
}

func newKeyGen() *keyGen {
	id := strconv.FormatUint(uint64(time.Now().UnixNano()/1e3)%78364164096, 36) // 7 base-36 digits at most
	id = strings.Repeat("0", 7-len(id)) + id
	return &keyGen{run: strings.ToUpper(id)}
}

func (k *keyGen) next() string {
	return "L" + k.run + fmt.Sprintf("%012d", k.n.Add(1))
}

type worker struct {
	lat   []time.Duration
	codes map[telegram.Code]int64
	errs  int64
}

// run drives the load and returns its result.
func run(ctx context.Context, s loadSpec) (*result, error) {
	if s.Window <= 0 {
		s.Window = 64
	}
	if s.JobClass == 0 {
		s.JobClass = 'S'
	}
	res := &result{Label: s.Label, Codes: map[telegram.Code]int64{}}
	keys := newKeyGen()
	var repMu sync.Mutex
	seenRep := map[string]bool{}
	subTime := map[string]time.Time{} // GW_ID → submit time, when reports are awaited
	var reports, repeated atomic.Int64
	var repLat []time.Duration
	onReport := func(_ uint32, r telegram.Report) {
		reports.Add(1)
		repMu.Lock()
		defer repMu.Unlock()
		if seenRep[r.GWID] {
			repeated.Add(1)
			return
		}
		seenRep[r.GWID] = true
		if t0, ok := subTime[r.GWID]; ok {
			repLat = append(repLat, time.Since(t0))
		}
	}
	conns := make([]*client.Client, s.Conns)
	for i := range conns {
		c, err := client.Dial(s.Addr, client.Options{Window: s.Window, OnReport: onReport})
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns[i] = c
		code, err := c.Bind(ctx, s.ID, s.Pass)
		if err != nil || code != telegram.OK {
			closeAll(conns)
			return nil, fmt.Errorf("BIND %s on %s: %v %v", s.ID, s.Addr, code, err)
		}
	}
	defer closeAll(conns)

	var issued atomic.Int64 // messages claimed by workers
	var done atomic.Int64   // messages answered
	var accepted atomic.Int64
	workers := make([]*worker, 0, s.Conns*s.Window)
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	var progWG sync.WaitGroup
	if s.Progress != nil {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			var last int64
			for {
				select {
				case <-stopProgress:
					return
				case now := <-t.C:
					d, a := done.Load(), accepted.Load()
					fmt.Fprintf(s.Progress, "%s %5.0fs sent=%d accepted=%d rate=%d/s reports=%d\n", s.Label,
						now.Sub(start).Seconds(), d, a, d-last, reports.Load())
					last = d
				}
			}
		}()
	}
	for ci, c := range conns {
		for wi := range s.Window {
			w := &worker{codes: map[telegram.Code]int64{}}
			workers = append(workers, w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(ci), uint64(wi)))
				sub := telegram.Submit{MsgType: 'S', JobClass: s.JobClass, Callback: s.Callback, Text: "M1 loadgen message"}
				for {
					multi := s.Multi > 0 && rng.Float64() < s.Multi
					n := int64(1)
					if multi {
						n = int64(s.MultiDests)
					}
					if issued.Add(n)-n >= int64(s.N) {
						return
					}
					lms := s.LMS > 0 && rng.Float64() < s.LMS
					msgType, subject, text := byte('S'), "", "M1 loadgen message"
					if lms {
						msgType, subject, text = 'L', "loadgen", strings.Repeat("LMS text ", 100)
					}
					t0 := time.Now()
					if multi {
						m := telegram.MultiSubmit{MsgType: msgType, JobClass: s.JobClass, Callback: s.Callback, Subject: subject, Text: text}
						for range n {
							m.Dests = append(m.Dests, telegram.MultiDest{MsgKey: keys.next(), Dest: dest(rng)})
						}
						code, resp, err := c.MultiSubmit(ctx, &m)
						if err != nil {
							w.errs += n
							done.Add(n)
							if ctx.Err() != nil || isClosed(c) {
								return
							}
							continue
						}
						w.lat = append(w.lat, time.Since(t0))
						if len(resp.Results) == 0 {
							w.codes[code] += n
						}
						for _, r := range resp.Results {
							w.codes[r.Result]++
							if r.Result == telegram.OK {
								accepted.Add(1)
								if s.ReportWait > 0 {
									repMu.Lock()
									subTime[r.GWID] = t0
									repMu.Unlock()
								}
							}
						}
						done.Add(n)
						continue
					}
					sub.MsgKey, sub.Dest, sub.MsgType, sub.Subject, sub.Text = keys.next(), dest(rng), msgType, subject, text
					code, resp, err := c.Submit(ctx, &sub)
					if err != nil {
						w.errs++
						done.Add(1)
						if ctx.Err() != nil || isClosed(c) {
							return
						}
						continue
					}
					w.lat = append(w.lat, time.Since(t0))
					w.codes[code]++
					if code == telegram.OK {
						accepted.Add(1)
						if s.ReportWait > 0 {
							repMu.Lock()
							subTime[resp.GWID] = t0
							repMu.Unlock()
						}
					}
					done.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if s.ReportWait > 0 {
		end := time.Now().Add(s.ReportWait)
		for time.Now().Before(end) && reports.Load()-repeated.Load() < accepted.Load() {
			time.Sleep(50 * time.Millisecond)
		}
	}
	close(stopProgress)
	progWG.Wait()
	for _, w := range workers {
		res.Lat = append(res.Lat, w.lat...)
		for c, n := range w.codes {
			res.Codes[c] += n
			res.Sent += n
		}
		res.Errors += w.errs
		res.Sent += w.errs
	}
	sort.Slice(res.Lat, func(i, j int) bool { return res.Lat[i] < res.Lat[j] })
	res.Reports, res.Repeated = reports.Load(), repeated.Load()
	repMu.Lock()
	res.ReportLat = append(res.ReportLat, repLat...)
	repMu.Unlock()
	sort.Slice(res.ReportLat, func(i, j int) bool { return res.ReportLat[i] < res.ReportLat[j] })
	return res, nil
}

func isClosed(c *client.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func closeAll(cs []*client.Client) {
	for _, c := range cs {
		if c != nil {
			_ = c.Close()
		}
	}
}

// dest is a random mobile number.
func dest(rng *rand.Rand) string {
	return fmt.Sprintf("010%08d", rng.IntN(100000000))
}
