package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netlink"

	"github.com/vrrpguard/vrrpguard/internal/nlwatch"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// captureDownAfter is how long the capture on an interface may be down
// before a capture_down finding is raised.
const captureDownAfter = 5 * time.Second

// captureRetry is how often a down capture is tried again when no link
// event says the interface is back (events can be lost).
const captureRetry = 2 * time.Second

// captures keeps a live capture running on each watched interface: it
// opens it when the interface exists and is up, and opens it again when it
// fails (the interface was deleted, re-created or set down), woken by
// netlink link events. Down times are logged, counted in metrics and,
// past captureDownAfter, raised as capture_down findings. It sits above
// sniffer.Live, one Live per interface, so the capture's read path stays
// the sniffer's.
type captures struct {
	ifs     []*ifaceCapture
	optsMu  sync.Mutex // guards opts.Own (setOwn)
	opts    sniffer.LiveOptions
	log     *slog.Logger
	m       *captureUpMetrics // nil without a registry
	finding func(rules.Finding)
	// blind is told when an interface's capture goes down or comes back.
	blind func(iface string, blind bool, now time.Time)
	mu    sync.Mutex // serialises handler calls across interfaces
	// setOwnHook, if set, is called by setOwn (tests).
	setOwnHook func()
}

// ifaceCapture is the capture of one interface.
type ifaceCapture struct {
	name string
	wake chan struct{} // a link event of this interface
	mu   sync.Mutex
	live *sniffer.Live // nil while down
	// base holds the counters of the captures closed so far (the kernel
	// counts per socket).
	base   sniffer.InterfaceStats
	down   time.Time // when the capture went down; zero while up
	reason string
	raised bool // capture_down raised for this down time
}

// captureUpMetrics are the Prometheus series of capture supervision.
type captureUpMetrics struct {
	up       *prometheus.GaugeVec
	restarts *prometheus.CounterVec
	downSecs *prometheus.CounterVec
}

func newCaptureUpMetrics(reg *prometheus.Registry) *captureUpMetrics {
	m := &captureUpMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vrrpguard_capture_up",
			Help: "1 while the capture on an interface is running, 0 while it is down (interface missing, down or deleted).",
		}, []string{"interface"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_capture_restarts_total",
			Help: "Captures reopened on an interface after they had been down.",
		}, []string{"interface"}),
		downSecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_capture_down_seconds_total",
			Help: "Time the capture on an interface was down, counted when it resumes.",
		}, []string{"interface"}),
	}
	reg.MustRegister(m.up, m.restarts, m.downSecs)
	return m
}

// newCaptures opens the capture on each interface that exists. A missing
// interface is not an error (its capture starts when it appears); any other
// failure to open is, and leaves nothing open.
func newCaptures(names []string, opts sniffer.LiveOptions, log *slog.Logger, reg *prometheus.Registry,
	finding func(rules.Finding), blind func(iface string, blind bool, now time.Time)) (*captures, error) {
	c := &captures{opts: opts, log: log, finding: finding, blind: blind}
	if reg != nil {
		c.m = newCaptureUpMetrics(reg)
	}
	now := time.Now()
	for _, name := range names {
		if slices.ContainsFunc(c.ifs, func(ic *ifaceCapture) bool { return ic.name == name }) {
			continue
		}
		ic := &ifaceCapture{name: name, wake: make(chan struct{}, 1)}
		c.ifs = append(c.ifs, ic)
		live, missing, err := c.open(name)
		switch {
		case err != nil && !missing:
			c.Close()
			return nil, err
		case err != nil:
			ic.down, ic.reason = now, err.Error()
			log.Warn("waiting for the interface to capture on", "interface", name, "reason", ic.reason)
			c.setUp(name, false)
			c.blind(name, true, now)
		default:
			ic.live = live
			c.setUp(name, true)
		}
	}
	return c, nil
}

