package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/participant"

	"github.com/vrrpguard/vrrpguard/internal/segmetrics"
	"github.com/vrrpguard/vrrpguard/internal/status"
	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// watcherOptions is everything a segment watcher is built from; `watch`
// and `run` fill it from their flags and configuration (settings).
type watcherOptions struct {
	// Interfaces to capture on (required).
	Interfaces  []string
	Promiscuous bool
	// Capture is how packets are read ("" = the ring), Ring the ring's
	// size (zero: the default).
	Capture sniffer.CaptureMode
	Ring    sniffer.RingConfig
	// Params and Expected configure the rules engine; Params.ProbeInterval
	// 0 disables active probing.
	Params   rules.Params
	Expected []rules.Expected
	// Out receives findings and events (and observations with Adverts).
	Out     io.Writer
	Format  output.Format
	Adverts bool
	Log     *slog.Logger
	// Registry receives the watcher's metrics.
	Registry *prometheus.Registry
	// Alerts configures the dispatcher; without sinks nothing is sent.
	Alerts alert.Options
	// OnObservation, if set, sees every observation after the engine (run:
	// the self-demotion policies). It is called on the capture goroutine.
	OnObservation func(*obs.Observation)
	// Own, if set (run), are the node's own adverts: the capture leaves
	// them out and the participant hands them over (watcher.sent);
	// OwnConfig is the configuration they come from.
	Own       *ownSet
	OwnConfig *keepalived.Config
}

// watcher is the segment watcher of `watch` and `run`: live capture, the
// rules engine, the printer, active probes, alert dispatch and metrics.
// Build it with newWatcher, then Run it.
type watcher struct {
	caps   *captures
	pl     *pipeline
	hook   func(*obs.Observation)
	alerts *alert.Dispatcher // nil without sinks
	log    *slog.Logger
	ticks  *lazyTicker // the engine's timers

	// own, when not nil, has the node's own adverts (see ownAdverts).
	// order serialises what reaches the engine and the hook: a captured
	// packet after the own adverts sent before it, or a tick after all.
	own      *ownAdverts
	setOwnMu sync.Mutex                        // serialises setOwn (reload, a MAC change)
	ownConf  atomic.Pointer[keepalived.Config] // what own comes from
	order    sync.Mutex
	ownBuf   []byte                      // a frame, under order
	ownDec   map[string]*sniffer.Decoder // by interface, under order
}

// engineTickEvery is how often the engine's timers run (pipeline.tick).
const engineTickEvery = 100 * time.Millisecond

// newWatcher opens the capture sockets and builds the engine, the printer,
// the prober and the alert dispatcher. On error nothing is left open.
func newWatcher(o watcherOptions) (*watcher, error) {
	pl, err := newWatcherPipeline(o)
	if err != nil {
		return nil, err
	}
	w := &watcher{pl: pl, log: o.Log, hook: o.OnObservation}
	if len(o.Alerts.Sinks) > 0 {
		if w.alerts, err = newDispatcher(o.Alerts, o.Registry, o.Log); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		pl.onFinding = append(pl.onFinding, w.alerts.Submit)
	}
	lo := sniffer.LiveOptions{Promiscuous: o.Promiscuous, Capture: o.Capture, Ring: o.Ring, Log: o.Log}
	if o.Own != nil {
		lo.Own = o.Own.filter
	}
	if w.caps, err = newCaptures(o.Interfaces, lo,
		o.Log, o.Registry, pl.finding, pl.setBlind); err != nil {
		return nil, err
	}
	if w.ticks, err = newLazyTicker(engineTickEvery, w.tick); err != nil {
		w.caps.Close()
		return nil, err
	}
	if o.Own != nil {
		w.own, w.ownDec = newOwnAdverts(o.Own, o.Ring.BlockTimeout+ownLagSlack), map[string]*sniffer.Decoder{}
		w.ownConf.Store(o.OwnConfig)
		w.own.kick = w.ticks.kick
		w.ticks.onKick = w.takeOwn
	}
	if o.Registry != nil {
		o.Registry.MustRegister(newLiveCollector(w.caps.Stats))
		if w.own != nil {
			o.Registry.MustRegister(newOwnCollector(w.own))
		}
	}
	// The prober opens its sockets on first use: the engine probes when
	// Params.ProbeInterval is set, self-demotion whenever it needs to.
	pl.prober = sniffer.NewProber()
	return w, nil
}

// captureModes says how each interface is read ("ring", or "socket" on
// all; else "eth0=ring,eth1=socket").
func (w *watcher) captureModes() string {
	st := w.caps.Stats()
	var parts []string
	same := true
	for _, s := range st {
		parts = append(parts, s.Interface+"="+string(s.Capture))
		same = same && s.Capture == st[0].Capture
	}
	if same && len(st) > 0 {
		return string(st[0].Capture)
	}
	return strings.Join(parts, ",")
}

// newWatcherPipeline builds the watcher's core, everything but capture and
// alerts: the engine, the printer and the capture, finding and segment
// metrics.
func newWatcherPipeline(o watcherOptions) (*pipeline, error) {
	engine, err := rules.New(o.Params, o.Expected)
	if err != nil {
		return nil, err
	}
	p := output.New(o.Out, o.Format, nil)
	p.AutoFlush = true
	// A no_master raised while a capture was down is held back until the
	// engine had resolve_hold of adverts after the capture resumed, and a
	// little more for the first of them to arrive.
	pl := &pipeline{engine: engine, printer: p, log: o.Log, adverts: o.Adverts, holdFor: o.Params.ResolveHold + 3*time.Second}
	if o.Registry != nil {
		pl.m = newCaptureMetrics(o.Registry)
		pl.fm = newFindingMetrics(o.Registry)
		seg, err := segmetrics.New(func() rules.Snapshot { return pl.snapshot(time.Now()) })
		if err != nil {
			return nil, err
		}
		o.Registry.MustRegister(seg)
	}
	return pl, nil
}

