package rules

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Snapshot is a copy of the engine's model at one moment, for metrics, the
// status page and `vrrpguard status`. It shares no memory with the engine:
// it stays valid and unchanged whatever the engine does next. Its lists are
// sorted and no longer than the engine's tables (VIPs adds the configured
// addresses not seen yet).
type Snapshot struct {
	At       time.Time
	Segments []SegmentSnapshot // by interface, family, VRID
	VIPs     []VIPSnapshot     // by interface, address
	Findings []Finding         // active findings, by kind, interface, family, VRID, fingerprint
	// Stats counts table entries, including routers too old to be listed.
	Stats Stats
}

// SegmentSnapshot is one segment (interface, family, VRID).
type SegmentSnapshot struct {
	Interface string
	Family    vrrp.Family
	VRID      uint8
	// Master is the current master: the router the engine follows as
	// master, while it is live (see LiveMasters). Invalid when there is
	// none.
	Master      netip.Addr
	MasterMAC   obs.MAC
	MasterSince time.Time
	// LiveMasters counts the routers acting as master now: routers that
	// advertised with priority > 0 within their Master_Down_Interval
	// (RFC 5798: 3 intervals plus the skew of their priority) and are the
	// master, or kept advertising (two adverts) after the master's run
	// began, so they do not defer to it. A preempted master's last advert
	// does not count. 1 is normal, 2 or more a split brain (or two
	// clusters sharing the VRID), 0 no master.
	LiveMasters int
	Interval    time.Duration // of the last advert with priority > 0
	LastAdvert  time.Time     // last advert with priority > 0, any router
	Routers     []RouterSnapshot
}

// RouterSnapshot is one router of a segment that advertised within
// Params.RouterTimeout; routers silent for longer, or evicted, are left out.
type RouterSnapshot struct {
	Addr     netip.Addr
	MAC      obs.MAC
	Priority uint8 // of its last advert (0: it resigned)
	Version  uint8
	Interval time.Duration
	AuthType vrrp.AuthType
	// AuthDigest is vrrp.AuthDigest of the authentication field for
	// simple (password) authentication, "" otherwise. The password itself
	// is never kept in a snapshot.
	AuthDigest  string
	VIPs        []netip.Addr // advertised, sorted
	FirstAdvert time.Time
	LastAdvert  time.Time // of any priority
	Adverts     uint64    // adverts seen since the engine first saw it (or since it was evicted)
	Master      bool      // it is the segment's Master
	LiveMaster  bool      // it is counted in LiveMasters
	Resigned    bool      // its last advert had priority 0
}

// VIPSnapshot is one virtual address on an interface: advertised, claimed
// in ARP/ND, or listed in the expected configuration.
type VIPSnapshot struct {
	Interface string // "" for an expected address not yet seen, configured for any interface
	Family    vrrp.Family
	Addr      netip.Addr
	// VRIDs under which it was advertised within Params.RouterTimeout.
	VRIDs []uint8
	// Holders are the MACs that announced or answered for it within
	// Params.QuietPeriod (a router that resigned, or that did not answer
	// a probe, no longer holds it), sorted by MAC.
	Holders []HolderSnapshot
	// Expected: the expected configuration lists it, under ExpectedVRID.
	Expected     bool
	ExpectedVRID uint8
}

// HolderSnapshot is a MAC that claims a virtual address.
type HolderSnapshot struct {
	MAC obs.MAC
	// Router is the advertising router with that MAC, if any.
	Router     netip.Addr
	FirstClaim time.Time
	LastClaim  time.Time
	// LastAnnouncement is when it sent the last announcement of the
	// address (gratuitous ARP, ARP reply, unsolicited NA), the one hosts'
	// caches follow; zero when another MAC sent it.
	LastAnnouncement time.Time
}

// Snapshot returns a copy of the model as of now (or the engine's clock, if
// later). It does not change the engine.
func (e *Engine) Snapshot(now time.Time) Snapshot {
	if e.now.After(now) {
		now = e.now
	}
	s := Snapshot{At: now, Stats: e.Stats()}
	s.Segments = make([]SegmentSnapshot, 0, len(e.segs))
	for _, seg := range e.segs {
		s.Segments = append(s.Segments, e.segmentSnapshot(seg, now))
	}
	slices.SortFunc(s.Segments, func(a, b SegmentSnapshot) int {
		return cmp.Or(cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family), cmp.Compare(a.VRID, b.VRID))
	})
	s.VIPs = e.vipSnapshots(now)
	s.Findings = make([]Finding, 0, len(e.active))
	for _, a := range e.active {
		s.Findings = append(s.Findings, copyFinding(a.f))
	}
	slices.SortFunc(s.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family),
			cmp.Compare(a.VRID, b.VRID), cmp.Compare(a.Fingerprint, b.Fingerprint), a.FirstSeen.Compare(b.FirstSeen))
	})
	return s
}

// masterDownFor is the Master_Down_Interval of RFC 5798 section 6.1 for a
// router's own interval and priority.
func masterDownFor(r *router) time.Duration {
	return 3*r.interval + r.interval*time.Duration(256-int(r.prio))/256
}

// liveAdvertiser reports whether r advertised with priority > 0 within its
// Master_Down_Interval.
func liveAdvertiser(r *router, now time.Time) bool {
	return !r.resigned && !r.last.IsZero() && now.Sub(r.last) <= masterDownFor(r)
}

