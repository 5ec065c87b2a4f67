package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/rules"
)

// Defaults of Options.
const (
	DefaultGroupWait      = 200 * time.Millisecond
	DefaultRepeatInterval = 4 * time.Hour
	DefaultResendInterval = time.Minute
	DefaultRestoreGrace   = 15 * time.Minute
	DefaultMaxOutbox      = 10000
	DefaultBackoffBase    = time.Second
	DefaultBackoffMax     = 5 * time.Minute
	// maxRetryAfter bounds a receiver's Retry-After.
	maxRetryAfter = time.Hour
	// maxQueue bounds findings submitted but not yet taken by Run.
	maxQueue = 100000
)

// Route selects the alerts a sink receives.
type Route struct {
	// MinSeverity is the least severe finding sent ("" sends all).
	MinSeverity rules.Severity
	// Kinds, if not empty, restricts the finding kinds sent.
	Kinds []string
}

// Match reports whether the route lets a through.
func (r Route) Match(a *Alert) bool {
	if rules.Severity(a.Severity).Rank() < r.MinSeverity.Rank() {
		return false
	}
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, a.Kind)
}

// RateLimit bounds a sink's delivery attempts with a token bucket: Burst
// at once, then one per Every. The zero value is no limit. Notifications
// over the limit wait in the outbox; they are not dropped. Periodic
// re-posts to Alertmanager do not count.
type RateLimit struct {
	Every time.Duration
	Burst int
}

// Sink is a notifier with its route and rate limit.
type Sink struct {
	Notifier
	Route     Route
	RateLimit RateLimit
}

// Options configure a Dispatcher.
type Options struct {
	// StateDir holds the outboxes and the firing set (required). It is
	// created if missing; only one running dispatcher may use it.
	StateDir string
	// Sinks receive notifications; their names must be unique.
	Sinks []Sink
	// Instance names this watcher in alerts (the reported_by annotation);
	// default the host name.
	Instance string
	// ExternalURL, if set, is each alert's generatorURL and the webhook
	// messages' externalURL (e.g. the watcher's status page).
	ExternalURL string
	// GroupWait: findings arriving within this time of the first pending
	// one go out together (default DefaultGroupWait; negative: none).
	GroupWait time.Duration
	// RepeatInterval: a firing alert is notified again after this long
	// (default DefaultRepeatInterval; negative: never).
	RepeatInterval time.Duration
	// ResendInterval: firing alerts are re-posted this often to sinks that
	// are Refreshers (Alertmanager); keep it below Alertmanager's
	// resolve_timeout (default 5m). Default DefaultResendInterval.
	ResendInterval time.Duration
	// RestoreGrace: an alert of the firing set found on disk at start that
	// the detection engine does not raise again within this time is
	// resolved (its problem ended while vrrpguard was not running).
	// Default DefaultRestoreGrace; negative: never.
	RestoreGrace time.Duration
	// MaxOutbox bounds each sink's outbox (default DefaultMaxOutbox); past
	// it the oldest notifications are dropped.
	MaxOutbox int
	// BackoffBase and BackoffMax shape retries: BackoffBase doubled at
	// each failure up to BackoffMax, minus up to 20% jitter. Defaults
	// DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// OnDropped, if set, is called (from a dispatcher goroutine, never
	// under a lock: it may call Submit) with the number of notifications
	// just dropped from a full outbox.
	OnDropped func(n int)
	// Registry, if set, gets the dispatcher's metrics.
	Registry *prometheus.Registry
	// Logger (default slog.Default()). Secrets are never logged.
	Logger *slog.Logger
	// Clock returns the current time (default time.Now). Waits are real
	// timers over differences of Clock readings, so a test clock must
	// advance with real (or testing/synctest) time; an offset clock works.
	Clock func() time.Time
}

