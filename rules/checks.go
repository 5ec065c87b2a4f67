package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

func vridText(s *segment) string {
	return "VRID " + strconv.Itoa(int(s.key.vrid)) + " on " + s.key.iface
}

func segVIPs(s *segment) []netip.Addr {
	var v []netip.Addr
	for _, r := range s.list {
		v = append(v, r.vips...)
	}
	return sortedAddrs(v)
}

func routerText(r *router) string {
	return r.ip.String() + " (" + r.mac.String() + ", prio " + strconv.Itoa(int(r.prio)) + ")"
}

// checkDuplicate: r and another router of its segment each keep
// advertising after the other started: each has sent at least two adverts
// since the later of their run starts, and both are still alive. A
// preempted master sends at most one advert after the new master's first,
// so preemption never matches. Only pairs with r can change on r's advert
// (at now, the engine's clock); the finding expires by itself when a
// router of the pair stops.
func (e *Engine) checkDuplicate(s *segment, r *router, now time.Time) {
	if r.resigned {
		return // else r is alive: it advertised at now
	}
	if r.prev.Before(r.runStart) {
		// r has sent one advert in its current run: no pair can match
		// (their later run start is at or after r's).
		return
	}
	if e.nowNs > s.othersAliveUntil(r) && !e.exhaustive {
		return // no other router is alive
	}
	var dup []*router
	var onset, expiry time.Time
	for _, b := range s.list {
		if b == r || !alive(b, now) {
			continue
		}
		if len(r.vips) > 0 && len(b.vips) > 0 && !overlap(r.vips, b.vips) {
			// Two clusters that share a VRID but no address: not a split
			// brain of one cluster (vrid_conflict reports the collision).
			continue
		}
		t := r.runStart
		if b.runStart.After(t) {
			t = b.runStart
		}
		if r.prev.Before(t) || b.prev.Before(t) {
			continue
		}
		if len(dup) == 0 {
			dup = append(dup, r)
		}
		dup = append(dup, b)
		if onset.IsZero() || t.Before(onset) {
			onset = t
		}
		if ex := minTime(r.last.Add(masterDown(r.interval)), b.last.Add(masterDown(b.interval))); ex.After(expiry) {
			expiry = ex
		}
	}
	if len(dup) < 2 {
		return
	}
	slices.SortFunc(dup, func(a, b *router) int { return a.ip.Compare(b.ip) })
	k := fkey{kind: DuplicateMaster, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}
	e.raiseDuplicate(s, k, now, expiry, onset, dup, nil, "")
}

