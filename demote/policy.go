package demote

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// answerGrace: answers seen within this long of the instance becoming
// MASTER do not confirm a rival by themselves. A previous master that hands
// over normally removes its VIPs as soon as it hears the new master's first
// advertisement, but may answer a request or two in between.
const answerGrace = time.Second

// maxFlaps bounds the doubling of the silence a returning rival needs
// before a resume (2^6 times; the window is capped by Params.Recent too).
const maxFlaps = 6

// Policy is the self-demotion policy of one own VRRP instance. The zero
// value is not usable: create it with [New]. A Policy is not safe for
// concurrent use.
//
// Driving it: feed every StateChanged of the instance (effective priority
// included), every observation of the instance's interface (Observed, or
// Observe on the hot path) with now = its capture time, and a Tick at
// Next(). Carry out the actions in order. After Demote the participant
// keeps the instance BACKUP whatever its election says, until Resume.
//
// Why it does not flap. A Resume needs every rival silent: no
// advertisement for its Master_Down_Interval and no answer to the probes,
// sent every ProbeInterval while demoted, for the answer window. A rival
// that still holds the VIPs answers, so it keeps the instance demoted for
// as long as it lives; the 60-second silent-holder script checks this.
// What remains:
//   - The rival comes back after a real silence (a restart, a cable put
//     back): a new split brain, handled as the first one. A rival that
//     comes back within Params.Recent of a Resume is yielded to at once
//     (no second Hold when it already failed to yield) and each such
//     return doubles the silence the next Resume needs, up to Recent, so
//     a holder whose answers get lost, or one in a crash loop, costs at
//     most a few Demote/Resume pairs per Recent instead of one per Hold.
//   - The rival's configuration is fixed while the instance is demoted:
//     its advertisements become accepted, but ranks never lift a
//     demotion, so the instance stays BACKUP (like nopreempt) until that
//     router goes silent or the participant restarts the policy.
//   - Both sides demoted cannot happen between two vrrpguard nodes: the
//     outranked one yields within one interval and resigns with priority
//     0, long before the other's Hold ends. Against a node that does not
//     see this one at all (one-way capture), this one yields after Hold
//     and the other keeps the VIPs: one holder.
//   - With use_vmac on both nodes, the rival's advertisements come from
//     the shared virtual MAC, one of this node's own MACs: they are never
//     evidence, and the engine reports that split brain instead.
type Policy struct {
	in          Instance
	p           Params
	now         time.Time // time of the last Step
	state       State
	prio        uint8
	masterSince time.Time

	mode      Mode
	since     time.Time
	holdStart time.Time
	reason    Reason   // of the last Demote
	cause     Evidence // of the last Demote
	last      Evidence // the rival seen live last while holding
	nextProbe time.Time
	lastProbe time.Time // when the last probes were asked for
	// reannounced is when a Holding instance re-announced because its
	// rivals stopped answering (zero: not since they last showed life).
	reannounced time.Time

	routers []*router
	out     []Action
}

// router is one tracked router: a source of advertisements for the VRID or
// for one of the VIPs.
type router struct {
	addr     netip.Addr
	vrid     uint8
	mac      obs.MAC
	version  uint8
	prio     uint8 // last positive priority
	interval time.Duration
	claim    Claim // of its last positive advertisement
	reject   string
	vip      netip.Addr // a VIP its advertisements list
	unheard  int        // accepted advertisements in the current run while the instance is MASTER

	firstSeen  time.Time
	lastAdvert time.Time // last positive-priority advertisement; zero after a resign
	resigned   bool
	recentAt   time.Time // last positive advertisement, or answer while engaged
	lastAnswer time.Time
	answerVIP  netip.Addr
	lastSeen   time.Time
	seen       seen

	engaged    bool      // a confirmed rival of the current episode
	yieldedAt  time.Time // last demotion because it would not yield
	lastResume time.Time // last resume after it went silent
	flaps      int       // re-demotions for it within Recent of a resume
}

