package rules

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestVIPTableMatchesMap: random puts, gets and deletes on a few
// interfaces (small address space, so probe chains collide, wrap around
// and shift back) give the same answers as a map.
func TestVIPTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tab := newVIPTable()
	ref := map[vipKey]*vipInfo{}
	ifaces := []string{"eth0", "eth1", "eth0.100"}
	key := func() vipKey {
		var a netip.Addr
		switch rng.IntN(3) {
		case 0:
			a = netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
		case 1:
			a = netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(rng.IntN(256))})
		default:
			a = netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(rng.IntN(256))}).WithZone(ifaces[rng.IntN(2)])
		}
		return vipKey{ifaces[rng.IntN(len(ifaces))], a}
	}
	for step := 0; step < 200_000; step++ {
		k := key()
		got, want := tab.get(k), ref[k]
		if got != want {
			t.Fatalf("step %d: get(%v) = %p, want %p", step, k, got, want)
		}
		switch {
		case want == nil && rng.IntN(3) > 0:
			vi := &vipInfo{key: k}
			tab.put(vi, tab.hash(k))
			ref[k] = vi
		case want != nil && rng.IntN(2) == 0:
			tab.del(want)
			delete(ref, k)
		}
		if tab.len() != len(ref) {
			t.Fatalf("step %d: %d entries, want %d", step, tab.len(), len(ref))
		}
	}
	for k, vi := range ref {
		if tab.get(k) != vi {
			t.Errorf("%v lost", k)
		}
		tab.del(vi)
	}
	if tab.len() != 0 || slices.ContainsFunc(tab.hashes, func(h uint32) bool { return h != 0 }) {
		t.Errorf("after deleting everything: %d entries left", tab.len())
	}
}

// TestRouterIndexMatchesMap: the same for a segment's index of routers.
func TestRouterIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	h := newAddrHasher()
	var x routerIndex
	ref := map[netip.Addr]*router{}
	for step := 0; step < 100_000; step++ {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(200))})
		if rng.IntN(4) == 0 {
			ip = netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(rng.IntN(200))}).WithZone("eth0")
		}
		got, want := x.get(ip, fold(h.addr(ip))), ref[ip]
		if got != want {
			t.Fatalf("step %d: get(%v) = %p, want %p", step, ip, got, want)
		}
		switch {
		case want == nil && rng.IntN(3) > 0:
			r := &router{ip: ip, hash: fold(h.addr(ip))}
			x.put(r)
			ref[ip] = r
		case want != nil && rng.IntN(2) == 0:
			x.del(want)
			delete(ref, ip)
		}
		if x.n != len(ref) {
			t.Fatalf("step %d: %d routers, want %d", step, x.n, len(ref))
		}
	}
}

