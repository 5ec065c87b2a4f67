package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

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
	DefaultWriteRetry     = 10 * time.Second
	// maxRetryAfter bounds a receiver's Retry-After.
	maxRetryAfter = time.Hour
	// maxQueue bounds findings submitted but not yet taken by Run.
	maxQueue = 100000
)

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
	// GroupWait: findings arriving within this time of a notification are
	// held and go out together when it ends; the first findings after a
	// quiet moment go out at once, so a burst makes at most one
	// notification per GroupWait without delaying the first notice of an
	// incident (default DefaultGroupWait; negative: none, every finding
	// at once).
	GroupWait time.Duration
	// HoldFirst: the first findings after a quiet moment wait for
	// GroupWait too, so that a group is one notification (the behaviour
	// of Alertmanager's group_wait, and vrrpguard's before 2026-12).
	HoldFirst bool
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
	// it the oldest notifications are dropped and an alerts_dropped
	// finding is raised (see Dispatcher).
	MaxOutbox int
	// BackoffBase and BackoffMax shape retries: BackoffBase doubled at
	// each failure up to BackoffMax, minus up to 20% jitter. Defaults
	// DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// WriteRetry: while the state directory cannot be written (disk full,
	// read-only), the notifications kept in memory and the firing set are
	// written again this often (default DefaultWriteRetry).
	WriteRetry time.Duration
	// Metrics, if set, records what the dispatcher does (package
	// alertprom has the Prometheus implementation).
	Metrics Metrics
	// Logger (default slog.Default()). Secrets are never logged.
	Logger *slog.Logger
	// Clock returns the current time (default time.Now). Waits are real
	// timers over differences of Clock readings, so a test clock must
	// advance with real (or testing/synctest) time; an offset clock works.
	Clock func() time.Time
}