// seen is the last thing seen from a router, formatted only when asked
// for (observations are frequent, evidence is not).
type seen struct {
	kind   seenKind
	vrid   uint8
	prio   uint8
	claim  Claim
	reject string
	what   string // for answers: "arp reply", ...
	addr   netip.Addr
}

type seenKind uint8

const (
	seenNothing seenKind = iota
	seenAdvert
	seenResign
	seenAnswer
)

// String describes it for evidence.
func (s seen) String() string {
	switch s.kind {
	case seenAdvert:
		t := "advertisement VRID " + strconv.Itoa(int(s.vrid)) + " priority " + strconv.Itoa(int(s.prio))
		switch s.claim {
		case ClaimRejected:
			if s.reject != "" {
				return t + " (rejected: " + s.reject + ")"
			}
			return t + " (rejected)"
		case ClaimAccepted:
			return t + " (accepted)"
		}
		return t
	case seenResign:
		return "priority-0 advertisement VRID " + strconv.Itoa(int(s.vrid)) + " (resigned)"
	case seenAnswer:
		return s.what + " for " + s.addr.String()
	}
	return ""
}

// New checks the instance and parameters and returns a policy in mode
// Normal with the instance in INIT.
func New(in Instance, p Params) (*Policy, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	in.Addrs = slices.Clone(in.Addrs)
	in.MACs = slices.Clone(in.MACs)
	in.VIPs = slices.Clone(in.VIPs)
	return &Policy{in: in, p: p, prio: in.Priority}, nil
}

// Instance returns the instance description.
func (p *Policy) Instance() Instance {
	in := p.in
	in.Addrs, in.MACs, in.VIPs = slices.Clone(in.Addrs), slices.Clone(in.MACs), slices.Clone(in.VIPs)
	return in
}

// Params returns the parameters in use (defaults filled in).
func (p *Policy) Params() Params { return p.p }

// Mode returns the current mode.
func (p *Policy) Mode() Mode { return p.mode }

// Step feeds one event at time now and returns the actions to carry out, in
// order. For an Observed event now should be the capture time. Time never
// runs backwards for the policy: an earlier now counts as the last one.
func (p *Policy) Step(now time.Time, ev Event) []Action {
	if now.Before(p.now) {
		now = p.now
	}
	p.now = now
	p.out = nil
	switch e := ev.(type) {
	case StateChanged:
		p.stateChanged(now, e)
	case Observed:
		p.observe(now, &e.Obs, e.Accepted, e.Reject)
	case Tick:
	default:
		return nil
	}
	p.eval(now)
	return p.out
}

// Observe is Step(now, Observed{Obs: *o, Accepted: accepted, Reject:
// reject}) without copying the observation into an Event, for the
// sniffer's hot path (o is not retained).
func (p *Policy) Observe(now time.Time, o *obs.Observation, accepted bool, reject string) []Action {
	if now.Before(p.now) {
		now = p.now
	}
	p.now = now
	p.out = nil
	p.observe(now, o, accepted, reject)
	p.eval(now)
	return p.out
}

// Next returns when the policy next needs a Tick (zero: not before the
// next event). It is always after the time of the last Step.
func (p *Policy) Next() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && t.After(p.now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if p.probing() {
		consider(p.nextProbe)
	}
	if p.mode == Holding {
		consider(p.holdStart.Add(p.p.Hold))
		if p.reannounced.IsZero() {
			consider(p.lastProbe.Add(p.answerWait()))
			for _, r := range p.routers {
				if r.engaged && !r.lastAdvert.IsZero() {
					consider(r.lastAdvert.Add(advertGap(r, p.in.AdvertInt)))
				}
			}
		}
	}
	for _, r := range p.routers {
		if !r.lastAdvert.IsZero() {
			consider(r.lastAdvert.Add(p.advertWindow(r)))
		}
		if !r.lastAnswer.IsZero() {
			consider(r.lastAnswer.Add(p.answerWindow(r)))
		}
		if !r.recentAt.IsZero() {
			consider(r.recentAt.Add(p.p.Recent))
		}
	}
	return next
}