func (e *Engine) segmentSnapshot(seg *segment, now time.Time) SegmentSnapshot {
	ss := SegmentSnapshot{Interface: seg.key.iface, Family: seg.key.fam, VRID: seg.key.vrid,
		Interval: seg.interval, LastAdvert: seg.lastAdvert}
	m := seg.master
	if m != nil && (seg.routers.get(m.ip, m.hash) != m || !liveAdvertiser(m, now)) {
		m = nil // evicted or not live
	}
	if m != nil {
		ss.Master, ss.MasterMAC, ss.MasterSince = m.ip, m.mac, seg.changedAt
		ss.LiveMasters = 1
	}
	ss.Routers = make([]RouterSnapshot, 0, len(seg.list))
	for _, r := range seg.list {
		live := false
		switch {
		case r == m:
			live = true
		case !liveAdvertiser(r, now):
		case m == nil:
			live = true
			ss.LiveMasters++
		case !r.prev.IsZero() && !r.prev.Before(laterOf(r.runStart, m.runStart)):
			// Two adverts since the master's run and its own began: it
			// does not defer to the master.
			live = true
			ss.LiveMasters++
		}
		if r.lastAny.IsZero() || now.Sub(r.lastAny) > e.p.RouterTimeout {
			continue // gone
		}
		rs := RouterSnapshot{Addr: r.ip, MAC: r.mac, Priority: r.prio, Version: r.version, Interval: r.interval,
			AuthType: r.authType, VIPs: slices.Clone(r.vips), FirstAdvert: r.first, LastAdvert: r.lastAny,
			Adverts: r.adverts, Master: r == m, LiveMaster: live, Resigned: r.resigned}
		if r.authType == vrrp.AuthSimple {
			rs.AuthDigest = vrrp.AuthDigest(r.authData)
		}
		ss.Routers = append(ss.Routers, rs)
	}
	slices.SortFunc(ss.Routers, func(a, b RouterSnapshot) int { return a.Addr.Compare(b.Addr) })
	return ss
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (e *Engine) vipSnapshots(now time.Time) []VIPSnapshot {
	out := make([]VIPSnapshot, 0, e.vips.len())
	seen := map[netip.Addr]bool{} // addresses in the table, on any interface
	added := map[vipKey]bool{}    // expected addresses added below
	for _, vi := range e.vipList {
		if vi == nil {
			continue // evicted
		}
		k := vi.key
		fam := vrrp.FamilyOf(k.addr)
		vs := VIPSnapshot{Interface: k.iface, Family: fam, Addr: k.addr}
		for _, x := range vi.vrids {
			if now.Sub(x.t) <= e.p.RouterTimeout {
				vs.VRIDs = append(vs.VRIDs, x.id)
			}
		}
		slices.Sort(vs.VRIDs)
		for mac, c := range vi.claims {
			if now.Sub(c.last) > e.p.QuietPeriod {
				continue
			}
			h := HolderSnapshot{MAC: mac, FirstClaim: c.first, LastClaim: c.last}
			if mac == vi.annMAC {
				h.LastAnnouncement = vi.annAt
			}
			h.Router = e.routerByMAC(k.iface, fam, vi, mac)
			vs.Holders = append(vs.Holders, h)
		}
		slices.SortFunc(vs.Holders, func(a, b HolderSnapshot) int { return slices.Compare(a.MAC[:], b.MAC[:]) })
		if x := e.expectedByVIP(k.iface, k.addr); x != nil {
			vs.Expected, vs.ExpectedVRID = true, x.VRID
		}
		seen[k.addr] = true
		out = append(out, vs)
	}
	// Expected addresses not seen yet.
	for i := range e.expected {
		x := &e.expected[i]
		for _, list := range [][]netip.Addr{x.VIPs, x.ExcludedVIPs} {
			for _, v := range list {
				if x.Interface == "" && seen[v] {
					continue
				}
				if x.Interface != "" && e.vips.get(vipKey{x.Interface, v}) != nil {
					continue
				}
				if added[vipKey{x.Interface, v}] {
					continue
				}
				added[vipKey{x.Interface, v}] = true
				out = append(out, VIPSnapshot{Interface: x.Interface, Family: vrrp.FamilyOf(v), Addr: v, Expected: true, ExpectedVRID: x.VRID})
			}
		}
	}
	slices.SortFunc(out, func(a, b VIPSnapshot) int {
		return cmp.Or(cmp.Compare(a.Interface, b.Interface), a.Addr.Compare(b.Addr))
	})
	return out
}

// routerByMAC finds the recent router with mac among the segments that
// advertise the address.
func (e *Engine) routerByMAC(iface string, fam vrrp.Family, vi *vipInfo, mac obs.MAC) netip.Addr {
	var best *router
	for _, x := range vi.vrids {
		s := e.seg(segKey{iface, fam, x.id})
		if s == nil {
			continue
		}
		for _, r := range s.list {
			if r.mac == mac && (best == nil || r.lastAny.After(best.lastAny)) {
				best = r
			}
		}
	}
	if best == nil {
		return netip.Addr{}
	}
	return best.ip
}

func copyFinding(f Finding) Finding {
	f.Sources = slices.Clone(f.Sources)
	f.MACs = slices.Clone(f.MACs)
	f.VIPs = slices.Clone(f.VIPs)
	return f
}