// Dispatcher turns findings into notifications and delivers them durably.
// It is a pipeline of stages, one per file: the policy (policy.go) dedups
// by fingerprint, groups findings of one moment, repeats firing alerts and
// notifies resolves; routing (route.go) picks each sink's alerts; the
// outbox stage (sink.go, outbox.go) keeps every notification on disk until
// the sink accepted it; one worker per sink (worker.go) delivers in order
// under the sink's rate limit (ratelimit.go) and retries with backoff.
//
// When a sink's outbox overflows, the dispatcher raises an alerts_dropped
// finding for that sink through its own pipeline (so every sink whose route
// lets warnings through hears of it), updated at each further overflow and
// resolved once that outbox has drained to half of MaxOutbox: below the
// limit nothing is being lost any more, and the hysteresis keeps a sink
// that hovers at the limit from making the finding flap.
//
// When a write to the state directory fails (a notification to an outbox,
// or the firing set), the dispatcher logs it, counts it, keeps the
// notification in memory (still delivered, and still bounded by
// MaxOutbox) and raises an outbox_unwritable finding through its own
// pipeline. Every WriteRetry it writes what is pending again; once that
// succeeds the finding is resolved, and the resolve, written to disk like
// any other notification, is delivered.
type Dispatcher struct {
	o     Options
	log   *slog.Logger
	now   func() time.Time
	m     Metrics
	sinks []*sinkState

	mu      sync.Mutex
	queue   []rules.Finding
	running bool
	wake    chan struct{}

	// Owned by Run's goroutine.
	policy *policy
	// unwritable is the outbox_unwritable finding while it is raised;
	// nextWrite is when pending writes are tried again.
	unwritable *rules.Finding
	nextWrite  time.Time
	// unsaved is the firing set whose save failed, if dirty.
	unsaved []*firingEntry
	dirty   bool

	// snapshot is the firing set as a list, for the resend workers.
	snapshot atomic.Pointer[[]Alert]
	// jitter returns a fraction in [0,1) (tests may replace it).
	jitter func() float64
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
	if o.WriteRetry <= 0 {
		o.WriteRetry = DefaultWriteRetry
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	d := &Dispatcher{
		o:    o,
		log:  o.Logger.With("component", "alert"),
		now:  o.Clock,
		m:    o.Metrics,
		wake: make(chan struct{}, 1),
		policy: newPolicy(policyConfig{Instance: o.Instance, ExternalURL: o.ExternalURL,
			GroupWait: o.GroupWait, HoldFirst: o.HoldFirst, RepeatInterval: o.RepeatInterval, RestoreGrace: o.RestoreGrace}),
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
		d.sinks = append(d.sinks, newSinkState(s, filepath.Join(o.StateDir, outboxName, dir)))
		d.m.InitSink(name)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	empty := []Alert{}
	d.snapshot.Store(&empty)
	return d, nil
}

// Submit hands a raised or resolved finding to the dispatcher. It never
// blocks; findings submitted before Run starts are kept for it (the oldest
// are dropped, with an error logged, past 100000).
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
		if d.unwritable != nil && !now.Before(d.nextWrite) {
			d.retryWrites(now)
		}
		d.apply(now, d.policy.step(now, submitted{d.takeQueue()}))
		next := d.policy.next()
		if d.unwritable != nil && (next.IsZero() || d.nextWrite.Before(next)) {
			next = d.nextWrite
		}
		if !next.IsZero() {
			timer.Reset(max(next.Sub(now), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			now := d.now()
			d.apply(now, d.policy.step(now, stopping{d.takeQueue()}))
			stop()
			wg.Wait()
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// takeQueue returns the findings submitted since the last call.
func (d *Dispatcher) takeQueue() []rules.Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queue
	d.queue = nil
	return q
}

// load restores the firing set and loads the outboxes.
func (d *Dispatcher) load() error {
	firing, err := loadState(d.o.StateDir)
	if err != nil {
		// A damaged firing set must not stop alerting.
		d.log.Error("cannot read the firing set; starting empty", "err", err)
	}
	d.apply(d.now(), d.policy.step(d.now(), restored{firing}))
	if n := len(*d.snapshot.Load()); n > 0 {
		d.log.Info("restored firing alerts", "count", n)
	}
	known := map[string]bool{}
	for _, s := range d.sinks {
		known[filepath.Base(s.dir)] = true
		n, err := d.loadOutbox(s)
		if err != nil {
			return err
		}
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

// apply carries out the policy's actions, in order.
func (d *Dispatcher) apply(now time.Time, actions []policyAction) {
	for _, a := range actions {
		switch a := a.(type) {
		case publishFiring:
			d.snapshot.Store(&a.alerts)
		case notify:
			d.enqueue(a.alerts, now)
		case saveFiring:
			d.unsaved, d.dirty = nil, false
			if err := saveState(d.o.StateDir, a.firing); err != nil {
				d.unsaved, d.dirty = a.firing, true
				d.log.Error("cannot save the firing set", "err", err)
				d.writeFailed(now, "", err)
			}
		case ignoredResolve:
			d.log.Debug("resolve of an alert not firing ignored", "fingerprint", a.fingerprint, "kind", a.kind)
		}
	}
}

// writeFailed records a failed write to the state directory (of sink's
// outbox, or of the firing set when sink is ""), raising outbox_unwritable
// if it is not raised yet.
func (d *Dispatcher) writeFailed(now time.Time, sink string, err error) {
	d.m.WriteFailed(sink)
	if d.unwritable != nil {
		return
	}
	cause := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		cause = errno.Error()
	}
	f := rules.OutboxUnwritableFinding(now, d.o.StateDir, cause)
	d.unwritable = &f
	d.nextWrite = now.Add(d.o.WriteRetry)
	d.m.Unwritable(true)
	d.log.Error("alert state directory cannot be written; notifications are kept in memory and delivered, but would be lost on a restart",
		"dir", d.o.StateDir, "err", err, "retry_every", d.o.WriteRetry)
	d.Submit(f)
}

// retryWrites writes the notifications kept in memory and the firing set
// again; when everything is written, outbox_unwritable is resolved.
func (d *Dispatcher) retryWrites(now time.Time) {
	var err error
	for _, s := range d.sinks {
		s.mu.Lock()
		err = s.box.persistAll()
		s.mu.Unlock()
		if err != nil {
			d.m.WriteFailed(s.name)
			break
		}
	}
	if err == nil && d.dirty {
		if err = saveState(d.o.StateDir, d.unsaved); err == nil {
			d.unsaved, d.dirty = nil, false
		} else {
			d.m.WriteFailed("")
		}
	}
	if err != nil {
		d.nextWrite = now.Add(d.o.WriteRetry)
		d.log.Debug("alert state directory still cannot be written", "dir", d.o.StateDir, "err", err)
		return
	}
	f := *d.unwritable
	f.State, f.At, f.LastSeen = rules.Resolved, now, now
	d.unwritable = nil
	d.m.Unwritable(false)
	d.log.Info("alert state directory writable again; pending notifications written", "dir", d.o.StateDir)
	d.Submit(f)
}
