package app

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/demote"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/rules"
)

// selfDemotion connects the two halves of `run --self-demote`: every
// observation of an own instance's segment, and every state change of the
// instance, goes to that instance's demote.Policy; the policy's actions
// demote or resume the instance in the participant, probe its virtual
// addresses, re-announce them, and raise or resolve self_demoted in the
// watcher's engine. Actions are carried out in order on a goroutine of
// their own, never under the policy's lock nor on the participant's or
// the capture's goroutine.
type selfDemotion struct {
	global *keepalived.Global
	r      *participant.Router
	pl     *pipeline
	log    *slog.Logger
	count  *prometheus.CounterVec
	params demote.Params

	mu   sync.Mutex
	inst map[string]*ownInstance // by instance name
	last time.Time               // latest time given to a policy
	todo chan action
}

// ownInstance is one instance of the participant and its policy (nil
// until the instance runs and its source address is known).
type ownInstance struct {
	cfg *keepalived.Instance
	pol *demote.Policy
}

// action is a policy action with the time it was decided.
type action struct {
	at time.Time
	a  demote.Action
}

func newSelfDemotion(k *keepalived.Config, r *participant.Router, w *watcher, reg *prometheus.Registry, p demote.Params, log *slog.Logger) *selfDemotion {
	sd := &selfDemotion{global: &k.Global, r: r, pl: w.pl, log: log, params: p,
		inst: map[string]*ownInstance{}, todo: make(chan action, 1024)}
	sd.count = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vrrpguard_self_demotions_total",
		Help: "Times an own instance gave up its virtual addresses to end a split brain (run --self-demote), by reason (outranked, hold_expired, rival_returned).",
	}, []string{"instance", "reason"})
	reg.MustRegister(sd.count)
	sd.configure(k)
	return sd
}

// configure takes the instances of k: the policies of the instances
// named in kept (which the participant kept running on a reload) stay,
// the others start afresh.
func (sd *selfDemotion) configure(k *keepalived.Config, kept ...string) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	sd.global = &k.Global
	next := map[string]*ownInstance{}
	for _, in := range k.Instances {
		if old := sd.inst[in.Name]; old != nil && slices.Contains(kept, in.Name) {
			old.cfg = in
			next[in.Name] = old
			continue
		}
		next[in.Name] = &ownInstance{cfg: in}
	}
	sd.inst = next
}

// clock returns t, or the latest time already given to a policy if t is
// earlier (packet timestamps and the wall clock interleave); mu is held.
func (sd *selfDemotion) clock(t time.Time) time.Time {
	if t.Before(sd.last) {
		return sd.last
	}
	sd.last = t
	return t
}

// run ticks the policies and carries out their actions until ctx is done.
func (sd *selfDemotion) run(ctx context.Context) {
	go every(ctx, 20*time.Millisecond, sd.tick)
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-sd.todo:
			sd.carryOut(a)
		}
	}
}

func (sd *selfDemotion) tick(now time.Time) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for _, oi := range sd.inst {
		if oi.pol != nil {
			if next := oi.pol.Next(); !next.IsZero() && !now.Before(next) {
				t := sd.clock(now)
				sd.queue(t, oi.pol.Step(t, demote.Tick{}))
			}
		}
	}
}

// queue hands actions to run's goroutine; called with mu held.
func (sd *selfDemotion) queue(now time.Time, as []demote.Action) {
	for _, a := range as {
		select {
		case sd.todo <- action{at: now, a: a}:
		default:
			// Never block the capture or the participant: carry it out
			// on its own (order among such overflows is not kept).
			go sd.carryOut(action{at: now, a: a})
		}
	}
}

// observe feeds an observation to the policies of the instances on its
// interface (called for every observation, after the engine saw it).
func (sd *selfDemotion) observe(o *obs.Observation) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for _, oi := range sd.inst {
		if oi.pol == nil || oi.cfg.Interface != o.Interface {
			continue
		}
		reject := ""
		if o.Kind == obs.KindAdvert && o.Advert.VRID == oi.cfg.VRID {
			reject = participant.Rejects(oi.cfg, sd.global, &o.Advert, o.Src, o.Dst, o.TTL, o.Checksum)
		}
		t := sd.clock(o.Time)
		sd.queue(t, oi.pol.Observe(t, o, reject == "", reject))
	}
}