// Dispatcher turns findings into notifications and delivers them durably:
// it dedups by fingerprint, groups findings of one moment, repeats firing
// alerts, notifies resolves, keeps every notification in a per-sink
// outbox on disk until the sink accepted it, and retries with backoff.
type Dispatcher struct {
	o     Options
	log   *slog.Logger
	now   func() time.Time
	m     *metrics
	sinks []*sinkState

	mu      sync.Mutex
	queue   []rules.Finding
	running bool
	wake    chan struct{}

	// Owned by Run's goroutine.
	firing        map[string]*firingEntry
	pending       []rules.Finding
	groupDeadline time.Time

	// snapshot is the firing set as a list, for the resend workers.
	snapshot atomic.Pointer[[]Alert]
	// jitter returns a fraction in [0,1) (tests may replace it).
	jitter func() float64
}

// sinkState is a sink at run time.
type sinkState struct {
	Sink
	name    string
	dir     string
	refresh bool
	signal  chan struct{}
	bucket  *bucket

	mu  sync.Mutex
	box *outbox

	// Worker-owned.
	nextResend     time.Time
	resendFailures int
}

// New checks opts and returns a dispatcher; Run starts it.
func New(o Options) (*Dispatcher, error) {
	if o.StateDir == "" {
		return nil, errors.New("alert: no state directory")
	}
	if o.Instance == "" {
		o.Instance, _ = os.Hostname()
	}
	if o.GroupWait == 0 {
		o.GroupWait = DefaultGroupWait
	}
	o.GroupWait = max(o.GroupWait, 0)
	if o.RepeatInterval == 0 {
		o.RepeatInterval = DefaultRepeatInterval
	}
	if o.ResendInterval <= 0 {
		o.ResendInterval = DefaultResendInterval
	}
	if o.RestoreGrace == 0 {
		o.RestoreGrace = DefaultRestoreGrace
	}
	if o.MaxOutbox <= 0 {
		o.MaxOutbox = DefaultMaxOutbox
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffBase)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, fmt.Errorf("alert: metrics: %w", err)
	}
	d := &Dispatcher{
		o:      o,
		log:    o.Logger.With("component", "alert"),
		now:    o.Clock,
		m:      m,
		wake:   make(chan struct{}, 1),
		firing: map[string]*firingEntry{},
		jitter: rand.Float64,
	}
	seen := map[string]bool{}
	dirs := map[string]bool{}
	for _, s := range o.Sinks {
		if s.Notifier == nil {
			return nil, errors.New("alert: sink without notifier")
		}
		name := s.Name()
		if name == "" || seen[name] {
			return nil, fmt.Errorf("alert: sink name %q is empty or used twice", name)
		}
		seen[name] = true
		dir := sinkDirName(name)
		if dirs[dir] {
			return nil, fmt.Errorf("alert: sink name %q collides with another", name)
		}
		dirs[dir] = true
		ss := &sinkState{
			Sink:   s,
			name:   name,
			dir:    filepath.Join(o.StateDir, outboxName, dir),
			signal: make(chan struct{}, 1),
			bucket: newBucket(s.RateLimit),
		}
		if r, ok := s.Notifier.(Refresher); ok && r.NeedsResend() {
			ss.refresh = true
		}
		d.sinks = append(d.sinks, ss)
		m.depth.WithLabelValues(name).Set(0)
		for _, reason := range []string{"retryable", "permanent"} {
			m.failed.WithLabelValues(name, reason)
		}
		m.sent.WithLabelValues(name)
		m.retries.WithLabelValues(name)
		m.dropped.WithLabelValues(name)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	empty := []Alert{}
	d.snapshot.Store(&empty)
	return d, nil
}

// Submit hands a raised or resolved finding to the dispatcher. It never
// blocks; findings submitted before Run starts are kept for it.
func (d *Dispatcher) Submit(f rules.Finding) {
	d.mu.Lock()
	full := len(d.queue) >= maxQueue
	if full {
		d.queue = d.queue[1:]
	}
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if full {
		d.log.Error("alert queue full, oldest finding dropped (is Run running?)")
		if d.o.OnDropped != nil {
			d.o.OnDropped(1)
		}
	}
}

