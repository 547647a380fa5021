// Package client speaks PROTOCOL.md from the client's side: for tests of
// eai_lsnr and for tools/loadgen.
//
// One Client is one TCP connection. Its methods are safe for concurrent use:
// requests from many goroutines are pipelined on the connection, up to
// Options.Window (64) unanswered at once, and each response is matched to
// its request by SEQ, whatever order the gateway answers in. A reader
// goroutine owned by the Client answers the gateway's LINKs and hands each
// REPORT to Options.OnReport, then answers it with REPORT_RESP (unless
// Options.NoReportResp, for tests of a client that does not answer). A
// LINK goes out after Options.LinkInterval without traffic.
package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/telegram"
)

// Options configure a Client. The zero Options are PROTOCOL.md's defaults.
type Options struct {
	// Window is the most unanswered requests at once (default 64).
	Window int
	// OnReport is called from the reader goroutine for each REPORT, before
	// the REPORT_RESP goes out. It must not block for long: responses wait
	// behind it. nil ignores REPORTs (they are still answered).
	OnReport func(seq uint32, r telegram.Report)
	// NoReportResp leaves REPORTs unanswered (AnswerReport answers one).
	NoReportResp bool
	// LinkInterval is the idle time after which a LINK goes out (default
	// 30 s; negative: never).
	LinkInterval time.Duration
	// DialTimeout bounds Dial (default 10 s).
	DialTimeout time.Duration
	// Logger receives connection events (default: none).
	Logger *zap.Logger
}

// ErrClosed is returned by requests on a Client whose connection has ended;
// the error wraps the reason when there is one.
var ErrClosed = errors.New("client connection closed")

// Frame is a received telegram: its header and a copy of its body.
type Frame struct {
	telegram.Header
	Body []byte
}

// Client is one connection to a gateway.
type Client struct {
	opts Options
	log  *zap.Logger
	conn net.Conn

	wmu      sync.Mutex // serialises writes
	lastSend atomic.Int64
	seq      atomic.Uint32
	window   chan struct{}

	mu      sync.Mutex
	pending map[uint32]chan Frame
	err     error // why the connection ended; set once

	done chan struct{} // closed when readLoop ends
	stop chan struct{} // closed by Close
	once sync.Once
	wg   sync.WaitGroup
}

// Dial connects to addr.
func Dial(addr string, opts Options) (*Client, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	conn, err := net.DialTimeout("tcp", addr, opts.DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return New(conn, opts), nil
}

// New runs a Client on an open connection.
func New(conn net.Conn, opts Options) *Client {
	if opts.Window <= 0 {
		opts.Window = 64
	}
	if opts.LinkInterval == 0 {
		opts.LinkInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	c := &Client{
		opts: opts, log: opts.Logger.With(zap.String("remote", conn.RemoteAddr().String())), conn: conn,
		window: make(chan struct{}, opts.Window), pending: make(map[uint32]chan Frame),
		done: make(chan struct{}), stop: make(chan struct{}),
	}
	c.lastSend.Store(time.Now().UnixNano())
	c.wg.Add(1)
	go c.readLoop()
	if opts.LinkInterval > 0 {
		c.wg.Add(1)
		go c.linkLoop()
	}
	return c
}

// LocalAddr is the client's end of the connection.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Done is closed when the connection has ended; Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is up).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and waits for the Client's goroutines.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		err = c.conn.Close()
	})
	c.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// nextSeq is the next SEQ: 1 to 99,999,999, then round again.
func (c *Client) nextSeq() uint32 {
	for {
		s := c.seq.Add(1)
		if s%100000000 != 0 {
			return s % 100000000
		}
	}
}

// Write sends raw bytes as they are: for tests that send malformed
// telegrams.
func (c *Client) Write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.lastSend.Store(time.Now().UnixNano())
	_, err := c.conn.Write(b)
	return err
}

