package client

import (
	"errors"
	"io"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/telegram"
)

// readLoop reads every telegram of the connection: responses go to their
// requests, LINKs and REPORTs are answered. It ends with the connection and
// fails every pending request.
func (c *Client) readLoop() {
	defer c.wg.Done()
	r := telegram.NewReader(c.conn, 0)
	var err error
	for {
		var f []byte
		f, err = r.Next()
		if err != nil {
			break
		}
		if err = c.handle(f); err != nil {
			break
		}
	}
	select {
	case <-c.stop:
		err = ErrClosed
	default:
		if errors.Is(err, io.EOF) {
			err = io.EOF
		}
		c.log.Info("connection ended", zap.Error(err))
		c.conn.Close()
	}
	c.mu.Lock()
	c.err = err
	for seq, ch := range c.pending {
		close(ch)
		delete(c.pending, seq)
	}
	c.mu.Unlock()
	close(c.done)
}

func (c *Client) handle(frame []byte) error {
	h, body, err := telegram.ParseHeader(frame)
	if err != nil {
		return err
	}
	switch {
	case h.Type == telegram.TypeLink:
		return c.Write(telegram.AppendEmpty(nil, telegram.TypeLinkResp, h.Seq, telegram.OK))
	case h.Type == telegram.TypeReport:
		rep, err := telegram.DecodeReport(body)
		if err != nil {
			c.log.Warn("bad REPORT", zap.Error(err))
			return c.Write(telegram.AppendEmpty(nil, telegram.TypeReportResp, h.Seq, telegram.ResultOf(err)))
		}
		if c.opts.OnReport != nil {
			c.opts.OnReport(h.Seq, rep)
		}
		if c.opts.NoReportResp {
			return nil
		}
		return c.AnswerReport(h.Seq, rep)
	case h.Type.IsResponse():
		c.mu.Lock()
		ch, ok := c.pending[h.Seq]
		delete(c.pending, h.Seq)
		c.mu.Unlock()
		if !ok && h.Type == telegram.TypeLinkResp {
			return nil // the answer to linkLoop's LINK
		}
		if !ok {
			c.log.Warn("response to no request", zap.Stringer("type", h.Type), zap.Uint32("seq", h.Seq))
			return nil
		}
		ch <- Frame{Header: h, Body: append([]byte(nil), body...)}
		return nil
	default:
		c.log.Warn("unexpected telegram", zap.Stringer("type", h.Type), zap.Uint32("seq", h.Seq))
		return nil
	}
}

// linkLoop sends LINK after LinkInterval without anything sent.
func (c *Client) linkLoop() {
	defer c.wg.Done()
	iv := c.opts.LinkInterval
	t := time.NewTimer(iv)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.done:
			return
		case <-t.C:
		}
		idle := time.Duration(time.Now().UnixNano() - c.lastSend.Load())
		if idle < iv {
			t.Reset(iv - idle)
			continue
		}
		if err := c.Write(telegram.AppendEmpty(nil, telegram.TypeLink, c.nextSeq(), telegram.OK)); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) {
				c.log.Info("LINK not sent", zap.Error(err))
			}
		}
		t.Reset(iv)
	}
}
