package lsnr

import (
	"sync/atomic"
	"time"

	"github.com/m1gw/m1/gw/msg"
)

// stamps are the time fields of the records accepted within one second,
// formatted once a second instead of once a message.
type stamps struct {
	sec    int64
	accept string // ACCEPT_TIME
	expire string // EXPIRE_TIME: accept + validity
}

type clock struct{ cur atomic.Pointer[stamps] }

func (c *clock) at(now time.Time, validity time.Duration) *stamps {
	sec := now.Unix()
	if s := c.cur.Load(); s != nil && s.sec == sec {
		return s
	}
	s := &stamps{sec: sec, accept: msg.FormatTime(now)}
	if validity > 0 {
		s.expire = msg.FormatTime(now.Add(validity))
	}
	c.cur.Store(s)
	return s
}