// changed is the participant's OnChange: the instance's state or priority
// changed. It builds the instance's policy once its source is known.
func (sd *selfDemotion) changed(st participant.Status, _ *election.Transition) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	now := sd.clock(time.Now())
	oi := sd.inst[st.Instance]
	if oi == nil {
		return
	}
	if oi.pol == nil {
		src, err := netip.ParseAddr(st.Source)
		if err != nil {
			return // not running yet
		}
		p := sd.params
		// Probe as often as the instance advertises (200 ms to 2 s): a
		// demoted instance resumes Master_Down_Interval after the rival's
		// last sign of life, so answers must come about that often.
		p.ProbeInterval = min(max(oi.cfg.AdvertInt, 200*time.Millisecond), p.ProbeInterval)
		pol, err := demote.New(policyInstance(oi.cfg, src, st.Priority), p)
		if err != nil {
			sd.log.Error("self-demotion disabled for an instance", "instance", st.Instance, "err", err)
			return
		}
		oi.pol = pol
	}
	sd.queue(now, oi.pol.Step(now, demote.StateChanged{State: policyState(st.State), Priority: st.Priority}))
}

// policyInstance describes an own instance to its policy.
func policyInstance(in *keepalived.Instance, src netip.Addr, prio uint8) demote.Instance {
	pi := demote.Instance{Name: in.Name, Interface: in.Interface, Family: in.Family(), VRID: in.VRID,
		Version: uint8(in.Version), Priority: prio, AdvertInt: in.AdvertInt, Primary: src}
	if pi.Priority == 0 {
		pi.Priority = in.Priority
	}
	for _, v := range in.VIPs {
		pi.VIPs = append(pi.VIPs, v.Prefix.Addr())
	}
	if ifi, err := net.InterfaceByName(in.Interface); err == nil {
		var m obs.MAC
		if copy(m[:], ifi.HardwareAddr) == len(m) {
			pi.MACs = append(pi.MACs, m)
		}
		if as, err := ifi.Addrs(); err == nil {
			for _, a := range as {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					pi.Addrs = append(pi.Addrs, p.Addr())
				}
			}
		}
	}
	return pi
}

func policyState(s string) demote.State {
	switch s {
	case "BACKUP":
		return demote.Backup
	case "MASTER":
		return demote.Master
	case "FAULT":
		return demote.Fault
	}
	return demote.Init
}

// carryOut does what the policy decided.
func (sd *selfDemotion) carryOut(x action) {
	switch a := x.a.(type) {
	case demote.Demote:
		sd.count.WithLabelValues(a.Instance, string(a.Reason)).Inc()
		sd.log.Warn("self-demotion: giving up the virtual addresses", "instance", a.Instance, "reason", string(a.Reason),
			"evidence", a.Evidence.String())
		if err := sd.r.Demote(a.Instance, "demoted: "+string(a.Reason)+" by "+a.Evidence.Rival.String()); err != nil {
			sd.log.Error("self-demotion", "instance", a.Instance, "err", err)
		}
		sd.local(x.at, sd.demotedFact(a))
	case demote.Resume:
		sd.log.Info("self-demotion: resuming the election", "instance", a.Instance, "reason", string(a.Reason),
			"evidence", a.Evidence.String())
		if err := sd.r.Resume(a.Instance, "resumed: "+string(a.Reason)); err != nil {
			sd.log.Error("self-demotion", "instance", a.Instance, "err", err)
		}
		if in := sd.config(a.Instance); in != nil {
			sd.local(x.at, rules.LocalResumed{Instance: a.Instance, Interface: in.Interface, VRID: in.VRID, Reason: a.Message()})
		}
	case demote.Probe:
		sd.pl.probe(a.Interface, a.VIP)
	case demote.Reannounce:
		sd.log.Info("self-demotion: re-announcing the virtual addresses after a split brain", "instance", a.Instance,
			"evidence", a.Evidence.String())
		if err := sd.r.Reannounce(a.Instance); err != nil {
			sd.log.Error("re-announce", "instance", a.Instance, "err", err)
		}
	}
}

// config is the configuration of an own instance (nil when gone).
func (sd *selfDemotion) config(name string) *keepalived.Instance {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if oi := sd.inst[name]; oi != nil {
		return oi.cfg
	}
	return nil
}

func (sd *selfDemotion) demotedFact(a demote.Demote) rules.LocalFact {
	e := a.Evidence
	f := rules.LocalDemoted{Instance: a.Instance, Rival: e.Rival, RivalMAC: e.MAC, RivalPriority: e.Priority,
		Reason: e.Reject, Evidence: e.String(), Message: a.Message()}
	if in := sd.config(a.Instance); in != nil {
		f.Interface, f.Family, f.VRID = in.Interface, in.Family(), in.VRID
		for _, v := range in.VIPs {
			f.VIPs = append(f.VIPs, v.Prefix.Addr())
		}
	}
	return f
}

func (sd *selfDemotion) local(at time.Time, f rules.LocalFact) {
	if err := sd.pl.local(at, f); err != nil {
		sd.log.Error("self-demotion finding", "err", err)
	}
}

// snapshots are the policies' views, for the status page.
func (sd *selfDemotion) snapshots() map[string]demote.Snapshot {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	out := map[string]demote.Snapshot{}
	for name, oi := range sd.inst {
		if oi.pol != nil {
			out[name] = oi.pol.Snapshot()
		}
	}
	return out
}
