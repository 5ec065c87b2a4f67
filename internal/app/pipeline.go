package app

import (
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// pipeline carries observations through the rules engine to the printer,
// the log, the metrics and the alert sinks. It is safe for concurrent use.
type pipeline struct {
	mu      sync.Mutex
	engine  *rules.Engine
	printer *output.Printer
	log     *slog.Logger
	m       *captureMetrics // nil: no metrics
	fm      *findingMetrics // nil: no metrics
	adverts bool
	// worst is the highest severity raised so far.
	worst rules.Severity
	// onFinding receives every raised and resolved finding (alerting).
	onFinding []func(rules.Finding)
	// prober sends the engine's probes (live capture only).
	prober      *sniffer.Prober
	probeFailed map[string]bool
	// blind are the interfaces whose capture is down. The engine cannot
	// tell their silence from routers gone, so a no_master it raises for
	// them is held back, and dropped if it resolves by holdFor after the
	// capture resumed; else it is reported then.
	blind   map[string]bool
	held    map[string]*heldFinding // by fingerprint
	holdFor time.Duration
}

// heldFinding is a no_master raised while its interface was blind.
type heldFinding struct {
	f       rules.Finding
	release time.Time // zero while the interface is blind
}

type findingMetrics struct {
	active  *prometheus.GaugeVec
	total   *prometheus.CounterVec
	changes *prometheus.CounterVec
}

func newFindingMetrics(reg *prometheus.Registry) *findingMetrics {
	fm := &findingMetrics{
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vrrpguard_findings_active",
			Help: "Findings currently raised, by kind, severity, interface, family and VRID.",
		}, []string{"kind", "severity", "interface", "family", "vrid"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_findings_total",
			Help: "Findings raised and resolved, by kind and state.",
		}, []string{"kind", "state"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_master_changes_total",
			Help: "Master changes seen, by interface, family, VRID and reason (election, preemption, handover, takeover).",
		}, []string{"interface", "family", "vrid", "reason"}),
	}
	for _, k := range rules.Kinds() {
		fm.total.WithLabelValues(string(k), string(rules.Raised))
		fm.total.WithLabelValues(string(k), string(rules.Resolved))
	}
	reg.MustRegister(fm.active, fm.total, fm.changes)
	return fm
}

func (p *pipeline) observe(o *obs.Observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m != nil {
		p.m.observe(o)
	}
	if p.adverts {
		p.printer.Observation(o)
	}
	p.emit(p.engine.Observe(o))
}

// observeBatch is observe for each of os in turn, under one lock (replay).
func (p *pipeline) observeBatch(os []obs.Observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range os {
		o := &os[i]
		if p.m != nil {
			p.m.observe(o)
		}
		if p.adverts {
			p.printer.Observation(o)
		}
		if outs := p.engine.Observe(o); len(outs) > 0 {
			p.emit(outs)
		}
	}
}

func (p *pipeline) tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emit(p.engine.Tick(now))
	for fp, h := range p.held {
		if !h.release.IsZero() && !now.Before(h.release) {
			delete(p.held, fp)
			f := h.f
			f.At, f.LastSeen = now, now
			p.emit([]rules.Output{{Finding: &f}})
		}
	}
}

// setBlind records that the capture on iface is down (blind) or back.
func (p *pipeline) setBlind(iface string, blind bool, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blind == nil {
		p.blind = map[string]bool{}
	}
	p.blind[iface] = blind
	for _, h := range p.held {
		if h.f.Interface == iface {
			if blind {
				h.release = time.Time{}
			} else {
				h.release = now.Add(p.holdFor)
			}
		}
	}
}

// setExpected replaces the engine's expected configuration.
func (p *pipeline) setExpected(exp []rules.Expected, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.engine.SetExpected(exp, now)
}

// snapshot is the engine's model as of now.
func (p *pipeline) snapshot(now time.Time) rules.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.engine.Snapshot(now)
}

// local gives the engine a fact of the local participant (self-demotion,
// the local VIP guard) and reports what it raises or resolves.
func (p *pipeline) local(now time.Time, fact rules.LocalFact) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	outs, err := p.engine.Local(now, fact)
	p.emit(outs)
	return err
}

// probe sends an ARP probe / neighbour solicitation for addr on iface (for
// the self-demotion policy, which needs answers while it holds back).
func (p *pipeline) probe(iface string, addr netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emit([]rules.Output{{Probe: &rules.Probe{Interface: iface, Addr: addr}}})
}

// finding reports a finding raised outside the engine (capture_down).
func (p *pipeline) finding(f rules.Finding) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emit([]rules.Output{{Finding: &f}})
}

// flush writes out what the printer buffered.
func (p *pipeline) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printer.Flush()
}

// vridLabel is a VRID as a metric label ("" for findings of no VRID).
func vridLabel(v uint8) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(int(v))
}

func (p *pipeline) emit(outs []rules.Output) {
	for _, o := range outs {
		if pr := o.Probe; pr != nil {
			if p.prober != nil {
				if err := p.prober.Probe(pr.Interface, pr.Addr); err != nil && !p.probeFailed[pr.Interface] {
					if p.probeFailed == nil {
						p.probeFailed = map[string]bool{}
					}
					p.probeFailed[pr.Interface] = true
					p.log.Warn("cannot probe; holders of virtual addresses are only seen when they announce themselves", "interface", pr.Interface, "err", err)
				}
			}
			continue
		}
		if e := o.Event; e != nil {
			p.printer.Event(e)
			old := ""
			if e.Old.IsValid() {
				old = e.Old.String()
			}
			p.log.Info("master change", "interface", e.Interface, "family", e.Family.String(), "vrid", e.VRID,
				"old", old, "new", e.New.String(), "reason", e.Reason)
			if p.fm != nil {
				p.fm.changes.WithLabelValues(e.Interface, e.Family.String(), vridLabel(e.VRID), e.Reason).Inc()
			}
			continue
		}
		f := o.Finding
		if f.Kind == rules.NoMaster && f.State == rules.Raised && p.blind[f.Interface] {
			if p.held == nil {
				p.held = map[string]*heldFinding{}
			}
			p.held[f.Fingerprint] = &heldFinding{f: *f}
			p.log.Info("no_master held back: the capture on its interface is down", "interface", f.Interface, "vrid", f.VRID)
			continue
		}
		if f.State == rules.Resolved && p.held[f.Fingerprint] != nil {
			delete(p.held, f.Fingerprint)
			continue
		}
		p.printer.Finding(f)
		attrs := []any{"kind", string(f.Kind), "state", string(f.State), "severity", string(f.Severity), "interface", f.Interface,
			"family", f.Family.String(), "vrid", f.VRID, "fingerprint", f.Fingerprint, "message", f.Message}
		if f.State == rules.Raised {
			p.log.Warn("finding raised", attrs...)
			if f.Severity.Rank() > p.worst.Rank() {
				p.worst = f.Severity
			}
		} else {
			p.log.Info("finding resolved", attrs...)
		}
		if p.fm != nil {
			p.fm.total.WithLabelValues(string(f.Kind), string(f.State)).Inc()
			g := p.fm.active.WithLabelValues(string(f.Kind), string(f.Severity), f.Interface, f.Family.String(), vridLabel(f.VRID))
			if f.State == rules.Raised {
				g.Inc()
			} else {
				g.Dec()
			}
		}
		for _, fn := range p.onFinding {
			fn(*f)
		}
	}
}