// TestAddrsKey: the key of an address list is the addresses' text joined
// by commas.
func TestAddrsKey(t *testing.T) {
	for _, a := range [][]netip.Addr{
		nil,
		{netip.MustParseAddr("10.0.0.1")},
		{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.2"), netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("2001:db8::1")},
		{{}, netip.MustParseAddr("192.168.255.255")},
	} {
		var want []string
		for _, x := range a {
			want = append(want, x.String())
		}
		if got := addrsKey(a); got != strings.Join(want, ",") {
			t.Errorf("addrsKey(%v) = %q, want %q", a, got, strings.Join(want, ","))
		}
	}
}

// TestFloodBookkeeping feeds random adverts (sources, configurations,
// resignations, priorities 255) into small tables, so that routers and
// addresses are evicted all the time, and checks after every advert what
// the faster structures must agree with: each segment's list by last
// advert holds its routers, most recent first; its configuration summary
// counts what a scan of its routers counts; the most recent router that
// differs from the advertiser, found through them, is the one a scan finds;
// the address table and its list by last seen hold the same entries; the
// cache and the slots of active findings agree with their map.
func TestFloodBookkeeping(t *testing.T) {
	p := DefaultParams()
	p.MaxRoutersPerSegment, p.MaxRouters, p.MaxVIPs, p.MaxSegments = 6, 20, 40, 8
	p.RouterTimeout = 3 * time.Second
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	clock := t0
	for step := 0; step < 30_000; step++ {
		clock = clock.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
		a := ad{
			src:   "10.0.0." + string(rune('0'+rng.IntN(10))),
			vrid:  uint8(1 + rng.IntN(3)),
			prio:  []uint8{0, 100, 200, 255}[rng.IntN(4)],
			iface: []string{"eth0", "eth1"}[rng.IntN(2)],
		}
		if rng.IntN(4) == 0 {
			a.version = 3
		}
		if rng.IntN(4) == 0 {
			a.auth = "pass"
		}
		if rng.IntN(4) == 0 {
			a.interval = 2 * time.Second
		}
		for range 1 + rng.IntN(2) {
			a.vips = append(a.vips, "10.1.0."+string(rune('0'+rng.IntN(10))))
		}
		o := a.obs(0)
		o.Time = clock
		e.Observe(&o)
		checkBookkeeping(t, e, step)
		if t.Failed() {
			return
		}
	}
}

func checkBookkeeping(t *testing.T, e *Engine, step int) {
	t.Helper()
	now := e.now
	for _, s := range e.segList {
		var byLast []*router
		for r := s.newest; r != nil; r = r.older {
			byLast = append(byLast, r)
			if r.older != nil && (r.older.newer != r || r.older.lastAny.After(r.lastAny)) {
				t.Errorf("step %d: segment %v: list by last advert out of order", step, s.key)
			}
		}
		if len(byLast) != len(s.list) || (len(byLast) > 0 && (s.oldest != byLast[len(byLast)-1] || s.newest.newer != nil)) {
			t.Errorf("step %d: segment %v: %d routers by last advert, %d in the segment", step, s.key, len(byLast), len(s.list))
		}
		for _, r := range s.list {
			if !slices.Contains(byLast, r) {
				t.Errorf("step %d: segment %v: router %v missing from the list by last advert", step, s.key, r.ip)
			}
		}
		if s.routers.n != len(s.list) {
			t.Errorf("step %d: segment %v: %d routers indexed, %d in the segment", step, s.key, s.routers.n, len(s.list))
		}
		for _, r := range s.list {
			if s.routers.get(r.ip, e.routerHash(r.ip)) != r {
				t.Errorf("step %d: segment %v: router %v not found by address", step, s.key, r.ip)
			}
		}
		owners := 0
		for _, r := range s.list {
			if r.prio == 255 {
				owners++
			}
		}
		if owners != s.owners {
			t.Errorf("step %d: segment %v: %d owners counted, %d advertise 255", step, s.key, s.owners, owners)
		}
		for i := range s.cfg {
			n, same := 0, 0
			for _, r := range s.list {
				if r.resigned || (i == 0 && r.version != 2) {
					continue
				}
				n++
				if r.configKey(i) == s.cfg[i].key {
					same++
				}
			}
			if c := s.cfg[i]; c.n != n || c.same != same || (n > 0 && same == 0) {
				t.Errorf("step %d: segment %v check %d: summary n %d same %d (key %q), scan n %d same %d", step, s.key, i, c.n, c.same, c.key, n, same)
			}
		}
		r := s.lastRouter
		if r == nil || !e.recent(r, now) {
			continue
		}
		// The most recent router differing from r, by scan and through
		// the summary and the list.
		for i := range s.cfg {
			if i == 0 && r.version != 2 {
				continue
			}
			var want time.Time
			for _, o := range s.list {
				if o != r && e.recent(o, now) && (i != 0 || o.version == 2) && o.configKey(i) != r.configKey(i) && o.lastAny.After(want) {
					want = o.lastAny
				}
			}
			var got time.Time
			if !s.agree(i, r.configKey(i)) {
				for o := s.newest; o != nil; o = o.older {
					if o == r || o.resigned || (i == 0 && o.version != 2) {
						continue
					}
					if !e.recent(o, now) {
						break
					}
					if o.configKey(i) != r.configKey(i) {
						got = o.lastAny
						break
					}
				}
			}
			if !got.Equal(want) {
				t.Errorf("step %d: segment %v check %d: most recent differing router at %v, scan says %v", step, s.key, i, got, want)
			}
		}
	}
	for _, c := range e.activeCache {
		if c.a != nil && c.a.resolveAt.After(now) && e.active[c.k] != c.a {
			t.Errorf("step %d: cached finding %v is not the active one", step, c.k)
		}
	}
	for k := range e.active {
		if !e.activeSlots.maybe(&k) {
			t.Errorf("step %d: active finding %v not counted in its slot", step, k)
		}
	}
	live := 0
	for _, vi := range e.vipList {
		if vi == nil {
			continue
		}
		live++
		if i := slices.Index(e.vipList, vi); vi.idx != i || !e.vipSeen[i].Equal(vi.lastSeen) {
			t.Errorf("step %d: address %v at %d in the list, its index says %d, its time there %v, lastSeen %v", step, vi.key, i, vi.idx, e.vipSeen[i], vi.lastSeen)
		}
		if vi.gone || e.vips.get(vi.key) != vi {
			t.Errorf("step %d: address %v in the list but not in the table", step, vi.key)
		}
	}
	n := 0
	for vi := e.vipNewest; vi != nil; vi = vi.older {
		n++
		if vi.older != nil && vi.older.lastSeen.After(vi.lastSeen) {
			t.Errorf("step %d: addresses by last seen out of order", step)
		}
	}
	if live != e.vips.len() || n != live || live > e.p.MaxVIPs {
		t.Errorf("step %d: %d addresses in the table, %d in the list, %d by last seen (cap %d)", step, e.vips.len(), live, n, e.p.MaxVIPs)
	}
}

// TestFloodOutputDeterministic: two engines fed the same flood (new
// routers, evictions of routers and addresses, reuse of evicted entries)
// give the same outputs.
func TestFloodOutputDeterministic(t *testing.T) {
	run := func() []string {
		p := DefaultParams()
		p.MaxRoutersPerSegment, p.MaxRouters, p.MaxVIPs = 8, 64, 64
		e, _ := New(p, nil)
		rng := rand.New(rand.NewPCG(7, 8))
		var out []string
		for i := 0; i < 20_000; i++ {
			o := obs.Observation{Kind: obs.KindAdvert, Interface: "eth0", Family: vrrp.IPv4, TTL: vrrp.TTL, Checksum: vrrp.ChecksumValid,
				Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Time: t0.Add(time.Duration(i) * time.Millisecond),
				Advert: vrrp.Advertisement{Version: 2, VRID: uint8(1 + rng.IntN(4)), Priority: uint8(1 + rng.IntN(254)), Interval: time.Second}}
			for range 1 + rng.IntN(3) {
				o.Advert.Addresses = append(o.Advert.Addresses, netip.AddrFrom4([4]byte{172, 16, 0, byte(rng.IntN(200))}))
			}
			for _, x := range e.Observe(&o) {
				if x.Finding != nil {
					out = append(out, x.Finding.Message+x.Finding.At.String())
				}
			}
		}
		return out
	}
	a, b := run(), run()
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("two runs gave %d and %d findings, equal: %v", len(a), len(b), slices.Equal(a, b))
	}
}