// Interfaces returns the interfaces captured on.
func (w *watcher) Interfaces() []string { return w.caps.Interfaces() }

// Captures reports whether iface is captured on.
func (w *watcher) Captures(iface string) bool { return slices.Contains(w.caps.Interfaces(), iface) }

// Status is the status document of the watched segments (the caller adds
// version, command, node and instances).
func (w *watcher) Status() status.Doc {
	return status.Build(w.pl.snapshot(time.Now()))
}

// SetExpected replaces the engine's expected configuration (SIGHUP).
func (w *watcher) SetExpected(exp []rules.Expected) {
	w.pl.setExpected(exp, time.Now())
}

// Run captures, ticks the engine's timers and delivers alerts until ctx is
// done (a capture that fails is reopened when its interface is back); it
// returns after the dispatcher has persisted what it could not deliver.
// The printer is flushed.
func (w *watcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	alertsDone := w.startAlerts(ctx)
	go w.ticks.Run(ctx) // the engine's timers
	w.log.Info("watching", "interfaces", w.caps.Interfaces(), "capture", w.captureModes())
	w.caps.Run(ctx, w.observe)
	w.takeOwn() // the last adverts the node sent (its resignation)
	cancel()    // ctx is done: stop ticks and alerts
	w.pl.prober.Close()
	w.pl.flush()
	<-alertsDone
	return nil
}

// observe hands one captured observation to the engine, then to the
// hook, after the node's own adverts on its interface sent before it.
func (w *watcher) observe(o *obs.Observation) {
	w.order.Lock()
	if w.own != nil {
		w.drainOwn(o.Interface, o.Time, false)
	}
	w.deliver(o)
	w.order.Unlock()
	w.ticks.poke(time.Now())
}

// deliver hands one observation to the engine, then to the hook.
func (w *watcher) deliver(o *obs.Observation) {
	w.pl.observe(o)
	if w.hook != nil {
		w.hook(o)
	}
}

// tick runs the engine's timers, after the own adverts sent longer ago
// than the capture may hold back a packet (ownAdverts.lag).
func (w *watcher) tick(now time.Time) {
	if w.own != nil && w.own.stale.Swap(false) {
		// The participant sent from another MAC than the filter's.
		if k := w.ownConf.Load(); k != nil {
			if err := w.setOwn(k, newOwnSet(k, w.Interfaces(), w.own.set.Load(), interfaceMAC)); err != nil {
				w.log.Error("capture filter for the node's own adverts", "err", err)
			}
		}
	}
	if w.own != nil {
		w.order.Lock()
		w.drainOwn("", now.Add(-w.own.lag), false)
		w.order.Unlock()
	}
	w.pl.tick(now)
}

// takeOwn hands every queued own advert to the engine (the queue fills
// up, or the watcher stops).
func (w *watcher) takeOwn() {
	if w.own == nil {
		return
	}
	w.order.Lock()
	w.drainOwn("", time.Time{}, true)
	w.order.Unlock()
}

// drainOwn delivers the own adverts of iface ("": of every interface, in
// time order) sent at or before upTo (all, with all), decoded from the
// frames the capture would have shown. Under order.
func (w *watcher) drainOwn(iface string, upTo time.Time, all bool) {
	for {
		fr, from, at, ok := w.own.take(iface, upTo, all, w.ownBuf)
		if !ok {
			return
		}
		w.ownBuf = fr
		d := w.ownDec[from]
		if d == nil {
			d = sniffer.NewDecoder(layers.LinkTypeEthernet)
			w.ownDec[from] = d
		}
		if o := d.Decode(fr, gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(fr), Length: len(fr)}, from, 0); o != nil {
			w.deliver(o)
		}
	}
}

// sent takes an advert the participant sent (participant.Options.OnSent).
func (w *watcher) sent(s *participant.Sent) {
	if w.own != nil {
		w.own.push(s)
	}
}

// setOwn replaces the set of own adverts (SIGHUP). No advert is seen
// twice: while the filters change, only the adverts of both sets are
// handed over.
func (w *watcher) setOwn(k *keepalived.Config, set *ownSet) error {
	if w.own == nil {
		return nil
	}
	w.setOwnMu.Lock()
	defer w.setOwnMu.Unlock()
	w.ownConf.Store(k)
	old := w.own.set.Load()
	both := *set
	both.keys = map[ownKey]*ownCounters{}
	for key, c := range set.keys {
		if old.keys[key] != nil && old.filter[key.iface].MAC == set.filter[key.iface].MAC {
			both.keys[key] = c
		}
	}
	w.own.set.Store(&both)
	err := w.caps.setOwn(set.filter)
	w.own.set.Store(set)
	return err
}

// every calls fn with the time every d until ctx is done.
func every(ctx context.Context, d time.Duration, fn func(time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// startAlerts runs the dispatcher, if any, until ctx is done; the channel
// is closed once it has stopped (with everything undelivered persisted).
func (w *watcher) startAlerts(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if w.alerts == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := w.alerts.Run(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("alert dispatcher stopped", "err", err)
		}
	}()
	return done
}

// Close releases what newWatcher opened, for a watcher that will not Run.
func (w *watcher) Close() {
	w.caps.Close()
	w.ticks.Close()
	w.pl.prober.Close()
}