// Run loads the state directory, delivers pending notifications and
// processes submitted findings until ctx is done. Before returning it
// writes every pending finding to the outboxes and saves the firing set;
// notifications not yet accepted are delivered by the next Run on the same
// StateDir. It returns an error only if it cannot start.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("alert: dispatcher already running")
	}
	d.running = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
	}()

	lock, err := lockDir(d.o.StateDir)
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	defer lock.Close()
	if err := d.load(); err != nil {
		return fmt.Errorf("alert: %w", err)
	}

	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range d.sinks {
		wg.Go(func() { d.worker(wctx, s) })
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := d.now()
		d.step(now, false)
		if next := d.nextWake(); !next.IsZero() {
			timer.Reset(max(next.Sub(now), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			d.step(d.now(), true)
			stop()
			wg.Wait()
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// load reads the firing set and the outboxes.
func (d *Dispatcher) load() error {
	now := d.now()
	firing, err := loadState(d.o.StateDir)
	if err != nil {
		// A damaged firing set must not stop alerting.
		d.log.Error("cannot read the firing set; starting empty", "err", err)
	}
	d.firing = map[string]*firingEntry{}
	for _, fe := range firing {
		if fe == nil || fe.Alert.Fingerprint == "" {
			continue
		}
		fe.restoredAt = now
		d.firing[fe.Alert.Fingerprint] = fe
	}
	if len(d.firing) > 0 {
		d.log.Info("restored firing alerts", "count", len(d.firing))
	}
	d.publish()
	known := map[string]bool{}
	for _, s := range d.sinks {
		known[filepath.Base(s.dir)] = true
		box, bad, err := loadOutbox(s.dir, s.name)
		if err != nil {
			return err
		}
		for _, b := range bad {
			d.log.Error("unreadable outbox entry set aside", "sink", s.name, "file", b+".corrupt")
		}
		s.mu.Lock()
		s.box = box
		n := len(box.entries)
		s.mu.Unlock()
		d.m.depth.WithLabelValues(s.name).Set(float64(n))
		if n > 0 {
			d.log.Info("pending notifications from a previous run", "sink", s.name, "count", n)
		}
	}
	if des, err := os.ReadDir(filepath.Join(d.o.StateDir, outboxName)); err == nil {
		for _, de := range des {
			if de.IsDir() && !known[de.Name()] {
				if files, _ := filepath.Glob(filepath.Join(d.o.StateDir, outboxName, de.Name(), "*.json")); len(files) > 0 {
					d.log.Warn("outbox of a sink no longer configured; its notifications are not delivered",
						"dir", filepath.Join(d.o.StateDir, outboxName, de.Name()), "count", len(files))
				}
			}
		}
	}
	return nil
}

// step takes submitted findings and queues whatever is due at now; final
// flushes everything pending regardless of the group wait.
func (d *Dispatcher) step(now time.Time, final bool) {
	d.mu.Lock()
	if len(d.queue) > 0 {
		if len(d.pending) == 0 {
			d.groupDeadline = now.Add(d.o.GroupWait)
		}
		d.pending = append(d.pending, d.queue...)
		d.queue = nil
	}
	d.mu.Unlock()

	var batches [][]Alert
	changed := false
	if len(d.pending) > 0 && (final || !now.Before(d.groupDeadline)) {
		if b := d.flush(now); len(b) > 0 {
			batches = append(batches, b)
		}
		d.pending = nil
		changed = true
	}
	if b := d.dueRepeats(now); len(b) > 0 {
		batches = append(batches, b)
		changed = true
	}
	if b := d.expireRestored(now); len(b) > 0 {
		batches = append(batches, b)
		changed = true
	}
	if !changed {
		return
	}
	// The resend workers must see the new firing set before the
	// notifications: a resolve is never followed by a stale re-post.
	d.publish()
	for _, b := range batches {
		d.enqueue(b, now)
	}
	// The outbox entries are on disk before the firing set that assumes
	// them: a crash in between notifies twice, never not at all.
	if err := saveState(d.o.StateDir, d.firingList()); err != nil {
		d.log.Error("cannot save the firing set", "err", err)
	}
}

// flush applies the pending findings to the firing set and returns the
// alerts to notify: new ones, resolved ones (a raise and resolve within one
// group become one resolved alert); a raise of an alert already firing
// updates it silently.
func (d *Dispatcher) flush(now time.Time) []Alert {
	var batch []Alert
	index := map[string]int{}
	put := func(a Alert) {
		if i, ok := index[a.Fingerprint]; ok {
			batch[i] = a
			return
		}
		index[a.Fingerprint] = len(batch)
		batch = append(batch, a)
	}
	for _, f := range d.pending {
		a := FromFinding(f, d.o.Instance)
		a.GeneratorURL = d.o.ExternalURL
		if a.At.IsZero() {
			a.At = now.UTC()
		}
		fe := d.firing[a.Fingerprint]
		switch f.State {
		case rules.Resolved:
			if fe == nil {
				d.log.Debug("resolve of an alert not firing ignored", "fingerprint", a.Fingerprint, "kind", a.Kind)
				continue
			}
			a.StartsAt = earliest(fe.Alert.StartsAt, a.StartsAt)
			if a.EndsAt.IsZero() {
				a.EndsAt = a.At
			}
			delete(d.firing, a.Fingerprint)
			put(a)
		default:
			if fe != nil {
				a.StartsAt = earliest(fe.Alert.StartsAt, a.StartsAt)
				if a.FirstSeen.After(fe.Alert.FirstSeen) && !fe.Alert.FirstSeen.IsZero() {
					a.FirstSeen = fe.Alert.FirstSeen
				}
				fe.Alert = a
				if !fe.restoredAt.IsZero() {
					fe.restoredAt = time.Time{}
					d.log.Debug("restored alert confirmed", "fingerprint", a.Fingerprint)
				}
				if _, ok := index[a.Fingerprint]; ok {
					put(a)
				}
				continue
			}
			d.firing[a.Fingerprint] = &firingEntry{Alert: a, LastNotified: now}
			put(a)
		}
	}
	return batch
}

// dueRepeats returns reminders of alerts firing for RepeatInterval since
// their last notification.
func (d *Dispatcher) dueRepeats(now time.Time) []Alert {
	if d.o.RepeatInterval < 0 {
		return nil
	}
	var out []Alert
	for _, fe := range d.firingList() {
		if !fe.restoredAt.IsZero() || now.Before(fe.LastNotified.Add(d.o.RepeatInterval)) {
			continue
		}
		fe.LastNotified = now
		a := fe.Alert.clone()
		a.Repeat = true
		a.At = now.UTC()
		out = append(out, a)
	}
	return out
}

// expireRestored resolves restored alerts not raised again within
// RestoreGrace.
func (d *Dispatcher) expireRestored(now time.Time) []Alert {
	if d.o.RestoreGrace < 0 {
		return nil
	}
	var out []Alert
	for _, fe := range d.firingList() {
		if fe.restoredAt.IsZero() || now.Before(fe.restoredAt.Add(d.o.RestoreGrace)) {
			continue
		}
		a := fe.Alert.clone()
		a.Status = StatusResolved
		a.Repeat = false
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		a.At = now.UTC()
		a.EndsAt = now.UTC()
		a.Annotations[AnnotationDescription] += fmt.Sprintf("\nresolved by vrrpguard: not detected again within %s after a restart", d.o.RestoreGrace)
		delete(d.firing, a.Fingerprint)
		out = append(out, a)
	}
	return out
}

// nextWake is when step has something to do next (zero: nothing).
func (d *Dispatcher) nextWake() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if len(d.pending) > 0 {
		consider(d.groupDeadline)
	}
	for _, fe := range d.firing {
		if fe.restoredAt.IsZero() {
			if d.o.RepeatInterval > 0 {
				consider(fe.LastNotified.Add(d.o.RepeatInterval))
			}
		} else if d.o.RestoreGrace >= 0 {
			consider(fe.restoredAt.Add(d.o.RestoreGrace))
		}
	}
	return next
}

// firingList is the firing set in a stable order (by start, then
// fingerprint).
func (d *Dispatcher) firingList() []*firingEntry {
	out := make([]*firingEntry, 0, len(d.firing))
	for _, fe := range d.firing {
		out = append(out, fe)
	}
	slices.SortFunc(out, func(a, b *firingEntry) int {
		if c := a.Alert.StartsAt.Compare(b.Alert.StartsAt); c != 0 {
			return c
		}
		switch {
		case a.Alert.Fingerprint < b.Alert.Fingerprint:
			return -1
		case a.Alert.Fingerprint > b.Alert.Fingerprint:
			return 1
		}
		return 0
	})
	return out
}

// publish stores the firing set for the resend workers.
func (d *Dispatcher) publish() {
	list := d.firingList()
	alerts := make([]Alert, 0, len(list))
	for _, fe := range list {
		alerts = append(alerts, fe.Alert.clone())
	}
	d.snapshot.Store(&alerts)
}

// enqueue writes one notification per sink whose route matches some of
// the alerts.
func (d *Dispatcher) enqueue(alerts []Alert, now time.Time) {
	origin := now
	for _, a := range alerts {
		if !a.At.IsZero() && a.At.Before(origin) {
			origin = a.At
		}
	}
	dropped := 0
	for _, s := range d.sinks {
		var mine []Alert
		for _, a := range alerts {
			if s.Route.Match(&a) {
				mine = append(mine, a.clone())
			}
		}
		if len(mine) == 0 {
			continue
		}
		e := &entry{Created: now.UTC(), Origin: origin.UTC(), Alerts: mine}
		s.mu.Lock()
		err := s.box.add(e)
		n, terr := s.box.trim(d.o.MaxOutbox)
		depth := len(s.box.entries)
		s.mu.Unlock()
		if err != nil {
			d.log.Error("cannot write notification to the outbox; it is delivered but would not survive a restart",
				"sink", s.name, "err", err)
		}
		if terr != nil {
			d.log.Error("outbox cleanup failed", "sink", s.name, "err", terr)
		}
		if n > 0 {
			d.m.dropped.WithLabelValues(s.name).Add(float64(n))
			d.log.Error("outbox full, oldest notifications dropped", "sink", s.name, "dropped", n, "max", d.o.MaxOutbox)
			dropped += n
		}
		d.m.depth.WithLabelValues(s.name).Set(float64(depth))
		select {
		case s.signal <- struct{}{}:
		default:
		}
	}
	if dropped > 0 && d.o.OnDropped != nil {
		d.o.OnDropped(dropped)
	}
}

// worker delivers one sink's outbox in order, and re-posts the firing set
// to Refreshers.
func (d *Dispatcher) worker(ctx context.Context, s *sinkState) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	s.nextResend = d.now()
	for ctx.Err() == nil {
		now := d.now()
		s.mu.Lock()
		var head *entry
		if len(s.box.entries) > 0 {
			head = s.box.entries[0]
		}
		s.mu.Unlock()
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
	var out []Alert
	for _, a := range *d.snapshot.Load() {
		if s.Route.Match(&a) {
			out = append(out, a)
		}
	}
	return out
}

// deliver makes one attempt at the head entry.
func (d *Dispatcher) deliver(ctx context.Context, s *sinkState, e *entry) {
	if e.attempts > 0 {
		d.m.retries.WithLabelValues(s.name).Inc()
	}
	s.mu.Lock()
	e.inflight = true
	s.mu.Unlock()
	retry, err := s.Notify(ctx, e.Alerts)
	s.mu.Lock()
	e.inflight = false
	s.mu.Unlock()
	if ctx.Err() != nil {
		// Shutting down: the entry stays for the next run.
		return
	}
	now := d.now()
	switch {
	case err == nil:
		d.m.sent.WithLabelValues(s.name).Inc()
		d.m.delivery.WithLabelValues(s.name).Observe(max(now.Sub(e.Origin), 0).Seconds())
		if e.attempts > 0 {
			d.log.Info("notification delivered after retries", "sink", s.name, "attempts", e.attempts+1)
		}
		if s.refresh && covers(e.Alerts, d.firingFor(s)) {
			s.nextResend = now.Add(d.o.ResendInterval)
		}
		d.removeEntry(s, e)
	case retry:
		d.m.failed.WithLabelValues(s.name, "retryable").Inc()
		e.attempts++
		delay := d.backoff(e.attempts)
		if ra, ok := RetryAfter(err); ok {
			delay = min(ra, maxRetryAfter)
		}
		s.mu.Lock()
		e.notBefore = now.Add(delay)
		s.mu.Unlock()
		d.log.Warn("notification failed, will retry", "sink", s.name, "attempt", e.attempts, "retry_in", delay, "err", err)
	default:
		d.m.failed.WithLabelValues(s.name, "permanent").Inc()
		d.log.Error("notification rejected, giving up", "sink", s.name, "alerts", len(e.Alerts), "err", err)
		d.removeEntry(s, e)
	}
}

func (d *Dispatcher) removeEntry(s *sinkState, e *entry) {
	s.mu.Lock()
	err := s.box.remove(e)
	depth := len(s.box.entries)
	s.mu.Unlock()
	if err != nil {
		d.log.Error("cannot remove a delivered notification from the outbox; it may be sent again after a restart",
			"sink", s.name, "err", err)
	}
	d.m.depth.WithLabelValues(s.name).Set(float64(depth))
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
		d.m.resent.WithLabelValues(s.name).Inc()
		s.resendFailures = 0
		s.nextResend = now.Add(d.o.ResendInterval)
		return
	}
	reason := "permanent"
	if retry {
		reason = "retryable"
	}
	d.m.failed.WithLabelValues(s.name, reason).Inc()
	s.resendFailures++
	delay := min(d.backoff(s.resendFailures), d.o.ResendInterval)
	if ra, ok := RetryAfter(err); ok {
		delay = min(ra, maxRetryAfter)
	}
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

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// bucket is a token bucket.
type bucket struct {
	every  time.Duration
	burst  float64
	tokens float64
	last   time.Time
}

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

// TestResult is the outcome of a test notification to one sink.
type TestResult struct {
	Sink string
	// Err is nil when the sink accepted the notification.
	Err error
	// Retryable tells whether the failure looked temporary.
	Retryable bool
	Duration  time.Duration
}

// SendTest sends a clearly marked test notification (alertname
// VRRPGuardTest, summary "vrrpguard test notification — ignore") through
// every sink directly, bypassing routes, rate limits and the outbox, and
// reports each result, in sink order.
func (d *Dispatcher) SendTest(ctx context.Context) []TestResult {
	sinks := make([]Sink, len(d.sinks))
	for i, s := range d.sinks {
		sinks[i] = s.Sink
	}
	return SendTest(ctx, sinks, d.o.Instance)
}

// SendTest sends the test notification through each sink concurrently
// (see Dispatcher.SendTest); instance goes into the reported_by
// annotation.
func SendTest(ctx context.Context, sinks []Sink, instance string) []TestResult {
	out := make([]TestResult, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		wg.Go(func() {
			start := time.Now()
			a := testAlert(instance, start)
			retry, err := s.Notify(ctx, []Alert{a})
			out[i] = TestResult{Sink: s.Name(), Err: err, Retryable: err != nil && retry, Duration: time.Since(start)}
		})
	}
	wg.Wait()
	return out
}