// Request sends a request built by build (which appends the whole telegram
// with the given SEQ) and waits for the response with that SEQ.
func (c *Client) Request(ctx context.Context, build func(dst []byte, seq uint32) []byte) (Frame, error) {
	select {
	case c.window <- struct{}{}:
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	case <-c.done:
		return Frame{}, c.closedErr()
	}
	defer func() { <-c.window }()
	seq := c.nextSeq()
	ch := make(chan Frame, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return Frame{}, c.closedErr()
	}
	c.pending[seq] = ch
	c.mu.Unlock()
	buf := build(make([]byte, 0, 256), seq)
	if err := c.Write(buf); err != nil {
		c.forget(seq)
		return Frame{}, fmt.Errorf("send: %w", err)
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return Frame{}, c.closedErr()
		}
		return f, nil
	case <-ctx.Done():
		c.forget(seq)
		return Frame{}, ctx.Err()
	}
}

func (c *Client) forget(seq uint32) {
	c.mu.Lock()
	delete(c.pending, seq)
	c.mu.Unlock()
}

func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil || errors.Is(c.err, ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrClosed, c.err)
}

func expect(f Frame, t telegram.Type) error {
	if f.Type != t {
		return fmt.Errorf("response of type %v to a request expecting %v", f.Type, t)
	}
	return nil
}

// Bind sends BIND and returns BIND_RESP's RESULT.
func (c *Client) Bind(ctx context.Context, clientID, password string) (telegram.Code, error) {
	b := telegram.Bind{ClientID: clientID, Password: password, Version: 1}
	f, err := c.Request(ctx, b.Append)
	if err != nil {
		return 0, err
	}
	return f.Result, expect(f, telegram.TypeBindResp)
}

// Submit sends SUBMIT and returns SUBMIT_RESP's RESULT and body.
func (c *Client) Submit(ctx context.Context, s *telegram.Submit) (telegram.Code, telegram.SubmitResp, error) {
	f, err := c.Request(ctx, s.Append)
	if err != nil {
		return 0, telegram.SubmitResp{}, err
	}
	if err := expect(f, telegram.TypeSubmitResp); err != nil {
		return f.Result, telegram.SubmitResp{}, err
	}
	r, err := telegram.DecodeSubmitResp(f.Body)
	return f.Result, r, err
}

// MultiSubmit sends MULTI_SUBMIT and returns MULTI_SUBMIT_RESP's RESULT and
// body.
func (c *Client) MultiSubmit(ctx context.Context, m *telegram.MultiSubmit) (telegram.Code, telegram.MultiSubmitResp, error) {
	f, err := c.Request(ctx, m.Append)
	if err != nil {
		return 0, telegram.MultiSubmitResp{}, err
	}
	if err := expect(f, telegram.TypeMultiSubmitResp); err != nil {
		return f.Result, telegram.MultiSubmitResp{}, err
	}
	r, err := telegram.DecodeMultiSubmitResp(f.Body)
	return f.Result, r, err
}

// Link sends LINK and waits for LINK_RESP.
func (c *Client) Link(ctx context.Context) error {
	f, err := c.Request(ctx, func(dst []byte, seq uint32) []byte {
		return telegram.AppendEmpty(dst, telegram.TypeLink, seq, telegram.OK)
	})
	if err != nil {
		return err
	}
	return expect(f, telegram.TypeLinkResp)
}

// Unbind sends UNBIND, waits for UNBIND_RESP (every response owed comes
// before it), and closes the connection.
func (c *Client) Unbind(ctx context.Context) (telegram.Code, error) {
	f, err := c.Request(ctx, func(dst []byte, seq uint32) []byte {
		return telegram.AppendEmpty(dst, telegram.TypeUnbind, seq, telegram.OK)
	})
	cerr := c.Close()
	if err != nil {
		return 0, err
	}
	if err := expect(f, telegram.TypeUnbindResp); err != nil {
		return f.Result, err
	}
	return f.Result, cerr
}

// AnswerReport sends the REPORT_RESP of a REPORT (for clients with
// NoReportResp that answer some REPORTs themselves).
func (c *Client) AnswerReport(seq uint32, r telegram.Report) error {
	rr := telegram.ReportResp{MsgKey: r.MsgKey, GWID: r.GWID}
	return c.Write(rr.Append(nil, seq, telegram.OK))
}
