package alert

import "time"

// RateLimit bounds a sink's delivery attempts with a token bucket: Burst
// at once, then one per Every. The zero value is no limit. Notifications
// over the limit wait in the outbox; they are not dropped. Periodic
// re-posts to Alertmanager do not count.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// bucket is a token bucket; a nil bucket is no limit.
type bucket struct {
	every  time.Duration
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket returns the bucket of r, full; nil when r is no limit.
func newBucket(r RateLimit) *bucket {
	if r.Every <= 0 {
		return nil
	}
	b := max(r.Burst, 1)
	return &bucket{every: r.Every, burst: float64(b), tokens: float64(b)}
}

// take takes a token if there is one (returning 0), else returns how long
// until there is one.
func (b *bucket) take(now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return max(time.Duration((1-b.tokens)*float64(b.every)), time.Millisecond)
}
