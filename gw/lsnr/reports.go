package lsnr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/msg"
	"github.com/m1gw/m1/queue"
)

// hub delivers reports. rptLoop takes records from the RPT queue, appends
// them to their client's pending file (pending.go), commits them, and
// offers them to the connections bound as that client, at most ReportWindow
// unanswered per connection. A REPORT_RESP marks its entry done; a
// connection that ends gives its unanswered REPORTs back, to be sent on
// another connection of the client, now or when it binds again.
type hub struct {
	l    *Listener
	dir  string
	stop atomic.Bool

	mu      sync.Mutex
	clients map[string]*clientReports
}

// clientReports is one client's reports not yet answered.
type clientReports struct {
	file   *pendingFile
	byGW   map[string]*rptEntry // every unanswered entry
	unsent []*rptEntry          // FIFO of entries on no connection
	conns  []*conn              // bound connections
}

type rptEntry struct {
	idx int // in the file
	rpt msg.RPT
	on  *conn // the connection it was last sent on; nil: unsent
	seq uint32
}

func openHub(l *Listener, dir string) (*hub, error) {
	h := &hub{l: l, dir: dir, clients: map[string]*clientReports{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lsnr: report directory: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.rpt"))
	if err != nil {
		return nil, fmt.Errorf("lsnr: report directory: %w", err)
	}
	for _, path := range names {
		pf, rpts, bad, err := loadPending(path)
		if err != nil {
			_ = h.close()
			return nil, fmt.Errorf("lsnr: pending reports: %w", err)
		}
		if bad > 0 {
			l.log.Error("pending report entries undecodable, dropped", zap.String("file", path), zap.Int("entries", bad))
		}
		cr := &clientReports{file: pf, byGW: map[string]*rptEntry{}}
		for i := range rpts {
			e := &rptEntry{idx: i, rpt: rpts[i]}
			cr.byGW[e.rpt.GWID] = e
			cr.unsent = append(cr.unsent, e)
		}
		client := ""
		if len(rpts) > 0 {
			client = rpts[0].ClientID
		} else {
			client = strings.TrimSuffix(filepath.Base(path), ".rpt")
		}
		h.clients[client] = cr
		if len(rpts) > 0 {
			l.log.Info("pending reports loaded", zap.String("client", client), zap.Int("reports", len(rpts)))
		}
	}
	return h, nil
}

// client returns a client's reports, opening its file the first time.
// Called with mu held.
func (h *hub) client(id string) (*clientReports, error) {
	if cr := h.clients[id]; cr != nil {
		return cr, nil
	}
	pf, err := openPending(filepath.Join(h.dir, fileName(id)))
	if err != nil {
		return nil, err
	}
	if err := pf.reset(); err != nil {
		_ = pf.f.Close()
		return nil, err
	}
	cr := &clientReports{file: pf, byGW: map[string]*rptEntry{}}
	h.clients[id] = cr
	return cr, nil
}

func (h *hub) stopTaking() { h.stop.Store(true) }

// rptLoop consumes the RPT queue until stopTaking.
func (h *hub) rptLoop(q queue.Queue) {
	var recs []queue.Record
	var pending []msg.RPT
	var lastPos uint64
	backoff := 50 * time.Millisecond
	for !h.stop.Load() {
		if len(pending) == 0 {
			var err error
			recs, err = q.TakeBatch(recs[:0], 256, 100*time.Millisecond)
			if len(recs) == 0 {
				if err != nil && !errors.Is(err, queue.ErrEmpty) {
					h.l.log.Error("RPT queue", zap.Error(err))
					time.Sleep(backoff)
				}
				continue
			}
			for _, r := range recs {
				p, err := msg.DecodeRPT(r.Data)
				if err != nil {
					h.l.log.Error("RPT record undecodable, dropped", zap.Uint64("pos", r.Pos), zap.Error(err))
					continue
				}
				pending = append(pending, p)
			}
			lastPos = recs[len(recs)-1].Pos
		}
		if err := h.add(pending); err != nil {
			// Not committed: keep them and try again, taking nothing new.
			h.l.log.Error("pending reports could not be written; retrying", zap.Error(err))
			time.Sleep(backoff)
			continue
		}
		pending = pending[:0]
		if err := q.Commit(lastPos); err != nil {
			h.l.log.Error("RPT commit", zap.Error(err))
		}
	}
}

// add makes reports durable in their clients' files and offers them.
func (h *hub) add(rpts []msg.RPT) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	byClient := map[string][]int{}
	order := []string{}
	for i := range rpts {
		id := rpts[i].ClientID
		if _, ok := byClient[id]; !ok {
			order = append(order, id)
		}
		byClient[id] = append(byClient[id], i)
	}
	for _, id := range order {
		cr, err := h.client(id)
		if err != nil {
			return err
		}
		var buf []byte
		var fresh []int
		for _, i := range byClient[id] {
			if cr.byGW[rpts[i].GWID] != nil {
				continue // delivered again by the queue: already owed
			}
			buf = appendEntry(buf, &rpts[i])
			fresh = append(fresh, i)
		}
		if len(fresh) == 0 {
			continue
		}
		first, err := cr.file.append(buf)
		if err != nil {
			return err
		}
		for k, i := range fresh {
			e := &rptEntry{idx: first + k, rpt: rpts[i]}
			cr.byGW[e.rpt.GWID] = e
			cr.unsent = append(cr.unsent, e)
		}
		h.dispatch(cr)
	}
	return nil
}

// dispatch sends unsent entries to the client's connections with room.
// Called with mu held.
func (h *hub) dispatch(cr *clientReports) {
	win := h.l.opts.ReportWindow
	for len(cr.unsent) > 0 {
		var best *conn
		for _, c := range cr.conns {
			if c.rptInFlight < win && (best == nil || c.rptInFlight < best.rptInFlight) {
				best = c
			}
		}
		if best == nil {
			return
		}
		e := cr.unsent[0]
		cr.unsent[0] = nil
		cr.unsent = cr.unsent[1:]
		best.rptSeq++
		e.on, e.seq = best, best.rptSeq
		best.rptInFlight++
		r := e.rpt.Report()
		best.out <- outMsg{frame: r.Append(nil, e.seq)}
	}
}

// bind adds a connection just bound; the client's owed reports start.
func (h *hub) bind(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cr, err := h.client(c.client)
	if err != nil {
		c.log.Error("pending report file; no reports on this connection", zap.String("client", c.client), zap.Error(err))
		return
	}
	cr.conns = append(cr.conns, c)
	if n := len(cr.byGW); n > 0 {
		c.log.Info("reports owed to the client", zap.String("client", c.client), zap.Int("reports", n))
	}
	h.dispatch(cr)
}

// unbind takes an ended connection out; its unanswered REPORTs go back to
// be sent again.
func (h *hub) unbind(c *conn) {
	if !c.bound.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cr := h.clients[c.client]
	if cr == nil {
		return
	}
	for i, x := range cr.conns {
		if x == c {
			cr.conns = append(cr.conns[:i], cr.conns[i+1:]...)
			break
		}
	}
	var back []*rptEntry
	for _, e := range cr.byGW {
		if e.on == c {
			e.on = nil
			back = append(back, e)
		}
	}
	if len(back) > 0 {
		c.log.Info("REPORTs unanswered at close; sent again", zap.String("client", c.client), zap.Int("reports", len(back)))
		sortEntries(back)
		cr.unsent = append(back, cr.unsent...)
	}
	c.rptInFlight = 0
	h.dispatch(cr)
}

// ack records a REPORT_RESP.
func (h *hub) ack(c *conn, gwid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cr := h.clients[c.client]
	if cr == nil {
		return
	}
	e := cr.byGW[gwid]
	if e == nil {
		c.log.Debug("REPORT_RESP for no owed REPORT", zap.String("client", c.client), zap.String("gw_id", gwid))
		return
	}
	if e.on == nil {
		// Answered after its connection was given up on: done all
		// the same; drop it from the unsent list.
		for i, x := range cr.unsent {
			if x == e {
				cr.unsent = append(cr.unsent[:i], cr.unsent[i+1:]...)
				break
			}
		}
	} else {
		e.on.rptInFlight--
	}
	delete(cr.byGW, gwid)
	if err := cr.file.ack(e.idx); err != nil {
		h.l.log.Error("pending report file: acknowledgement not written (the REPORT may be sent again)",
			zap.String("client", c.client), zap.Error(err))
	}
	h.dispatch(cr)
}

func (h *hub) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, cr := range h.clients {
		if err := cr.file.close(); err != nil {
			errs = append(errs, err)
		}
	}
	h.clients = map[string]*clientReports{}
	return errors.Join(errs...)
}

func sortEntries(es []*rptEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].idx < es[j-1].idx; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
