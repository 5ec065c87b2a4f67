package rules

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestSkipsChangeNothing drives an engine and an exhaustive one (every
// timer walk and comparison run, none of the hot path's skips) with the
// same random scripts — routers on a few VRIDs and two interfaces whose
// priority, version, authentication, interval, addresses and VRID change,
// that fall silent and come back, bad and out-of-order packets, ARP and ND
// claims, expectations and reloads, local facts, probes, small caps,
// clocks far from today; a third of them calm — and requires the same outputs from every call,
// the same counters and the same final snapshot.
func TestSkipsChangeNothing(t *testing.T) {
	seeds, steps := 60, 3000
	if testing.Short() {
		seeds = 10
	}
	for seed := 1; seed <= seeds; seed++ {
		diffScript(t, uint64(seed), steps)
		if t.Failed() {
			return
		}
	}
}

// diffScript runs one random script (see TestSkipsChangeNothing).
func diffScript(t *testing.T, seed uint64, steps int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	p := DefaultParams()
	if rng.IntN(3) == 0 {
		p.ProbeInterval = time.Duration(1+rng.IntN(5)) * time.Second
	}
	if rng.IntN(3) == 0 {
		p.MaxRouters = 6 + rng.IntN(10)
		p.MaxSegments = 3 + rng.IntN(5)
		p.MaxVIPs = 3 + rng.IntN(6)
		p.MaxRoutersPerSegment = 2 + rng.IntN(4)
	}
	if rng.IntN(2) == 0 {
		p.FlapThreshold = 2 + rng.IntN(3)
		p.FlapWindow = time.Duration(5+rng.IntN(60)) * time.Second
		p.RouterTimeout = time.Duration(3+rng.IntN(60)) * time.Second
		p.ResolveHold = time.Duration(rng.IntN(6)) * time.Second
		p.QuietPeriod = time.Duration(6+rng.IntN(60)) * time.Second
	}
	ifaces := []string{"eth0", "eth1"}
	var vrids []uint8
	for range 1 + rng.IntN(4) {
		vrids = append(vrids, uint8(1+rng.IntN(6)))
	}
	var pool4, pool6 []netip.Addr
	for i := range 6 {
		pool4 = append(pool4, netip.AddrFrom4([4]byte{10, 0, 0, byte(100 + i)}))
		pool6 = append(pool6, netip.MustParseAddr("fd00::"+strconv.Itoa(100+i)))
	}
	type sender struct {
		src      netip.Addr
		mac      obs.MAC
		iface    string
		vrid     uint8
		prio     uint8
		version  uint8
		interval time.Duration
		auth     vrrp.AuthType
		pw       string
		vips     []netip.Addr
		on       bool
		once     bool // turns off after its next advert
		next     time.Time
	}
	intervals := []time.Duration{time.Second, 100 * time.Millisecond, 10 * time.Millisecond, 3 * time.Second}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	switch seed % 4 {
	case 1:
		now = time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)
	case 2:
		now = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var rs []*sender
	for i := range 2 + rng.IntN(5) {
		v6 := rng.IntN(5) == 0
		r := &sender{src: netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i)}), mac: obs.MAC{2, 0, 0, 0, 0, byte(1 + i)},
			iface: ifaces[rng.IntN(len(ifaces))], vrid: vrids[rng.IntN(len(vrids))], prio: uint8(50 + rng.IntN(150)),
			version: uint8(2 + rng.IntN(2)), interval: intervals[rng.IntN(2)], on: rng.IntN(3) > 0,
			next: now.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)}
		pool := pool4
		if v6 {
			r.src, r.version, pool = netip.MustParseAddr("fe80::"+strconv.Itoa(1+i)), 3, pool6
		}
		for range 1 + rng.IntN(3) {
			r.vips = append(r.vips, pool[rng.IntN(3)])
		}
		rs = append(rs, r)
	}
	expectations := func() []Expected {
		var xs []Expected
		for i := range rng.IntN(3) {
			r := rs[rng.IntN(len(rs))]
			x := Expected{Interface: r.iface, Family: vrrp.FamilyOf(r.src), VRID: r.vrid, Sources: []string{"k.conf:" + strconv.Itoa(i)}}
			if rng.IntN(2) == 0 {
				x.VRID = vrids[rng.IntN(len(vrids))]
			}
			if rng.IntN(2) == 0 {
				x.Interface = ""
			}
			if rng.IntN(2) == 0 {
				x.Version = r.version
			}
			if rng.IntN(2) == 0 {
				x.Interval = intervals[rng.IntN(2)]
			}
			if rng.IntN(2) == 0 {
				x.VIPs, x.VIPsKnown = append([]netip.Addr(nil), r.vips...), true
			}
			if rng.IntN(3) == 0 {
				x.HasAuth, x.AuthType, x.AuthDigest = true, vrrp.AuthSimple, vrrp.AuthDigest(vrrp.PasswordAuthData("pw1"))
			}
			if rng.IntN(3) == 0 {
				x.Peers = []netip.Addr{rs[0].src, rs[1].src}
			}
			if rng.IntN(4) == 0 {
				x.ExcludedVIPs = []netip.Addr{pool4[4]}
			}
			xs = append(xs, x)
		}
		return xs
	}
	// A calm script: a healthy segment whose backups advertised once at
	// the start, and now and then a change of the master's configuration,
	// with nothing else going on.
	calm := seed%3 == 0
	var exp []Expected
	if calm {
		for i, r := range rs[1:] {
			r.iface, r.vrid, r.version, r.interval, r.vips = rs[0].iface, rs[0].vrid, rs[0].version, rs[0].interval, rs[0].vips
			r.src, r.prio, r.on, r.once = netip.AddrFrom4([4]byte{10, 0, 0, byte(2 + i)}), rs[0].prio-1, true, true
		}
		rs[0].src, rs[0].on = netip.AddrFrom4([4]byte{10, 0, 0, 1}), true
	} else {
		exp = expectations()
	}
	fast, err := New(p, exp)
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := New(p, exp)
	slow.exhaustive = true
	step := 0
	same := func(what string, f func(*Engine) []Output) {
		a, b := f(fast), f(slow)
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Errorf("seed %d step %d (%s): outputs differ\n  with the skips: %s\n  exhaustive:     %s", seed, step, what, ja, jb)
		}
	}
	for ; step < steps && !t.Failed(); step++ {
		bi := 0
		for i, r := range rs {
			if r.next.Before(rs[bi].next) {
				bi = i
			}
		}
		r := rs[bi]
		x := rng.IntN(1000)
		if calm && x >= 5 && x < 125 && (x < 30 || x >= 33) {
			x = 999 // an advert
		}
		switch {
		case x < 5:
			now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
			same("tick", func(e *Engine) []Output { return e.Tick(now) })
			continue
		case x < 30:
			rs[rng.IntN(len(rs))].on = rng.IntN(2) == 0
		case x < 60:
			c := rs[rng.IntN(len(rs))]
			if calm {
				c = rs[0]
			}
			switch rng.IntN(9) {
			case 0:
				c.prio = uint8(rng.IntN(256))
			case 1:
				c.prio = 0
			case 2:
				c.prio = 255
			case 3:
				c.version = uint8(2 + rng.IntN(2))
			case 4:
				c.interval = intervals[rng.IntN(len(intervals))]
			case 5:
				c.auth, c.pw = vrrp.AuthType(rng.IntN(3)), []string{"pw1", "pw2"}[rng.IntN(2)]
			case 6:
				c.vips = nil
				for range rng.IntN(4) {
					c.vips = append(c.vips, pool4[rng.IntN(4)])
				}
			case 7:
				c.vrid = vrids[rng.IntN(len(vrids))]
			case 8:
				c.vips = append([]netip.Addr(nil), c.vips...)
				rng.Shuffle(len(c.vips), func(i, j int) { c.vips[i], c.vips[j] = c.vips[j], c.vips[i] })
			}
		case x < 63:
			xs := expectations()
			fast.SetExpected(xs, now)
			slow.SetExpected(xs, now)
			continue
		case x < 66:
			c := rs[rng.IntN(len(rs))]
			var f LocalFact
			switch rng.IntN(3) {
			case 0:
				f = LocalDemoted{Instance: "VI", Interface: c.iface, VRID: c.vrid, VIPs: c.vips, Rival: c.src, RivalMAC: c.mac, RivalPriority: c.prio, Reason: "r", Evidence: "e"}
			case 1:
				f = LocalResumed{Instance: "VI", Interface: c.iface, VRID: c.vrid, Reason: "back"}
			default:
				f = LocalVIPOnBackup{Instance: "VI", Interface: c.iface, VRID: c.vrid, VIP: pool4[rng.IntN(3)], MAC: c.mac, Removed: rng.IntN(2) == 0}
			}
			same("local fact", func(e *Engine) []Output {
				outs, err := e.Local(now, f)
				if err != nil {
					t.Fatal(err)
				}
				return outs
			})
			continue
		case x < 120:
			c := rs[rng.IntN(len(rs))]
			o := obs.Observation{Time: now.Add(time.Duration(rng.IntN(50)) * time.Millisecond), Interface: c.iface, SrcMAC: c.mac}
			if rng.IntN(4) == 0 {
				o.SrcMAC = obs.MAC{2, 9, 9, 9, 9, byte(rng.IntN(3))}
			}
			if rng.IntN(4) == 0 {
				o.Kind, o.Family = obs.KindND, vrrp.IPv6
				o.ND = obs.NDInfo{Target: pool6[rng.IntN(3)], TargetMAC: o.SrcMAC, Solicited: rng.IntN(2) == 0}
			} else {
				v := pool4[rng.IntN(5)]
				o.Kind, o.Family = obs.KindARP, vrrp.IPv4
				o.ARP = obs.ARPInfo{Op: obs.ARPOp(1 + rng.IntN(2)), SenderIP: v, SenderMAC: o.SrcMAC, TargetIP: v, Gratuitous: rng.IntN(2) == 0}
				if rng.IntN(5) == 0 {
					o.ARP.TargetIP = netip.IPv4Unspecified()
				}
			}
			now = later(now, o.Time)
			same("claim", func(e *Engine) []Output { oo := o; return e.Observe(&oo) })
			continue
		case x < 125:
			o := obs.Observation{Kind: obs.KindInvalid, Time: now, Interface: "eth0", SrcMAC: obs.MAC{2, 0, 0, 0, 0, 7}, Src: netip.AddrFrom4([4]byte{10, 0, 0, 7}), Family: vrrp.IPv4}
			same("malformed", func(e *Engine) []Output { oo := o; return e.Observe(&oo) })
			continue
		}
		when := later(now, r.next)
		jitter := time.Duration(rng.IntN(int(r.interval/10)+1)) - r.interval/20
		if rng.IntN(50) == 0 {
			jitter += time.Duration(rng.IntN(5000)) * time.Millisecond
		}
		r.next = when.Add(r.interval + jitter)
		if !r.on {
			continue
		}
		r.on = !r.once
		now = when
		fam := vrrp.FamilyOf(r.src)
		o := obs.Observation{Kind: obs.KindAdvert, Time: when, Interface: r.iface, SrcMAC: r.mac, Src: r.src, Family: fam, TTL: vrrp.TTL, Checksum: vrrp.ChecksumValid}
		if rng.IntN(200) == 0 {
			o.TTL = 64
		}
		if rng.IntN(200) == 0 {
			o.Checksum = vrrp.ChecksumInvalid
		}
		if rng.IntN(300) == 0 {
			o.Time = when.Add(-time.Duration(rng.IntN(3000)) * time.Millisecond) // out of order
		}
		o.Advert = vrrp.Advertisement{Version: r.version, Type: 1, VRID: r.vrid, Priority: r.prio, Interval: r.interval, Family: fam}
		if r.auth != vrrp.AuthNone {
			o.Advert.AuthType, o.Advert.AuthData = r.auth, vrrp.PasswordAuthData(r.pw)
		}
		for _, v := range r.vips {
			if v.Is6() == (fam == vrrp.IPv6) {
				o.Advert.Addresses = append(o.Advert.Addresses, v)
			}
		}
		same("advert", func(e *Engine) []Output { oo := o; return e.Observe(&oo) })
		if rng.IntN(20) == 0 {
			same("tick", func(e *Engine) []Output { return e.Tick(now) })
		}
	}
	same("last tick", func(e *Engine) []Output { return e.Tick(now.Add(10 * time.Minute)) })
	if a, b := fast.Stats(), slow.Stats(); a != b {
		t.Errorf("seed %d: stats %+v, exhaustive %+v", seed, a, b)
	}
	if a, b := fast.Snapshot(now), slow.Snapshot(now); !reflect.DeepEqual(a, b) {
		t.Errorf("seed %d: snapshots differ", seed)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
