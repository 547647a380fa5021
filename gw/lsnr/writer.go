package lsnr

import (
	"bufio"
	"time"

	"go.uber.org/zap"

	"github.com/m1gw/m1/gw/telegram"
)

// writeLoop sends what the reader, the lanes and the report hub give it,
// flushing whenever nothing more is waiting, and keeps the connection's
// timers: BIND within bind_timeout, LINK after link_interval without a
// telegram from the client, close after idle_timeout of silence.
//
// Each burst of writes runs under a write deadline of WriteTimeout: a client
// whose socket buffer stays full that long (it does not read) is
// disconnected, so it never holds up the lanes or other clients.
func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 32<<10)
	set := c.l.set.Load()
	tick := min(set.bindTimeout, set.linkInterval, set.idleTimeout) / 4
	tick = min(max(tick, 10*time.Millisecond), time.Second)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	var lastLink time.Time
	var linkSeq uint32
	armed := false
	flush := func() bool {
		if err := bw.Flush(); err != nil {
			c.kill("write: " + err.Error())
			return false
		}
		armed = false
		return true
	}
	for {
		select {
		case <-c.done:
			return
		case m := <-c.out:
			if !armed {
				_ = c.nc.SetWriteDeadline(time.Now().Add(c.l.opts.WriteTimeout))
				armed = true
			}
			if m.job != nil {
				j := m.job
				buf := telegram.AppendFrame(bw.AvailableBuffer(), telegram.TypeSubmitResp, j.seq, j.code, j.resp[:])
				putJob(j)
				if _, err := bw.Write(buf); err != nil {
					c.kill("write: " + err.Error())
					return
				}
			} else if m.frame != nil {
				if _, err := bw.Write(m.frame); err != nil {
					c.kill("write: " + err.Error())
					return
				}
			}
			if m.release {
				<-c.slots
			}
			if m.closeAfter {
				if flush() {
					c.kill(m.why)
				}
				return
			}
			if len(c.out) == 0 && !flush() {
				return
			}
		case now := <-ticker.C:
			set = c.l.set.Load()
			silent := now.Sub(time.Unix(0, c.lastRead.Load()))
			if !c.bound.Load() {
				if now.Sub(c.started) >= set.bindTimeout {
					c.log.Warn("refused: no BIND within the bind timeout", zap.Duration("bind_timeout", set.bindTimeout))
					_ = c.nc.SetWriteDeadline(now.Add(c.l.opts.WriteTimeout))
					_, _ = bw.Write(telegram.AppendEmpty(nil, telegram.TypeBindResp, 0, telegram.ErrNotBound))
					_ = bw.Flush()
					c.kill("no BIND within the bind timeout")
					return
				}
				continue
			}
			if silent >= set.idleTimeout {
				c.log.Warn("closing: silent too long", zap.String("client", c.client), zap.Duration("silent", silent))
				c.kill("idle timeout")
				return
			}
			if silent >= set.linkInterval && now.Sub(lastLink) >= set.linkInterval {
				lastLink = now
				linkSeq++
				if !armed {
					_ = c.nc.SetWriteDeadline(now.Add(c.l.opts.WriteTimeout))
				}
				if _, err := bw.Write(telegram.AppendEmpty(nil, telegram.TypeLink, linkSeq, telegram.OK)); err != nil {
					c.kill("write: " + err.Error())
					return
				}
				if !flush() {
					return
				}
			}
		}
	}
}
