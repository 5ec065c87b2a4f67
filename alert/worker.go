package alert

import (
	"context"
	"slices"
	"time"
)

// worker delivers one sink's outbox in order, under its rate limit, and
// re-posts the firing set to Refreshers.
func (d *Dispatcher) worker(ctx context.Context, s *sinkState) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	s.nextResend = d.now()
	for ctx.Err() == nil {
		now := d.now()
		head := s.head()
		wait := time.Duration(-1)
		switch {
		case head != nil && now.Before(head.notBefore):
			wait = head.notBefore.Sub(now)
		case head != nil:
			if w := s.bucket.take(now); w > 0 {
				wait = w
				break
			}
			d.deliver(ctx, s, head)
			continue
		case s.refresh:
			firing := d.firingFor(s)
			if len(firing) == 0 {
				break
			}
			if now.Before(s.nextResend) {
				wait = s.nextResend.Sub(now)
				break
			}
			d.resend(ctx, s, firing)
			continue
		}
		var tc <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-s.signal:
		case <-tc:
		}
	}
}

// firingFor is the firing set filtered by the sink's route.
func (d *Dispatcher) firingFor(s *sinkState) []Alert {
	return s.Route.filter(*d.snapshot.Load())
}

// deliver makes one attempt at the head entry.
func (d *Dispatcher) deliver(ctx context.Context, s *sinkState, e *entry) {
	if e.attempts > 0 {
		d.m.Retried(s.name)
	}
	s.setInflight(e, true)
	retry, err := s.Notify(ctx, e.Alerts)
	s.setInflight(e, false)
	if ctx.Err() != nil {
		// Shutting down: the entry stays for the next run.
		return
	}
	now := d.now()
	switch {
	case err == nil:
		d.m.Sent(s.name)
		d.m.Delivered(s.name, now.Sub(e.Origin))
		if e.attempts > 0 {
			d.log.Info("notification delivered after retries", "sink", s.name, "attempts", e.attempts+1)
		}
		if s.refresh && covers(e.Alerts, d.firingFor(s)) {
			s.nextResend = now.Add(d.o.ResendInterval)
		}
		d.removeEntry(s, e)
	case retry:
		d.m.Failed(s.name, true)
		e.attempts++
		delay := retryDelay(d.backoff(e.attempts), err)
		s.retryAt(e, now.Add(delay))
		d.log.Warn("notification failed, will retry", "sink", s.name, "attempt", e.attempts, "retry_in", delay, "err", err)
	default:
		d.m.Failed(s.name, false)
		d.log.Error("notification rejected, giving up", "sink", s.name, "alerts", len(e.Alerts), "err", err)
		d.removeEntry(s, e)
	}
}

// covers reports whether every firing alert is in sent (as firing).
func covers(sent, firing []Alert) bool {
	for _, f := range firing {
		if !slices.ContainsFunc(sent, func(a Alert) bool { return a.Fingerprint == f.Fingerprint && a.Firing() }) {
			return false
		}
	}
	return true
}

// resend re-posts the firing alerts to a Refresher.
func (d *Dispatcher) resend(ctx context.Context, s *sinkState, firing []Alert) {
	retry, err := s.Notify(ctx, firing)
	if ctx.Err() != nil {
		return
	}
	now := d.now()
	if err == nil {
		d.m.Resent(s.name)
		s.resendFailures = 0
		s.nextResend = now.Add(d.o.ResendInterval)
		return
	}
	d.m.Failed(s.name, retry)
	s.resendFailures++
	delay := retryDelay(min(d.backoff(s.resendFailures), d.o.ResendInterval), err)
	s.nextResend = now.Add(delay)
	d.log.Warn("re-posting firing alerts failed", "sink", s.name, "alerts", len(firing), "retry_in", delay, "err", err)
}

// backoff is the delay after the n-th consecutive failure (n ≥ 1):
// BackoffBase·2^(n-1), capped at BackoffMax, minus up to 20% jitter.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.o.BackoffBase
	for i := 1; i < n && b < d.o.BackoffMax; i++ {
		b *= 2
	}
	b = min(b, d.o.BackoffMax)
	return b - time.Duration(float64(b)*0.2*d.jitter())
}

// retryDelay is the delay before the next attempt after err: the
// receiver's Retry-After (at most maxRetryAfter) if err carries one, else
// backoff.
func retryDelay(backoff time.Duration, err error) time.Duration {
	if ra, ok := RetryAfter(err); ok {
		return min(ra, maxRetryAfter)
	}
	return backoff
}