func (e *Engine) raiseDuplicate(s *segment, k fkey, now, expiry, onset time.Time, rs []*router, extraMACs []obs.MAC, how string) {
	e.set(k, now, true, expiry, func(f *Finding) {
		// Built here, only when the finding is raised or refreshed.
		vips := segVIPs(s)
		var srcs []netip.Addr
		var macs []obs.MAC
		var names []string
		for _, r := range rs {
			srcs = append(srcs, r.ip)
			macs = append(macs, r.mac)
			names = append(names, routerText(r))
		}
		macs = append(macs, extraMACs...)
		f.Sources = capAddrs(sortedAddrs(append(f.Sources, srcs...)))
		f.MACs = capMACs(append(f.MACs, macs...))
		f.VIPs = capAddrs(vips)
		if f.Message == "" {
			if how == "" {
				how = "both keep advertising"
			}
			f.Message = fmt.Sprintf("split brain: %s has %d masters at once (%s) — %s, so they do not hear each other: "+
				"check firewalls for IP protocol 112 in both directions, multicast on the switch, and that the routers agree on VRID, version and password",
				vridText(s), len(srcs), strings.Join(names, ", "), how)
		}
		if !onset.IsZero() && onset.Before(f.FirstSeen) {
			f.FirstSeen = onset
		}
		f.Fingerprint = fingerprint(DuplicateMaster, s.key.fam, s.key.vrid, addrsKey(vips))
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// disagreement groups recent routers by an attribute and returns the groups
// (value → routers) and when the disagreement expires if no router
// advertises again: RouterTimeout after the second most recent group's last
// advert.
func (e *Engine) disagreement(s *segment, now time.Time, val func(*router) (string, bool)) (map[string][]*router, time.Time) {
	groups := map[string][]*router{}
	for _, r := range s.list {
		if !e.recent(r, now) {
			continue
		}
		v, ok := val(r)
		if !ok {
			continue
		}
		groups[v] = append(groups[v], r)
	}
	if len(groups) < 2 {
		return groups, time.Time{}
	}
	var lasts []time.Time
	for _, rs := range groups {
		l := time.Time{}
		for _, r := range rs {
			if r.lastAny.After(l) {
				l = r.lastAny
			}
		}
		lasts = append(lasts, l)
	}
	slices.SortFunc(lasts, func(a, b time.Time) int { return b.Compare(a) })
	return groups, lasts[1].Add(e.p.RouterTimeout)
}

func describeGroups(groups map[string][]*router, label func(string) string) (string, []netip.Addr, []obs.MAC) {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	var srcs []netip.Addr
	var macs []obs.MAC
	for _, k := range keys {
		rs := groups[k]
		slices.SortFunc(rs, func(a, b *router) int { return a.ip.Compare(b.ip) })
		var ips []string
		for _, r := range rs {
			ips = append(ips, r.ip.String())
			srcs = append(srcs, r.ip)
			macs = append(macs, r.mac)
		}
		parts = append(parts, strings.Join(ips, ", ")+" "+label(k))
	}
	return strings.Join(parts, "; "), sortedAddrs(srcs), macs
}

// differs reports whether a recent router of s disagrees with r, which has
// just advertised (all agree with r means all agree), and when that
// disagreement expires: RouterTimeout after the last advert of a router
// that differs.
func (e *Engine) differs(s *segment, r *router, now time.Time, val func(*router) (string, bool)) (bool, time.Time) {
	mine, ok := val(r)
	if !ok || !e.recent(r, now) {
		// r does not take part (v3 for auth, or resigned): compare the
		// others among themselves.
		groups, expiry := e.disagreement(s, now, val)
		return len(groups) >= 2, expiry
	}
	var last time.Time
	for _, o := range s.list {
		if o == r || !e.recent(o, now) {
			continue
		}
		if v, ok := val(o); ok && v != mine && o.lastAny.After(last) {
			last = o.lastAny
		}
	}
	if last.IsZero() {
		return false, time.Time{}
	}
	return true, last.Add(e.p.RouterTimeout)
}

// checkConfig compares the routers of a segment with r, which has just
// advertised.
func (e *Engine) checkConfig(s *segment, r *router, now time.Time) {
	if e.activeVRID[s.key.vrid] == 0 && !e.exhaustive && agree(s) {
		// Nothing to clear and nothing to raise: every comparison below
		// would find no difference, whichever routers are recent.
		return
	}
	type cmp struct {
		kind  Kind
		val   func(*router) (string, bool)
		label func(string) string
		what  string
	}
	// The order is router.configKey's (and the authentication check is v2-only there too).
	checks := [...]cmp{
		{AuthMismatch, func(r *router) (string, bool) { return r.authKey, r.version == 2 }, func(v string) string {
			if strings.HasPrefix(v, "simple ") {
				return "use a password with digest " + strings.TrimPrefix(v, "simple ")
			}
			return "use authentication " + v
		}, "the routers use different authentication, so each discards the other's advertisements — make authentication/auth_type and auth_pass (first 8 characters) identical on all nodes"},
		{VersionMismatch, func(r *router) (string, bool) { return r.versionKey, true },
			func(v string) string { return "speak VRRPv" + v },
			"v2 and v3 routers do not understand each other's advertisements — set the same vrrp_version / version on all nodes"},
		{IntervalMismatch, func(r *router) (string, bool) { return r.intervalKey, true },
			func(v string) string { return "advertise every " + v },
			"the routers advertise at different intervals, which keepalived treats as an error and RFC 3768 routers discard — set the same advert_int on all nodes"},
		{VRIDConflict, func(r *router) (string, bool) { return r.vipsKey, true },
			func(v string) string { return "advertise [" + v + "]" },
			"the routers disagree on the virtual addresses: two clusters share this VRID, or virtual_ipaddress differs between the nodes — give each cluster its own VRID and make the VIP lists identical"},
	}
	// One pass over the routers for the comparisons r takes part in (what
	// differs does for one, for all four at once).
	var mine [len(checks)]string
	var part [len(checks)]bool
	var last [len(checks)]time.Time
	rRecent, anyPart := e.recent(r, now), false
	for i, c := range checks {
		mine[i], part[i] = c.val(r)
		part[i] = part[i] && rRecent
		anyPart = anyPart || part[i]
	}
	if anyPart {
		// r is counted with its keys: routers differ from it only where the
		// summary counts other keys. The most recent of them is found
		// walking from the most recently seen router.
		var todo uint8
		for i := range checks {
			if part[i] && !s.agree(i, mine[i]) {
				todo |= 1 << i
			}
		}
		for o := s.newest; o != nil && todo != 0; o = o.older {
			if o == r || o.resigned {
				continue
			}
			if !e.recent(o, now) {
				break // older routers are not recent either
			}
			for i := range checks {
				// c.val(o) without the call: the keys and their hashes are
				// in the router (different hashes, different keys).
				ok := i != 0 || o.version == 2 // authentication: v2 only
				if todo&(1<<i) == 0 || !ok {
					continue
				}
				if o.keyHash[i] != r.keyHash[i] || o.configKey(i) != mine[i] {
					last[i] = o.lastAny
					todo &^= 1 << i
				}
			}
		}
	}
	for i, c := range checks {
		k := fkey{kind: c.kind, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}
		var differs bool
		var expiry time.Time
		if part[i] {
			if differs = !last[i].IsZero(); differs {
				expiry = last[i].Add(e.p.RouterTimeout)
			}
		} else {
			differs, expiry = e.differs(s, r, now, c.val)
		}
		if !differs {
			e.set(k, now, false, time.Time{}, nil)
			continue
		}
		kind, what, label, val := c.kind, c.what, c.label, c.val
		e.set(k, now, true, expiry, func(f *Finding) {
			groups, _ := e.disagreement(s, now, val)
			desc, srcs, macs := describeGroups(groups, label)
			vips := segVIPs(s)
			f.Sources, f.MACs, f.VIPs = capAddrs(srcs), capMACs(macs), capAddrs(vips)
			f.Message = vridText(s) + ": " + desc + " — " + what
			f.Fingerprint = fingerprint(kind, s.key.fam, s.key.vrid, addrsKey(vips))
		})
	}
	// owner_conflict: two routers claim to own the addresses (priority 255).
	var owners []*router
	var expiry time.Time
	if s.owners < 2 {
		// Fewer than two routers advertise priority 255, recent or not.
		e.set(fkey{kind: OwnerConflict, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}, now, false, time.Time{}, nil)
		return
	}
	for _, r := range s.list {
		if r.prio == 255 && e.recent(r, now) {
			owners = append(owners, r)
		}
	}
	k := fkey{kind: OwnerConflict, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}
	if len(owners) < 2 {
		e.set(k, now, false, time.Time{}, nil)
		return
	}
	var lasts []time.Time
	var srcs []netip.Addr
	var macs []obs.MAC
	for _, r := range owners {
		lasts = append(lasts, r.lastAny)
		srcs = append(srcs, r.ip)
		macs = append(macs, r.mac)
	}
	slices.SortFunc(lasts, func(a, b time.Time) int { return b.Compare(a) })
	expiry = lasts[1].Add(e.p.RouterTimeout)
	srcs = sortedAddrs(srcs)
	vips := segVIPs(s)
	e.set(k, now, true, expiry, func(f *Finding) {
		f.Sources, f.MACs, f.VIPs = capAddrs(srcs), capMACs(macs), capAddrs(vips)
		f.Message = vridText(s) + ": " + addrList(srcs) + " all advertise priority 255 (address owner); only the router that really owns the addresses may — lower the priority on the others"
		f.Fingerprint = fingerprint(OwnerConflict, s.key.fam, s.key.vrid, addrsKey(vips))
	})
}

// agree reports whether all routers of s have the same configuration keys
// (so no subset of them disagrees) and at most one advertises priority
// 255; the answer is cached in the segment.
func agree(s *segment) bool {
	if s.agreement == 0 {
		s.agreement = -1
		if agreeing(s.list) {
			s.agreement = 1
		}
	}
	return s.agreement > 0
}

func agreeing(rs []*router) bool {
	owners := 0
	for _, o := range rs {
		if o.prio == 255 {
			owners++
		}
		if r := rs[0]; o != r && (o.keyHash != r.keyHash || o.authKey != r.authKey || o.versionKey != r.versionKey ||
			o.intervalKey != r.intervalKey || o.vipsKey != r.vipsKey) {
			return false
		}
	}
	return owners < 2
}

// checkExpected compares a router's advert with the expected configuration.
func (e *Engine) checkExpected(s *segment, r *router, now time.Time) {
	x, idx := e.expectedFor(s.key)
	if x == nil {
		return
	}
	e.expSeen[idx] = true
	e.set(fkey{kind: NoMaster, iface: x.Interface, fam: x.Family, vrid: x.VRID, sub: "expected"}, now, false, time.Time{}, nil)
	expiry := r.lastAny.Add(e.p.RouterTimeout)
	where := ""
	if x.source != "" {
		where = " (" + x.source + ")"
	}
	one := func(kind Kind, bad bool, msg string) {
		k := fkey{kind: kind, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid, sub: "expect", addr: r.ip}
		if !bad {
			e.set(k, now, false, time.Time{}, nil)
			return
		}
		e.set(k, now, true, expiry, func(f *Finding) {
			f.Sources, f.MACs, f.VIPs = []netip.Addr{r.ip}, []obs.MAC{r.mac}, capAddrs(slices.Clone(r.vips)) // r.vips is reused
			f.Message = msg
			f.Fingerprint = fingerprint(kind, s.key.fam, s.key.vrid, "expect", r.ip.String())
		})
	}
	vr := vridText(s)
	if x.Version != 0 {
		one(VersionMismatch, r.version != x.Version, fmt.Sprintf("%s advertises %s with VRRPv%d, the config%s expects v%d — fix version / vrrp_version on that node",
			r.ip, vr, r.version, where, x.Version))
	}
	if x.Interval != 0 {
		one(IntervalMismatch, r.interval != x.Interval, fmt.Sprintf("%s advertises %s every %v, the config%s expects %v — fix advert_int on that node",
			r.ip, vr, r.interval, where, x.Interval))
	}
	if x.HasAuth && r.version == 2 {
		bad := r.authType != x.AuthType || (x.AuthType == vrrp.AuthSimple && x.AuthDigest != "" && vrrp.AuthDigest(r.authData) != x.AuthDigest)
		one(AuthMismatch, bad, fmt.Sprintf("%s advertises %s with authentication %s (digest %s), the config%s expects %s (digest %s) — fix authentication on that node",
			r.ip, vr, r.authType, vrrp.AuthDigest(r.authData), where, x.AuthType, x.AuthDigest))
	}
	if len(x.VIPs) > 0 {
		one(VRIDConflict, addrsKey(x.VIPs) != r.vipsKey, fmt.Sprintf("%s advertises %s with addresses [%s], the config%s expects [%s] — another cluster uses this VRID, or virtual_ipaddress differs on that node",
			r.ip, vr, addrList(r.vips), where, addrList(x.VIPs)))
	}
	if len(x.Peers) > 0 {
		k := fkey{kind: UnexpectedRouter, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid, addr: r.ip}
		if slices.Contains(x.Peers, r.ip) {
			e.set(k, now, false, time.Time{}, nil)
		} else {
			e.set(k, now, true, expiry, func(f *Finding) {
				f.Sources, f.MACs, f.VIPs = []netip.Addr{r.ip}, []obs.MAC{r.mac}, capAddrs(slices.Clone(r.vips)) // r.vips is reused
				f.Message = fmt.Sprintf("%s (%s) advertises %s but the config%s names only %s — a third node, a cloned VM or a forged sender joined this virtual router",
					r.ip, r.mac, vr, where, addrList(x.Peers))
				f.Fingerprint = fingerprint(UnexpectedRouter, s.key.fam, s.key.vrid, r.ip.String())
			})
		}
	}
}

// checkVRIDMismatch: the addresses a router advertises are also advertised
// under another VRID, or the config expects them under another VRID.
func (e *Engine) checkVRIDMismatch(iface string, fam vrrp.Family, r *router, now time.Time) {
	for i, v := range r.vips {
		vi := r.vis[i]
		if vi == nil || vi.gone || vi.key != (vipKey{iface, v}) {
			vi = e.vips.get(vipKey{iface, v})
		}
		if vi == nil {
			continue
		}
		if len(vi.vrids) == 1 && e.activeVRID[0] == 0 && !e.exhaustive {
			// Advertised under r's VRID alone (noted just now): a finding
			// needs a configuration that expects another VRID for it, and
			// there is none active to clear (their keys have VRID 0).
			if x := e.expectedByVIP(iface, v); x == nil || x.VRID == vi.vrids[0].id || (x.Family != fam && x.Family != vrrp.FamilyUnknown) {
				continue
			}
		}
		var vb [maxVRIDsPerVIP]int
		vrids := vb[:0]
		var last, second time.Time // the two latest times of the VRIDs (equal if tied)
		for _, x := range vi.vrids {
			if now.Sub(x.t) <= e.p.RouterTimeout {
				vrids = append(vrids, int(x.id))
				if x.t.After(last) {
					last, second = x.t, last
				} else if x.t.After(second) {
					second = x.t
				}
			}
		}
		k := fkey{kind: VRIDMismatch, iface: iface, fam: fam, addr: v}
		x := e.expectedByVIP(iface, v)
		if len(vrids) >= 2 {
			expiry := second.Add(e.p.RouterTimeout)
			vv := v
			var srcs []netip.Addr
			var macs []obs.MAC
			var msg string
			describe := func() {
				var who []string
				for _, id := range vrids {
					if s := e.seg(segKey{iface, fam, uint8(id)}); s != nil {
						for _, rr := range s.list {
							if e.recent(rr, now) && slices.Contains(rr.vips, vv) {
								who = append(who, fmt.Sprintf("%s under VRID %d", rr.ip, id))
								srcs = append(srcs, rr.ip)
								macs = append(macs, rr.mac)
							}
						}
					}
				}
				slices.Sort(who)
				msg = fmt.Sprintf("%s is advertised under %d VRIDs on %s (%s): each side thinks it is alone, a split brain — make virtual_router_id identical on the nodes of the cluster",
					vv, len(vrids), iface, strings.Join(who, ", "))
				if x != nil {
					var wrong []string
					for _, id := range vrids {
						if uint8(id) == x.VRID {
							continue
						}
						if s := e.seg(segKey{iface, fam, uint8(id)}); s != nil {
							for _, rr := range s.list {
								if e.recent(rr, now) && slices.Contains(rr.vips, vv) {
									wrong = append(wrong, fmt.Sprintf("%s advertises VRID %d for %s", rr.ip, id, vv))
								}
							}
						}
					}
					slices.Sort(wrong)
					msg = fmt.Sprintf("%s, the config (%s) expects %d — fix virtual_router_id on that node; until then each side thinks it is alone, a split brain",
						strings.Join(wrong, "; "), x.source, x.VRID)
				}
			}
			e.set(k, now, true, expiry, func(f *Finding) {
				slices.Sort(vrids) // only for the details
				describe()
				f.VRID = uint8(vrids[0])
				f.Sources, f.MACs, f.VIPs = capAddrs(sortedAddrs(srcs)), capMACs(macs), []netip.Addr{vv}
				f.Message = msg
				f.Fingerprint = fingerprint(VRIDMismatch, fam, 0, vv.String())
			})
			continue
		}
		if x != nil && len(vrids) == 1 && uint8(vrids[0]) != x.VRID && (x.Family == fam || x.Family == vrrp.FamilyUnknown) {
			vv := v
			e.set(k, now, true, r.lastAny.Add(e.p.RouterTimeout), func(f *Finding) {
				f.VRID = uint8(vrids[0])
				f.Sources, f.MACs, f.VIPs = []netip.Addr{r.ip}, []obs.MAC{r.mac}, []netip.Addr{vv}
				f.Message = fmt.Sprintf("%s advertises VRID %d for %s, the config (%s) expects %d — fix virtual_router_id on that node",
					r.ip, vrids[0], vv, x.source, x.VRID)
				f.Fingerprint = fingerprint(VRIDMismatch, fam, 0, vv.String())
			})
			continue
		}
		e.set(k, now, false, time.Time{}, nil)
	}
}

// checkFlapping counts master changes within the flap window.
func (e *Engine) checkFlapping(s *segment, now time.Time) {
	var in []time.Time
	for _, t := range s.changes {
		if now.Sub(t) <= e.p.FlapWindow {
			in = append(in, t)
		}
	}
	k := fkey{kind: MasterFlapping, iface: s.key.iface, fam: s.key.fam, vrid: s.key.vrid}
	if len(in) < e.p.FlapThreshold {
		e.set(k, now, false, time.Time{}, nil)
		return
	}
	// The count drops below the threshold when the change that made it
	// reach the threshold leaves the window.
	expiry := in[len(in)-e.p.FlapThreshold].Add(e.p.FlapWindow)
	n := len(in)
	e.set(k, now, true, expiry, func(f *Finding) {
		// Built here, only when the finding is raised or refreshed.
		vips := segVIPs(s)
		var srcs []netip.Addr
		var macs []obs.MAC
		for _, r := range s.list {
			srcs = append(srcs, r.ip)
			macs = append(macs, r.mac)
		}
		f.Sources, f.MACs, f.VIPs = capAddrs(sortedAddrs(srcs)), capMACs(macs), capAddrs(vips)
		f.Message = fmt.Sprintf("the master of %s changed %d times within %v: a node keeps crashing or restarting, a track_script flaps, or advertisements are being lost — check keepalived's logs and the link",
			vridText(s), n, e.p.FlapWindow)
		f.Fingerprint = fingerprint(MasterFlapping, s.key.fam, s.key.vrid, addrsKey(vips))
	})
}

// claimVIP handles an ARP or ND packet in which mac claims addr; announce
// says whether it also tells the hosts of the segment to use mac for addr
// (see arpAnnounces).
func (e *Engine) claimVIP(iface string, addr netip.Addr, mac obs.MAC, announce bool, now time.Time) {
	if !addr.IsValid() {
		return
	}
	fam := vrrp.FamilyOf(addr)
	vi := e.vips.get(vipKey{iface, addr})
	if vi == nil {
		if e.expectedByVIP(iface, addr) == nil {
			return // not a virtual address we know of
		}
		vi = e.vipInfo(iface, addr, now)
	}
	e.seenVIP(vi, now)
	if vi.claims == nil {
		vi.claims = map[obs.MAC]claim{}
	}
	c, ok := vi.claims[mac]
	if !ok || now.Sub(c.last) > e.p.QuietPeriod {
		if !ok && len(vi.claims) >= 8 {
			for m := range vi.claims { // drop one; the table stays small
				delete(vi.claims, m)
				break
			}
		}
		c.first = now
	}
	c.last = now
	vi.claims[mac] = c
	if announce {
		vi.annMAC, vi.annAt = mac, now
		if vi.stale {
			e.checkStale(fkey{kind: StaleAnnouncement, iface: iface, fam: fam, vrid: vi.staleVRID, addr: addr}, now)
		}
	}

	seg := e.vipSegment(iface, fam, vi, now)
	if seg == nil {
		// Not advertised (virtual_ipaddress_excluded): the configured VRID.
		if x := e.expectedByVIP(iface, addr); x != nil {
			seg = e.seg(segKey{iface, fam, x.VRID})
		}
	}
	if seg == nil {
		return // advertised by nobody we know (yet): no master to compare with
	}
	m := addrMaster(seg, addr, now)
	vmac := vmacFor(fam, seg.key.vrid)
	if m == nil || !fresh(m, now) || m.mac == mac || mac == vmac {
		return // the master's own claim, or a takeover in progress
	}
	var claimant *router
	for _, r := range seg.list {
		if r.mac == mac && r != m {
			claimant = r
		}
	}
	vi.suspect = true
	if e.p.ProbeInterval > 0 && vi.probeSent.IsZero() && vi.nextProbe.After(now.Add(e.p.ProbeInterval/5)) {
		vi.nextProbe = now.Add(e.p.ProbeInterval / 5) // confirm soon
	}
	if claimant != nil && !claimant.last.IsZero() && now.Sub(claimant.last) <= e.p.RouterTimeout && !claimant.resigned {
		k := fkey{kind: DuplicateMaster, iface: seg.key.iface, fam: seg.key.fam, vrid: seg.key.vrid}
		e.raiseDuplicate(seg, k, now, now.Add(e.p.QuietPeriod-e.p.ResolveHold), c.first, []*router{m, claimant}, nil,
			fmt.Sprintf("%s still answers for %s although %s is advertising", claimant.ip, addr, m.ip))
		return
	}
	k := fkey{kind: VIPOnBackup, iface: iface, fam: fam, vrid: seg.key.vrid, addr: addr}
	holder := mac.String()
	if claimant != nil {
		holder = claimant.ip.String() + " (" + mac.String() + ")"
	}
	e.set(k, now, true, now.Add(e.p.QuietPeriod-e.p.ResolveHold), func(f *Finding) {
		f.Sources = []netip.Addr{m.ip}
		if claimant != nil {
			f.Sources = sortedAddrs([]netip.Addr{m.ip, claimant.ip})
		}
		f.MACs = capMACs(append(f.MACs, mac, m.mac))
		f.VIPs = []netip.Addr{addr}
		if f.Message == "" {
			f.Message = fmt.Sprintf("%s (%s) is announced by %s, which is not the master %s: the address is configured by hand or left behind on that host, or conflicts with another host — check `ip addr` there and remove it",
				addr, vridText(seg), holder, routerText(m))
		}
		f.Fingerprint = fingerprint(VIPOnBackup, fam, seg.key.vrid, addr.String())
	})
}

// vmacFor is the virtual router MAC of RFC 5798 section 7.3 (keepalived
// use_vmac).
func vmacFor(fam vrrp.Family, vrid uint8) obs.MAC {
	if fam == vrrp.IPv6 {
		return obs.MAC{0, 0, 0x5e, 0, 2, vrid}
	}
	return obs.MAC{0, 0, 0x5e, 0, 1, vrid}
}

// expectedNeverSeen raises no_master for configured VRIDs that never
// advertised within their master-down interval plus margin of start.
func (e *Engine) expectedNeverSeen(now time.Time) {
	for i := range e.expected {
		if e.expSeen[i] {
			continue
		}
		x := &e.expected[i]
		iv := x.Interval
		if iv == 0 {
			iv = time.Second
		}
		deadline := e.start.Add(masterDown(iv) + e.p.NoMasterMargin)
		if now.Before(deadline) {
			continue
		}
		// Seen under any interface?
		seen := false
		for k := range e.segs {
			if x.matches(k.iface, k.fam, k.vrid) {
				seen = true
				break
			}
		}
		if seen {
			e.expSeen[i] = true
			continue
		}
		e.expSeen[i] = true // raise once; resolved by its first advert
		k := fkey{kind: NoMaster, iface: x.Interface, fam: x.Family, vrid: x.VRID, sub: "expected"}
		xx := x
		e.set(k, deadline, true, deadline.Add(100*365*24*time.Hour), func(f *Finding) {
			f.VIPs = capAddrs(xx.VIPs)
			f.Sources = capAddrs(xx.Peers)
			f.FirstSeen = e.start
			f.Message = fmt.Sprintf("configured VRID %d (%s) has not advertised since vrrpguard started: no node is master for %s — check that keepalived runs and that the interface and VRID are right",
				xx.VRID, xx.source, addrList(xx.VIPs))
			f.Fingerprint = fingerprint(NoMaster, xx.Family, xx.VRID, addrsKey(xx.VIPs))
		})
	}
}

// overlap reports whether two sorted address lists share an address.
func overlap(a, b []netip.Addr) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := a[i].Compare(b[j]); {
		case c == 0:
			return true
		case c < 0:
			i++
		default:
			j++
		}
	}
	return false
}

// addrMaster is the master that holds addr: the segment's master if it
// advertises addr, else (two clusters sharing a VRID) the most recent fresh
// router that advertises it.
func addrMaster(seg *segment, addr netip.Addr, now time.Time) *router {
	m := seg.master
	if m == nil || slices.Contains(m.vips, addr) || len(m.vips) == 0 {
		return m
	}
	var best *router
	for _, r := range seg.list {
		if fresh(r, now) && slices.Contains(r.vips, addr) && (best == nil || r.last.After(best.last)) {
			best = r
		}
	}
	if best == nil {
		return m
	}
	return best
}