// TestEvictionsTakeTheOldest: when the router or address table is full, a
// new entry evicts exactly the sixteenth that was seen longest ago, and
// among equally old entries the ones that selection over the entries in
// segment or creation order picks (what the engine did before its lists by
// last advert, so findings stay the same), with distinct and with shared
// timestamps.
func TestEvictionsTakeTheOldest(t *testing.T) {
	for _, tied := range []bool{false, true} {
		p := DefaultParams()
		p.MaxRouters, p.MaxVIPs = 48, 40
		e, err := New(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(9, 10))
		routerEvictions, vipEvictions := 0, 0
		for step := 0; step < 5000; step++ {
			// What selection would evict (computed before the advert).
			var routers []*router
			var ages []aged
			for _, s := range e.segList {
				for _, r := range s.list {
					ages = append(ages, agedAt(r.lastAny, len(routers)))
					routers = append(routers, r)
				}
			}
			// Routers by segment and address (evicted ones are reused).
			type id struct {
				s  *segment
				ip netip.Addr
			}
			var wantRouters []id
			if len(routers) > 0 {
				oldest(ages, max(1, len(ages)/16))
				for _, a := range ages[:max(1, len(ages)/16)] {
					wantRouters = append(wantRouters, id{routers[a.i].seg, routers[a.i].ip})
				}
			}
			var vips []*vipInfo
			ages = ages[:0]
			for _, vi := range e.vipList {
				if vi != nil {
					ages = append(ages, agedAt(vi.lastSeen, len(vips)))
					vips = append(vips, vi)
				}
			}
			var wantVIPs []vipKey
			if len(vips) > 0 {
				oldest(ages, max(1, len(ages)/16))
				for _, a := range ages[:max(1, len(ages)/16)] {
					wantVIPs = append(wantVIPs, vips[a.i].key)
				}
			}
			var before []id
			for _, r := range routers {
				before = append(before, id{r.seg, r.ip})
			}
			beforeVIPs := make([]vipKey, len(vips))
			for i, vi := range vips {
				beforeVIPs[i] = vi.key
			}

			when := float64(step) / 10
			if tied {
				when = float64(step/4) / 10 // four adverts at each time
			}
			a := ad{src: "10.0." + strconv.Itoa(rng.IntN(4)) + "." + strconv.Itoa(rng.IntN(40)), vrid: uint8(1 + rng.IntN(5)), prio: 100,
				vips: []string{"172.16.0." + strconv.Itoa(rng.IntN(200))}} // one: the state before the advert is the one its eviction sees
			o := a.obs(when)
			e.Observe(&o)

			var gone []id
			for _, x := range before {
				if e.seg(x.s.key) != x.s || x.s.routers.get(x.ip, e.routerHash(x.ip)) == nil {
					gone = append(gone, x)
				}
			}
			if len(gone) > 1 { // 1: the per-VRID cap (64) is not reached here
				routerEvictions++
				if !sameSet(gone, wantRouters) {
					t.Fatalf("tied %v step %d: evicted %d routers, not the %d selection picks", tied, step, len(gone), len(wantRouters))
				}
			}
			var goneVIPs []vipKey
			for _, k := range beforeVIPs {
				if e.vips.get(k) == nil {
					goneVIPs = append(goneVIPs, k)
				}
			}
			if len(goneVIPs) > 0 {
				vipEvictions++
				if !sameSet(goneVIPs, wantVIPs) {
					t.Fatalf("tied %v step %d: evicted addresses %v, selection picks %v", tied, step, goneVIPs, wantVIPs)
				}
			}
		}
		if routerEvictions < 100 || vipEvictions < 100 {
			t.Errorf("tied %v: only %d router and %d address evictions: the test does not exercise them", tied, routerEvictions, vipEvictions)
		}
	}
}