func (p *Policy) emit(a Action) { p.out = append(p.out, a) }

func (p *Policy) stateChanged(now time.Time, e StateChanged) {
	if e.Priority != 0 {
		p.prio = e.Priority
	}
	if e.State == p.state {
		return
	}
	if e.State == Master {
		p.masterSince = now
	}
	p.state = e.State
	for _, r := range p.routers {
		r.unheard = 0
	}
}

// own reports whether an address or MAC is this node's.
func (p *Policy) ownAddr(a netip.Addr) bool {
	return a == p.in.Primary || slices.Contains(p.in.Addrs, a)
}

func (p *Policy) ownMAC(m obs.MAC) bool { return slices.Contains(p.in.MACs, m) }

func (p *Policy) isVIP(a netip.Addr) bool { return a.IsValid() && slices.Contains(p.in.VIPs, a) }

// claimedVIP returns a VIP an advertisement lists. An advertisement of the
// own VRID that lists no address at all claims the VRID's addresses.
func (p *Policy) claimedVIP(a *vrrp.Advertisement) (netip.Addr, bool) {
	for _, x := range a.Addresses {
		if p.isVIP(x) {
			return x, true
		}
	}
	if a.VRID == p.in.VRID && len(a.Addresses) == 0 {
		return p.in.VIPs[0], true
	}
	return netip.Addr{}, false
}

func (p *Policy) observe(now time.Time, o *obs.Observation, accepted bool, reject string) {
	if o.Interface != p.in.Interface {
		return
	}
	switch o.Kind {
	case obs.KindAdvert:
		p.advert(now, o, accepted, reject)
	case obs.KindARP:
		what := "arp request"
		switch {
		case o.ARP.Gratuitous:
			what = "gratuitous arp"
		case o.ARP.Op == obs.ARPReply:
			what = "arp reply"
		}
		p.answer(now, o.ARP.SenderIP, o.ARP.SenderMAC, o.SrcMAC, what)
	case obs.KindND:
		p.answer(now, o.ND.Target, o.ND.TargetMAC, o.SrcMAC, "neighbour advertisement")
	}
}

func (p *Policy) advert(now time.Time, o *obs.Observation, accepted bool, reject string) {
	a := &o.Advert
	if o.Family != p.in.Family || o.TTL != vrrp.TTL || o.Checksum == vrrp.ChecksumInvalid {
		return // not from this segment's routers, or corrupt
	}
	if !o.Src.IsValid() || p.ownAddr(o.Src) || p.ownMAC(o.SrcMAC) {
		return
	}
	vip, ok := p.claimedVIP(a)
	if !ok {
		return
	}
	r := p.find(o.Src, a.VRID)
	if a.Priority == 0 {
		if r != nil {
			// It resigns and releases its addresses.
			r.lastAdvert, r.lastAnswer, r.resigned, r.unheard = time.Time{}, time.Time{}, true, 0
			r.lastSeen, r.seen = now, seen{kind: seenResign, vrid: a.VRID}
		}
		return
	}
	if r == nil {
		r = p.add(o.Src, a.VRID, now)
	}
	run := !r.lastAdvert.IsZero() && now.Sub(r.lastAdvert) < p.mdi(r)
	r.mac, r.version, r.prio, r.vip = o.SrcMAC, a.Version, a.Priority, vip
	r.interval = a.Interval
	r.resigned, r.reject = false, ""
	switch {
	case a.VRID != p.in.VRID:
		r.claim = ClaimOtherVRID
	case !accepted:
		r.claim, r.reject = ClaimRejected, reject
	default:
		r.claim = ClaimAccepted
	}
	if r.claim == ClaimAccepted && p.state == Master && now.After(p.masterSince) {
		if !run {
			r.unheard = 0
		}
		r.unheard++
	} else {
		r.unheard = 0
	}
	r.lastAdvert, r.recentAt, r.lastSeen = now, now, now
	r.seen = seen{kind: seenAdvert, vrid: a.VRID, prio: a.Priority, claim: r.claim, reject: r.reject}
}

