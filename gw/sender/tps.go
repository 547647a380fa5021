package sender

import "time"

// bucket is a token bucket: rate tokens a second, at most burst saved.
// Over any interval T it allows at most burst + rate*T submits.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate int, now time.Time) *bucket {
	burst := float64(max(1, rate/20)) // 50ms of traffic: smooth, yet no timer per submit at high rates
	return &bucket{rate: float64(rate), burst: burst, tokens: burst, last: now}
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// take spends a token when there is one.
func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// wait is how long until the next token.
func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}
