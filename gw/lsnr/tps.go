package lsnr

import (
	"sync"
	"time"

	"github.com/m1gw/m1/gw/telegram"
)

type limitsT = telegram.Limits

// bucket is one client's token bucket, shared by every connection bound as
// that client: PROTOCOL.md's TPS limit is per client, not per connection.
// It holds at most one second's worth of tokens, so a client idle for a
// while may send one second's allowance at once and no more.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens a second
	tokens float64
	last   time.Time
}

// take removes n tokens if there are that many.
func (b *bucket) take(now time.Time, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 {
		b.tokens += el.Seconds() * b.rate
		if b.tokens > b.rate {
			b.tokens = b.rate
		}
		b.last = now
	}
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

func (b *bucket) setRate(r int) {
	b.mu.Lock()
	b.rate = float64(r)
	if b.tokens > b.rate {
		b.tokens = b.rate
	}
	b.mu.Unlock()
}

// buckets are the token buckets by client id; a bucket lives as long as the
// listener, so reconnecting does not refill it.
type buckets struct {
	mu sync.Mutex
	m  map[string]*bucket
}

// get returns the client's bucket with its rate set to tps (a reload may
// have changed it).
func (bs *buckets) get(client string, tps int) *bucket {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[string]*bucket{}
	}
	b := bs.m[client]
	if b == nil {
		b = &bucket{rate: float64(tps), tokens: float64(tps), last: time.Now()}
		bs.m[client] = b
		return b
	}
	b.setRate(tps)
	return b
}