// open opens the capture on name; missing is true when the interface does
// not exist or is down (wait for it), false for any other failure.
func (c *captures) open(name string) (live *sniffer.Live, missing bool, err error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil, true, fmt.Errorf("interface %s does not exist", name)
		}
		return nil, false, fmt.Errorf("capture on %s: %w", name, err)
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		return nil, true, fmt.Errorf("interface %s is down", name)
	}
	c.optsMu.Lock()
	opts := c.opts
	c.optsMu.Unlock()
	live, err = sniffer.OpenLive([]string{name}, opts)
	if err != nil {
		// Deleted between the look-up and the open: wait for it.
		_, lerr := netlink.LinkByName(name)
		return nil, lerr != nil, err
	}
	return live, false, nil
}

func (c *captures) setUp(name string, up bool) {
	if c.m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	c.m.up.WithLabelValues(name).Set(v)
	// The counters exist from the first state of the interface, at 0, so
	// that increase() shows their first restart.
	c.m.restarts.WithLabelValues(name)
	c.m.downSecs.WithLabelValues(name)
}

// setOwn makes the captures leave out the node's own adverts named by own
// (by interface; see sniffer.Own), now and whenever they are reopened.
func (c *captures) setOwn(own map[string]sniffer.Own) error {
	c.optsMu.Lock()
	c.opts.Own = own
	c.optsMu.Unlock()
	if c.setOwnHook != nil {
		c.setOwnHook()
	}
	var errs []error
	for _, ic := range c.ifs {
		ic.mu.Lock()
		if ic.live != nil {
			if _, err := ic.live.SetOwn(ic.name, own[ic.name]); err != nil {
				errs = append(errs, err)
			}
		}
		ic.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Interfaces returns the names of the watched interfaces.
func (c *captures) Interfaces() []string {
	out := make([]string, len(c.ifs))
	for i, ic := range c.ifs {
		out[i] = ic.name
	}
	return out
}

// Stats returns the kernel counters of every interface, across reopened
// captures.
func (c *captures) Stats() []sniffer.InterfaceStats {
	out := make([]sniffer.InterfaceStats, 0, len(c.ifs))
	for _, ic := range c.ifs {
		ic.mu.Lock()
		st := ic.base
		st.Interface = ic.name
		if ic.live != nil {
			for _, s := range ic.live.Stats() {
				st.Received += s.Received
				st.KernelDrops += s.KernelDrops
				st.RingFull += s.RingFull
				st.Capture = s.Capture
			}
		}
		ic.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Close closes what newCaptures opened, for captures that will not Run.
func (c *captures) Close() {
	for _, ic := range c.ifs {
		ic.mu.Lock()
		if ic.live != nil {
			ic.live.Close()
			ic.live = nil
		}
		ic.mu.Unlock()
	}
}

// Run captures on every interface until ctx is done, calling h for every
// observation (calls are serialised); captures that fail are reopened.
func (c *captures) Run(ctx context.Context, h obs.Handler) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.watchLinks(ctx)
	serial := func(o *obs.Observation) {
		c.mu.Lock()
		defer c.mu.Unlock()
		h(o)
	}
	var wg sync.WaitGroup
	for _, ic := range c.ifs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.keep(ctx, ic, serial)
		}()
	}
	wg.Wait()
}

// watchLinks wakes the capture of an interface on each link event of it,
// until ctx is done. Without a subscription the captures retry on their
// own every captureRetry.
func (c *captures) watchLinks(ctx context.Context) {
	w, err := nlwatch.Open(nlwatch.Links)
	if err != nil {
		c.log.Warn("cannot watch links; retrying down captures every few seconds", "err", err)
		return
	}
	go func() {
		for {
			stop := context.AfterFunc(ctx, func() { w.Close() })
			err := w.Read(nlwatch.Handler{Link: func(l nlwatch.Link) {
				for _, ic := range c.ifs {
					if ic.name == l.Name {
						c.wakeCapture(ic)
					}
				}
			}}) // until the subscription ends
			stop()
			w.Close()
			if ctx.Err() != nil {
				return
			}
			// Events were lost (ENOBUFS) or the socket failed: subscribe
			// again, and have every down capture look at its interface.
			c.log.Warn("link watch; subscribing again", "err", err)
			for _, ic := range c.ifs {
				c.wakeCapture(ic)
			}
			if w, err = nlwatch.Open(nlwatch.Links); err != nil {
				c.log.Warn("cannot watch links; retrying down captures every few seconds", "err", err)
				return
			}
		}
	}()
}

// wakeCapture wakes the capture of ic if it waits for its interface.
func (c *captures) wakeCapture(ic *ifaceCapture) {
	select {
	case ic.wake <- struct{}{}:
	default:
	}
}

// keep runs the capture of one interface, reopening it after failures,
// until ctx is done.
func (c *captures) keep(ctx context.Context, ic *ifaceCapture, h obs.Handler) {
	for ctx.Err() == nil {
		ic.mu.Lock()
		live := ic.live
		ic.mu.Unlock()
		if live == nil {
			var missing bool
			var err error
			live, missing, err = c.open(ic.name)
			if err != nil {
				if !missing {
					c.log.Error("cannot reopen the capture; trying again", "interface", ic.name, "err", err)
				}
				c.wait(ctx, ic)
				continue
			}
			c.resumed(ic, live)
		}
		err := live.Run(ctx, h)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("capture ended")
		}
		c.stopped(ic, live, err)
	}
}