// answer records an ARP / ND claim of addr by mac.
func (p *Policy) answer(now time.Time, addr netip.Addr, mac, src obs.MAC, what string) {
	if mac.IsZero() {
		mac = src
	}
	if !p.isVIP(addr) || p.ownMAC(mac) || p.ownMAC(src) {
		return
	}
	for _, r := range p.routers {
		if r.mac != mac {
			continue
		}
		r.lastAnswer, r.answerVIP, r.lastSeen = now, addr, now
		r.seen = seen{kind: seenAnswer, what: what, addr: addr}
		if r.engaged {
			r.recentAt = now
		}
	}
}

func (p *Policy) find(a netip.Addr, vrid uint8) *router {
	for _, r := range p.routers {
		if r.addr == a && r.vrid == vrid {
			return r
		}
	}
	return nil
}

// add tracks a new router, evicting the least recently seen one (a
// non-engaged one if there is any) at the cap.
func (p *Policy) add(a netip.Addr, vrid uint8, now time.Time) *router {
	if len(p.routers) >= p.p.MaxRivals {
		victim := -1
		for i, r := range p.routers {
			if victim < 0 || staler(r, p.routers[victim]) {
				victim = i
			}
		}
		p.routers = slices.Delete(p.routers, victim, victim+1)
	}
	r := &router{addr: a, vrid: vrid, firstSeen: now}
	p.routers = append(p.routers, r)
	return r
}

// staler orders eviction candidates: non-engaged before engaged, then by
// last seen.
func staler(a, b *router) bool {
	if a.engaged != b.engaged {
		return !a.engaged
	}
	return a.lastSeen.Before(b.lastSeen)
}

// expire forgets routers that have nothing left to say.
func (p *Policy) expire(now time.Time) {
	p.routers = slices.DeleteFunc(p.routers, func(r *router) bool {
		if r.engaged {
			return false
		}
		for _, t := range []time.Time{r.recentAt, r.lastAdvert, r.yieldedAt, r.lastResume} {
			if !t.IsZero() && now.Sub(t) < p.p.Recent {
				return false
			}
		}
		return !p.answerLive(r, now)
	})
}

// mdi is the rival's Master_Down_Interval: 3×interval + skew, from its own
// advertised interval and priority.
func (p *Policy) mdi(r *router) time.Duration {
	iv := r.interval
	if iv <= 0 {
		iv = p.in.AdvertInt
	}
	return 3*iv + time.Duration(256-int(r.prio))*iv/256
}

