package rules

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// forever is the expiry of findings that only an event resolves.
const forever = 100 * 365 * 24 * time.Hour

// arpAnnounces reports whether an ARP packet tells the hosts of the segment
// which MAC to use for its sender address: a gratuitous ARP, or a reply.
// A reply to an address probe (RFC 5227: target address 0.0.0.0) goes to
// the prober alone and updates nobody else's cache, so it does not count:
// vrrpguard's own probes must not look like the master re-announcing.
func arpAnnounces(a *obs.ARPInfo) bool {
	if a.Gratuitous {
		return true
	}
	return a.Op == obs.ARPReply && !a.TargetIP.IsUnspecified()
}

// afterSplitBrain runs when duplicate_master of a segment has resolved: a
// VIP whose last announcement came from a MAC other than the master's
// raises stale_announcement. keepalived does not announce the addresses
// again when it stays master after a split brain (keepalived issue #166),
// so hosts that believed the loser keep sending to it.
func (e *Engine) afterSplitBrain(k segKey, now time.Time) {
	s := e.seg(k)
	if s == nil || s.master == nil || !alive(s.master, now) {
		return
	}
	vmac := vmacFor(k.fam, k.vrid)
	for _, v := range e.segmentVIPs(s, now) {
		vi := e.vips.get(vipKey{k.iface, v})
		if vi == nil || vi.annMAC.IsZero() || vi.annMAC == vmac {
			continue
		}
		m := addrMaster(s, v, now)
		if m == nil || vi.annMAC == m.mac {
			continue
		}
		e.raiseStale(s, v, vi, m, now)
	}
}

func (e *Engine) raiseStale(s *segment, vip netip.Addr, vi *vipInfo, m *router, now time.Time) {
	k := fkey{kind: StaleAnnouncement, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid, addr: vip}
	stale, at := vi.annMAC, vi.annAt
	var loser *router
	for _, r := range s.list {
		if r.mac == stale && r != m {
			loser = r
		}
	}
	vi.stale, vi.staleVRID = true, s.key.vrid
	e.set(k, now, true, now.Add(forever), func(f *Finding) {
		f.Sources = []netip.Addr{m.ip}
		who := stale.String()
		if loser != nil {
			f.Sources = sortedAddrs([]netip.Addr{m.ip, loser.ip})
			who = loser.ip.String() + " (" + stale.String() + ")"
		}
		f.MACs = capMACs([]obs.MAC{stale, m.mac})
		f.VIPs = []netip.Addr{vip}
		cache, fix := "ARP cache", "send gratuitous ARPs for it from the master (`arping -U -c 3 -I <its interface> "+vip.String()+"` on "+m.ip.String()+")"
		if s.key.fam == vrrp.IPv6 {
			cache, fix = "neighbour cache", "send unsolicited neighbour advertisements for it from the master (for example `ndsend "+vip.String()+" <its interface>` on "+m.ip.String()+")"
		}
		f.Message = "after the split brain of " + vridText(s) + " ended, " + routerText(m) + " is master, but the last announcement of " +
			vip.String() + " came from " + who + " at " + at.UTC().Format(time.RFC3339) +
			": keepalived does not announce its addresses again when it stays master after a split brain (keepalived issue #166), so hosts whose " + cache + " still points at " +
			stale.String() + " keep sending there until their entries expire — " + fix +
			", restart keepalived on the master, or let `vrrpguard run` re-announce"
		f.Fingerprint = fingerprint(StaleAnnouncement, s.key.fam, s.key.vrid, vip.String())
	})
}

// checkStale re-evaluates an active stale_announcement: it resolves when
// the master's MAC (or the virtual router MAC) announced the address last,
// when the master is now the host that announced it last, or when the
// address or its segment is gone.
func (e *Engine) checkStale(k fkey, now time.Time) {
	if e.active[k] == nil {
		return
	}
	s := e.seg(segKey{k.iface, k.fam, k.vrid})
	vi := e.vips.get(vipKey{k.iface, k.addr})
	if s == nil || vi == nil || !slices.Contains(e.segmentVIPs(s, now), k.addr) {
		e.set(k, now, false, time.Time{}, nil)
		return
	}
	m := addrMaster(s, k.addr, now)
	if m == nil || !alive(m, now) {
		return // no master to compare with: wait for one
	}
	if vi.annMAC == m.mac || vi.annMAC == vmacFor(k.fam, k.vrid) {
		e.set(k, now, false, time.Time{}, nil)
		return
	}
	e.raiseStale(s, k.addr, vi, m, now) // still stale (the description follows the latest announcer)
}

// segmentVIPs are the virtual addresses of a segment: those its recent
// routers advertise and those its expected configuration lists (excluded
// addresses included), sorted.
func (e *Engine) segmentVIPs(s *segment, now time.Time) []netip.Addr {
	var v []netip.Addr
	for _, r := range s.list {
		if e.recent(r, now) {
			v = append(v, r.vips...)
		}
	}
	if x, _ := e.expectedFor(s.key); x != nil {
		v = append(v, x.VIPs...)
		v = append(v, x.ExcludedVIPs...)
	}
	return sortedAddrs(v)
}