// wait waits for a link event of ic, the retry interval, or the moment to
// raise capture_down, whichever comes first.
func (c *captures) wait(ctx context.Context, ic *ifaceCapture) {
	d := captureRetry
	ic.mu.Lock()
	if !ic.raised {
		if until := time.Until(ic.down.Add(captureDownAfter)); until <= 0 {
			ic.raised = true
			f := rules.CaptureDownFinding(time.Now(), ic.down, ic.name, ic.reason, false)
			ic.mu.Unlock()
			c.finding(f)
			ic.mu.Lock()
		} else if until < d {
			d = until
		}
	}
	ic.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-ic.wake:
	case <-t.C:
	}
}

// stopped records a capture that failed.
func (c *captures) stopped(ic *ifaceCapture, live *sniffer.Live, err error) {
	now := time.Now()
	ic.mu.Lock()
	for _, s := range live.Stats() {
		ic.base.Received += s.Received
		ic.base.KernelDrops += s.KernelDrops
		ic.base.RingFull += s.RingFull
		ic.base.Capture = s.Capture
	}
	ic.live, ic.down, ic.reason, ic.raised = nil, now, err.Error(), false
	ic.mu.Unlock()
	c.setUp(ic.name, false)
	c.blind(ic.name, true, now)
	c.log.Warn("capture stopped; it resumes when the interface is back", "interface", ic.name, "err", err)
}

// resumed records a capture (re)opened after a down time.
func (c *captures) resumed(ic *ifaceCapture, live *sniffer.Live) {
	now := time.Now()
	ic.mu.Lock()
	ic.live = live
	// A reload may have changed the node's own adverts (setOwn) while it
	// was opened with the filter of before: set the current one.
	c.optsMu.Lock()
	own := c.opts.Own[ic.name]
	c.optsMu.Unlock()
	if _, err := live.SetOwn(ic.name, own); err != nil {
		c.log.Error("capture filter for the node's own adverts", "interface", ic.name, "err", err)
	}
	down, raised := ic.down, ic.raised
	ic.down, ic.raised = time.Time{}, false
	ic.mu.Unlock()
	c.setUp(ic.name, true)
	c.blind(ic.name, false, now)
	gap := now.Sub(down)
	if c.m != nil {
		c.m.restarts.WithLabelValues(ic.name).Inc()
		c.m.downSecs.WithLabelValues(ic.name).Add(gap.Seconds())
	}
	c.log.Info("capture resumed", "interface", ic.name, "down", gap.Round(time.Millisecond))
	if raised {
		c.finding(rules.CaptureDownFinding(now, down, ic.name, "", true))
	}
}
