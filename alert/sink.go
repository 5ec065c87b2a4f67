package alert

import (
	"errors"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// sinkState is a sink at run time: its outbox, rate limit and worker state.
type sinkState struct {
	Sink
	name    string
	dir     string
	refresh bool
	signal  chan struct{}
	bucket  *bucket

	mu  sync.Mutex
	box *outbox
	// overflow is the alerts_dropped finding of this sink while it is
	// raised; dropped counts the notifications dropped since.
	overflow *rules.Finding
	dropped  int

	// Worker-owned.
	nextResend     time.Time
	resendFailures int
}

func newSinkState(s Sink, dir string) *sinkState {
	ss := &sinkState{
		Sink:   s,
		name:   s.Name(),
		dir:    dir,
		signal: make(chan struct{}, 1),
		bucket: newBucket(s.RateLimit),
	}
	if r, ok := s.Notifier.(Refresher); ok && r.NeedsResend() {
		ss.refresh = true
	}
	return ss
}

// head is the oldest entry of the outbox (nil: empty).
func (s *sinkState) head() *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.box.entries) == 0 {
		return nil
	}
	return s.box.entries[0]
}

// wakeWorker tells the sink's worker that its outbox changed.
func (s *sinkState) wakeWorker() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// loadOutbox reads the sink's outbox from disk and returns its depth.
func (d *Dispatcher) loadOutbox(s *sinkState) (int, error) {
	box, bad, err := loadOutbox(s.dir, s.name)
	if err != nil {
		return 0, err
	}
	for _, b := range bad {
		var off int64
		var re *RecordError
		if errors.As(b.Err, &re) {
			off = re.Offset
		}
		d.log.Warn("unreadable outbox record skipped and set aside; the other records are delivered",
			"sink", s.name, "file", b.File, "offset", off, "moved_to", b.File+".corrupt", "err", b.Err)
	}
	s.mu.Lock()
	s.box = box
	n := len(box.entries)
	s.mu.Unlock()
	d.m.OutboxDepth(s.name, n)
	return n, nil
}

// enqueue is the routing and outbox stage: it writes one notification to
// the outbox of every sink whose route matches some of the alerts.
func (d *Dispatcher) enqueue(alerts []Alert, now time.Time) {
	origin := now
	for _, a := range alerts {
		if !a.At.IsZero() && a.At.Before(origin) {
			origin = a.At
		}
	}
	for _, s := range d.sinks {
		mine := s.Route.filter(alerts)
		if len(mine) == 0 {
			continue
		}
		d.put(s, &entry{Created: now.UTC(), Origin: origin.UTC(), Alerts: mine}, now)
	}
}

// put adds e to the sink's outbox, dropping the oldest entries past
// MaxOutbox; a drop raises (or updates) the sink's alerts_dropped finding.
func (d *Dispatcher) put(s *sinkState, e *entry, now time.Time) {
	s.mu.Lock()
	err := s.box.add(e)
	n, terr := s.box.trim(d.o.MaxOutbox)
	depth := len(s.box.entries)
	var raise *rules.Finding
	if n > 0 {
		s.dropped += n
		f := rules.AlertsDroppedFinding(now, s.dropped, s.name)
		if s.overflow != nil {
			f.FirstSeen = s.overflow.FirstSeen
		}
		s.overflow, raise = &f, &f
	}
	s.mu.Unlock()
	if err != nil {
		d.log.Error("cannot write notification to the outbox; it is delivered but would not survive a restart",
			"sink", s.name, "err", err)
		d.writeFailed(now, s.name, err)
	}
	if terr != nil {
		d.log.Error("outbox cleanup failed", "sink", s.name, "err", terr)
	}
	if n > 0 {
		d.m.Dropped(s.name, n)
		d.log.Error("outbox full, oldest notifications dropped", "sink", s.name, "dropped", n, "max", d.o.MaxOutbox)
	}
	d.m.OutboxDepth(s.name, depth)
	s.wakeWorker()
	if raise != nil {
		d.Submit(*raise)
	}
}

// removeEntry takes a delivered (or rejected) entry out of the outbox; an
// outbox drained to half of MaxOutbox resolves its alerts_dropped finding.
func (d *Dispatcher) removeEntry(s *sinkState, e *entry) {
	s.mu.Lock()
	err := s.box.remove(e)
	depth := len(s.box.entries)
	var resolve *rules.Finding
	if s.overflow != nil && depth <= d.o.MaxOutbox/2 {
		f := *s.overflow
		f.State, f.At = rules.Resolved, d.now()
		resolve = &f
		s.overflow, s.dropped = nil, 0
	}
	s.mu.Unlock()
	if err != nil {
		d.log.Error("cannot remove a delivered notification from the outbox; it may be sent again after a restart",
			"sink", s.name, "err", err)
	}
	d.m.OutboxDepth(s.name, depth)
	if resolve != nil {
		d.log.Info("outbox drained after an overflow", "sink", s.name, "depth", depth)
		d.Submit(*resolve)
	}
}

// setInflight marks e as being attempted (trim leaves it alone).
func (s *sinkState) setInflight(e *entry, on bool) {
	s.mu.Lock()
	e.inflight = on
	s.mu.Unlock()
}

// retryAt schedules the next attempt at e.
func (s *sinkState) retryAt(e *entry, t time.Time) {
	s.mu.Lock()
	e.notBefore = t
	s.mu.Unlock()
}