func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestVRIDEvictionTakesTheOldest: a new router in a full VRID evicts its
// least recently seen router other than the master, and among equally old
// ones the first in the VRID's list (as the scan of the list did).
func TestVRIDEvictionTakesTheOldest(t *testing.T) {
	p := DefaultParams()
	p.MaxRoutersPerSegment = 4
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	evictions := 0
	for step := 0; step < 5000; step++ {
		var want netip.Addr
		var before []netip.Addr
		if s := e.seg(segKey{"eth0", vrrp.IPv4, 51}); s != nil {
			var oldest *router
			for _, r := range s.list {
				before = append(before, r.ip)
				if r != s.master && (oldest == nil || r.lastAny.Before(oldest.lastAny)) {
					oldest = r
				}
			}
			if oldest != nil {
				want = oldest.ip
			}
		}
		o := ad{src: "10.0.0." + strconv.Itoa(rng.IntN(12)), prio: uint8(1 + rng.IntN(200))}.obs(float64(step/3) / 10)
		e.Observe(&o)
		s := e.seg(segKey{"eth0", vrrp.IPv4, 51})
		for _, ip := range before {
			if s.routers.get(ip, e.routerHash(ip)) == nil {
				evictions++
				if ip != want {
					t.Fatalf("step %d: evicted %v, want %v", step, ip, want)
				}
			}
		}
	}
	if evictions < 100 {
		t.Errorf("only %d evictions: the test does not exercise them", evictions)
	}
}
