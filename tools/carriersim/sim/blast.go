package sim

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/m1gw/m1/gw/carrier"
)

// BlastResult is what a Blast measured.
type BlastResult struct {
	Submits, Accepted, Throttled, Reports int
	Elapsed                               time.Duration
}

// PerSecond is submits a second.
func (r BlastResult) PerSecond() float64 { return float64(r.Submits) / r.Elapsed.Seconds() }

// Blast is a raw client with no gateway behind it: it logs in to addr,
// submits n messages with at most window unanswered, answers every report,
// and returns once every submit is answered and, with waitReports, a report
// came for every accepted one. It measures the simulator's own ceiling.
func Blast(addr string, d carrier.Dialect, login string, n, window int, waitReports bool, timeout time.Duration) (BlastResult, error) {
	var res BlastResult
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return res, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	r := bufio.NewReaderSize(nc, 64<<10)
	w := bufio.NewWriterSize(nc, 64<<10)
	var wmu sync.Mutex
	buf, _ := d.Append(nil, &carrier.PDU{Type: carrier.Login, Seq: 1, Login: login, Password: "x"})
	if _, err := nc.Write(buf); err != nil {
		return res, err
	}
	var p carrier.PDU
	f, err := carrier.ReadFrame(r, d, nil)
	if err == nil {
		err = d.Decode(f, &p)
	}
	if err != nil {
		return res, err
	}
	if o := d.SubmitOutcome(p.Result); p.Type != carrier.LoginResp || o.Class != carrier.Accepted {
		return res, fmt.Errorf("login refused: %v %s", p.Type, p.Result)
	}

	sem := make(chan struct{}, window)
	done := make(chan error, 1)
	start := time.Now()
	base := uint64(time.Now().UnixNano())
	go func() { // read loop, owned by Blast: it ends when done is sent or nc is closed
		var p carrier.PDU
		var rb, wb []byte
		answered, reports := 0, 0
		for {
			f, err := carrier.ReadFrame(r, d, rb)
			if err == nil {
				err = d.Decode(f, &p)
			}
			if err != nil {
				done <- err
				return
			}
			rb = f[:0]
			switch p.Type {
			case carrier.SubmitResp:
				answered++
				if d.SubmitOutcome(p.Result).Class == carrier.Accepted {
					res.Accepted++
				} else {
					res.Throttled++
				}
				<-sem
			case carrier.Report:
				reports++
				wb, _ = d.Append(wb[:0], &carrier.PDU{Type: carrier.ReportResp, Seq: p.Seq, MsgID: p.MsgID,
					Result: carrier.SubmitCode(d, carrier.Accepted, 0)})
				wmu.Lock()
				_, err = w.Write(wb)
				if err == nil && r.Buffered() == 0 {
					err = w.Flush()
				}
				wmu.Unlock()
				if err != nil {
					done <- err
					return
				}
			}
			if answered == n && (!waitReports || reports >= res.Accepted) {
				res.Reports = reports
				done <- nil
				return
			}
		}
	}()
	var sb []byte
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		default:
			wmu.Lock()
			err := w.Flush()
			wmu.Unlock()
			if err != nil {
				return res, err
			}
			select {
			case sem <- struct{}{}:
			case err := <-done:
				if err == nil {
					err = errors.New("reader ended early")
				}
				return res, err
			}
		}
		sb, _ = d.Append(sb[:0], &carrier.PDU{Type: carrier.Submit, Seq: uint32(i + 2), Ref: fmt.Sprintf("%020d", base+uint64(i)),
			MsgType: 'S', Callback: "0215881234", Dest: "01012345678", Text: "blast"})
		wmu.Lock()
		_, err := w.Write(sb)
		wmu.Unlock()
		if err != nil {
			return res, err
		}
		res.Submits++
	}
	wmu.Lock()
	err = w.Flush()
	wmu.Unlock()
	if err != nil {
		return res, err
	}
	err = <-done
	res.Elapsed = time.Since(start)
	return res, err
}