// stretch applies a returning rival's doubling, capped at Recent (or at
// the base window if that is longer).
func (p *Policy) stretch(r *router, d time.Duration) time.Duration {
	if r.flaps == 0 {
		return d
	}
	limit := max(d, p.p.Recent)
	for range r.flaps {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return d
}

func (p *Policy) advertWindow(r *router) time.Duration { return p.stretch(r, p.mdi(r)) }

func (p *Policy) answerWindow(r *router) time.Duration {
	w := p.p.AnswerWindow
	if w == 0 {
		w = max(p.mdi(r), 2*p.p.ProbeInterval+time.Second)
	}
	return p.stretch(r, w)
}

func (p *Policy) advertLive(r *router, now time.Time) bool {
	return !r.lastAdvert.IsZero() && now.Sub(r.lastAdvert) < p.advertWindow(r)
}

func (p *Policy) answerLive(r *router, now time.Time) bool {
	return !r.lastAnswer.IsZero() && now.Sub(r.lastAnswer) < p.answerWindow(r)
}

func (p *Policy) recent(r *router, now time.Time) bool {
	return !r.recentAt.IsZero() && now.Sub(r.recentAt) < p.p.Recent
}

// advertClaim reports whether its advertisements claim the VIPs against
// the instance: rejected, another VRID's, or accepted ones the election
// evidently does not get.
func (p *Policy) advertClaim(r *router) bool {
	switch r.claim {
	case ClaimRejected, ClaimOtherVRID:
		return true
	case ClaimAccepted:
		return p.state == Master && r.unheard >= 2
	}
	return false
}

// live reports whether an engaged rival is still live: any advertisement
// within its Master_Down_Interval, or an answer within the answer window.
func (p *Policy) live(r *router, now time.Time) bool {
	return p.advertLive(r, now) || p.answerLive(r, now)
}

// isRival reports whether r is a rival of the MASTER instance now.
func (p *Policy) isRival(r *router, now time.Time) bool {
	if r.engaged {
		return p.live(r, now)
	}
	if p.advertLive(r, now) && p.advertClaim(r) {
		return true
	}
	return p.recent(r, now) && p.answerLive(r, now) && !r.lastAnswer.Before(p.masterSince.Add(answerGrace))
}

// engageable reports whether r keeps a demoted instance demoted though it
// was not the cause: it claims the VIPs in its advertisements, or
// advertised recently and answers for them.
func (p *Policy) engageable(r *router, now time.Time) bool {
	if p.advertLive(r, now) && (r.claim == ClaimRejected || r.claim == ClaimOtherVRID) {
		return true
	}
	return p.recent(r, now) && p.answerLive(r, now)
}

// candidate reports whether r might still hold the VIPs unseen: it claimed
// them in advertisements within Recent and did not resign.
func (p *Policy) candidate(r *router, now time.Time) bool {
	return !r.resigned && p.recent(r, now) && (r.claim == ClaimRejected || r.claim == ClaimOtherVRID)
}

// outranks reports whether r ranks above the instance (RFC 5798 6.4.3:
// higher priority, then higher primary address).
func (p *Policy) outranks(r *router) bool {
	return r.prio > p.prio || (r.prio == p.prio && r.addr.Compare(p.in.Primary) > 0)
}

// above reports whether a ranks above b.
func above(a, b *router) bool {
	return a.prio > b.prio || (a.prio == b.prio && a.addr.Compare(b.addr) > 0)
}

func (p *Policy) setMode(m Mode, now time.Time) {
	if m != p.mode {
		p.mode, p.since = m, now
	}
	if m != Holding {
		p.holdStart, p.reannounced = time.Time{}, time.Time{}
	}
}

func (p *Policy) probing() bool { return p.mode != Normal }

func (p *Policy) eval(now time.Time) {
	p.expire(now)
	if p.mode == Demoted {
		p.evalDemoted(now)
	} else {
		p.evalActive(now)
	}
	// The cadence survives leaving and re-entering the probing modes, so
	// probes never come closer together than ProbeInterval.
	if p.probing() && (p.nextProbe.IsZero() || !now.Before(p.nextProbe)) {
		for _, v := range p.in.VIPs {
			p.emit(Probe{Interface: p.in.Interface, VIP: v})
		}
		p.nextProbe, p.lastProbe = now.Add(p.p.ProbeInterval), now
	}
}

// evalDemoted resumes when no engaged rival is live.
func (p *Policy) evalDemoted(now time.Time) {
	var lastOut *router // the rival that went quiet last
	for _, r := range p.routers {
		if !r.engaged && p.engageable(r, now) {
			r.engaged = true
		}
		if !r.engaged {
			continue
		}
		if p.live(r, now) {
			return
		}
		if lastOut == nil || p.quietAt(r).After(p.quietAt(lastOut)) {
			lastOut = r
		}
	}
	reason := ReasonRivalSilent
	var ev Evidence
	if lastOut != nil {
		ev = p.evidence(lastOut, now)
		if lastOut.resigned {
			reason = ReasonRivalResigned
		}
	}
	for _, r := range p.routers {
		if r.engaged {
			r.engaged, r.lastResume = false, now
		}
	}
	p.emit(Resume{Instance: p.in.Name, Reason: reason, Evidence: ev})
	p.reason, p.cause = "", Evidence{}
	p.setMode(Normal, now)
	p.evalActive(now)
}

// quietAt is when a rival stopped being live: when it resigned, or when
// its last advertisement and answer ran out.
func (p *Policy) quietAt(r *router) time.Time {
	end := r.lastSeen // a resignation clears the rest
	if !r.lastAdvert.IsZero() {
		if t := r.lastAdvert.Add(p.advertWindow(r)); t.After(end) {
			end = t
		}
	}
	if !r.lastAnswer.IsZero() {
		if t := r.lastAnswer.Add(p.answerWindow(r)); t.After(end) {
			end = t
		}
	}
	return end
}

// evalActive confirms rivals of a MASTER instance and holds or yields.
func (p *Policy) evalActive(now time.Time) {
	if p.state != Master {
		for _, r := range p.routers {
			r.engaged = false
		}
		p.setMode(Normal, now)
		return
	}
	var best, returned *router
	for _, r := range p.routers {
		r.engaged = p.isRival(r, now)
		if !r.engaged {
			continue
		}
		if best == nil || above(r, best) {
			best = r
		}
		if !r.yieldedAt.IsZero() && now.Sub(r.yieldedAt) < p.p.Recent && (returned == nil || above(r, returned)) {
			returned = r
		}
	}
	if best == nil {
		if p.mode == Holding && p.reannounced.IsZero() {
			p.emit(Reannounce{Instance: p.in.Name, Evidence: p.last})
		}
		p.last = Evidence{}
		m := Normal
		for _, r := range p.routers {
			if p.candidate(r, now) {
				m = Suspect
				break
			}
		}
		p.setMode(m, now)
		return
	}
	switch {
	case p.outranks(best):
		p.demote(now, ReasonOutranked, best)
	case returned != nil:
		p.demote(now, ReasonRivalReturned, returned)
	case p.mode == Holding && !now.Before(p.holdStart.Add(p.p.Hold)):
		p.demote(now, ReasonHoldExpired, best)
	default:
		if p.mode != Holding {
			p.setMode(Holding, now)
			p.holdStart = now
		}
		p.last = p.evidence(best, now)
		p.reannounceEarly(now)
	}
}

// reannounceEarly re-announces the VIPs of a Holding instance as soon as
// its rivals stopped holding them, not only once they are silent for
// their whole Master_Down_Interval and answer window (see stopped). A
// keepalived that finally hears this node's higher priority steps down
// without a priority-0 advertisement or an announcement, and hosts keep
// sending to it until this node re-announces. A wrong guess (an answer
// and an advertisement both lost) costs one announcement burst for
// addresses this node holds anyway. Once per silence: a rival that shows
// life again re-arms it.
func (p *Policy) reannounceEarly(now time.Time) {
	if !p.reannounced.IsZero() {
		for _, r := range p.routers {
			if r.engaged && (r.lastAdvert.After(p.reannounced) || r.lastAnswer.After(p.reannounced)) {
				p.reannounced = time.Time{}
				break
			}
		}
		if !p.reannounced.IsZero() {
			return
		}
	}
	for _, r := range p.routers {
		if r.engaged && !p.stopped(r, now) {
			return
		}
	}
	p.emit(Reannounce{Instance: p.in.Name, Evidence: p.last})
	p.reannounced = now
}

// stopped reports whether an engaged rival of a Holding instance answered
// for the VIPs during this hold and then stopped: the last probe, sent
// answerWait ago or more, got no answer, and it has not advertised for
// 1.5 of its intervals nor since that probe.
func (p *Policy) stopped(r *router, now time.Time) bool {
	switch {
	case r.lastAnswer.IsZero() || r.lastAnswer.Before(p.holdStart):
		return false // no answer seen this time: its silence says nothing
	case p.lastProbe.IsZero() || !p.lastProbe.After(r.lastAnswer) || now.Sub(p.lastProbe) < p.answerWait():
		return false
	case !r.lastAdvert.IsZero() && (!p.lastProbe.After(r.lastAdvert) || now.Sub(r.lastAdvert) < advertGap(r, p.in.AdvertInt)):
		return false
	}
	return true
}

// answerWait is how long an answer to a probe may take: half the probe
// interval.
func (p *Policy) answerWait() time.Duration { return p.p.ProbeInterval / 2 }

// advertGap is how long a rival advertising every interval has missed an
// advertisement: 1.5 intervals (def when it advertises 0).
func advertGap(r *router, def time.Duration) time.Duration {
	iv := r.interval
	if iv <= 0 {
		iv = def
	}
	return iv + iv/2
}

func (p *Policy) demote(now time.Time, reason Reason, r *router) {
	if reason == ReasonHoldExpired || reason == ReasonRivalReturned {
		r.yieldedAt = now // it does not yield
	}
	if !r.lastResume.IsZero() && now.Sub(r.lastResume) < p.p.Recent {
		r.flaps = min(r.flaps+1, maxFlaps)
	} else {
		r.flaps = 0
	}
	ev := p.evidence(r, now)
	p.emit(Demote{Instance: p.in.Name, Reason: reason, Evidence: ev})
	p.reason, p.cause, p.last = reason, ev, Evidence{}
	p.setMode(Demoted, now)
}

// claimOf says how r claims the VIPs now (or last did).
func (p *Policy) claimOf(r *router, now time.Time) Claim {
	if !p.advertLive(r, now) && !r.lastAnswer.IsZero() && !r.lastAnswer.Before(r.lastAdvert) {
		return ClaimAnswers
	}
	if r.claim == ClaimAccepted {
		return ClaimUnheard
	}
	return r.claim
}

func (p *Policy) evidence(r *router, now time.Time) Evidence {
	c := p.claimOf(r, now)
	vip := r.vip
	if c == ClaimAnswers && r.answerVIP.IsValid() {
		vip = r.answerVIP
	}
	return Evidence{
		Rival: r.addr, MAC: r.mac, VRID: r.vrid, Version: r.version, Priority: r.prio, Interval: r.interval,
		OwnPriority: p.prio, Claim: c, Reject: r.reject, VIP: vip,
		LastAdvert: r.lastAdvert, LastAnswer: r.lastAnswer, Seen: r.seen.String(), SeenAt: r.lastSeen,
	}
}

// Snapshot returns the policy's state as of the last Step.
func (p *Policy) Snapshot() Snapshot {
	s := Snapshot{Instance: p.in.Name, Mode: p.mode, Since: p.since, State: p.state, Priority: p.prio}
	if p.mode == Holding {
		s.HoldUntil = p.holdStart.Add(p.p.Hold)
	}
	if p.mode == Demoted {
		s.Reason, s.Cause = p.reason, p.cause
	}
	rs := slices.Clone(p.routers)
	slices.SortStableFunc(rs, func(a, b *router) int {
		switch {
		case above(a, b):
			return -1
		case above(b, a):
			return 1
		}
		return 0
	})
	for _, r := range rs {
		s.Rivals = append(s.Rivals, Rival{
			Addr: r.addr, MAC: r.mac, VRID: r.vrid, Version: r.version, Priority: r.prio, Interval: r.interval,
			Claim: r.claim, Live: r.engaged && p.live(r, p.now), Outranks: p.outranks(r), Resigned: r.resigned,
			FirstSeen: r.firstSeen, LastAdvert: r.lastAdvert, LastAnswer: r.lastAnswer, LastSeen: r.lastSeen, Seen: r.seen.String(),
		})
	}
	return s
}
