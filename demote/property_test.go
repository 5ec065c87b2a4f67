package demote

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Pools the random scripts draw from: own addresses and MACs among them.
var (
	fuzzAddrs = []netip.Addr{lo, self, hi, netip.MustParseAddr("10.0.0.4"), netip.MustParseAddr("10.0.0.5"),
		netip.MustParseAddr("10.0.0.200"), netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("10.0.0.8")}
	fuzzMACs = []obs.MAC{loMAC, selfMAC, hiMAC, mac("02:00:00:00:00:04"), mac("02:00:00:00:00:22"), mac("02:00:00:00:00:99")}
	fuzzVIPs = []netip.Addr{vip, vip2, netip.MustParseAddr("10.0.0.20"), netip.MustParseAddr("fd00::10")}
	fuzzIvs  = []time.Duration{0, 10 * time.Millisecond, time.Second, 255 * time.Second}
)

// decodeEvent turns 4 bytes into an event and a time step.
func decodeEvent(b [4]byte, pol *Policy, now time.Time) (time.Time, Event) {
	switch {
	case b[1] == 255:
		now = now.Add(-time.Second) // the clock going backwards
	default:
		now = now.Add(time.Duration(b[1]) * 37 * time.Millisecond)
	}
	pick := func(n int) int { return int(b[2]) % n }
	switch b[0] % 7 {
	case 0:
		return now, StateChanged{State: State(b[2] % 5), Priority: b[3]}
	case 1, 2:
		e := advert(fuzzAddrs[pick(len(fuzzAddrs))], fuzzMACs[int(b[3])%len(fuzzMACs)], []uint8{51, 51, 52, b[3]}[b[3]%4], b[3]*7, b[2]&0x80 != 0)
		e.Obs.Advert.Interval = fuzzIvs[int(b[3]>>2)%len(fuzzIvs)]
		switch b[3] % 9 {
		case 0:
			e.Obs.Advert.Addresses = nil
		case 1:
			e.Obs.Advert.Addresses = []netip.Addr{fuzzVIPs[2]}
		case 2:
			e.Obs.TTL = 1
		}
		return now, e
	case 3:
		op := obs.ARPReply
		if b[3]&1 != 0 {
			op = obs.ARPRequest
		}
		return now, arp(fuzzMACs[pick(len(fuzzMACs))], fuzzVIPs[int(b[3])%len(fuzzVIPs)], op, b[3]&2 != 0)
	case 4:
		return now, Observed{Obs: obs.Observation{Kind: obs.KindND, Interface: "eth0", SrcMAC: fuzzMACs[pick(len(fuzzMACs))], Family: vrrp.IPv6,
			ND: obs.NDInfo{Target: fuzzVIPs[int(b[3])%len(fuzzVIPs)]}}}
	case 5:
		if n := pol.Next(); !n.IsZero() {
			return n, Tick{}
		}
		return now, Tick{}
	}
	return now, Observed{Obs: obs.Observation{Kind: obs.Kind(b[2] % 6), Interface: []string{"eth0", "eth1", ""}[b[3]%3]}}
}

// checkScript runs a byte script through a policy and checks the
// invariants that hold whatever arrives.
// It returns the number of demotions.
func checkScript(t *testing.T, data []byte) int {
	in := instance(func(in *Instance) {
		in.VIPs = []netip.Addr{vip, vip2}
		in.Addrs = []netip.Addr{netip.MustParseAddr("10.0.0.200")}
		in.MACs = []obs.MAC{selfMAC, mac("02:00:00:00:00:22")}
	})
	params := Params{MaxRivals: 4, Hold: 3 * time.Second, Recent: 30 * time.Second}
	pol, err := New(in, params)
	if err != nil {
		t.Fatal(err)
	}
	// twin is fed observations through Observe instead of Step.
	twin, err := New(in, params)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	state := Init
	demoted, demotes := false, 0
	for len(data) >= 4 {
		var b [4]byte
		copy(b[:], data)
		data = data[4:]
		var ev Event
		now, ev = decodeEvent(b, pol, now)
		if sc, ok := ev.(StateChanged); ok {
			state = sc.State
		}
		out := pol.Step(now, ev)
		var twinOut []Action
		if o, ok := ev.(Observed); ok {
			twinOut = twin.Observe(now, &o.Obs, o.Accepted, o.Reject)
		} else {
			twinOut = twin.Step(now, ev)
		}
		if fmt.Sprint(out) != fmt.Sprint(twinOut) {
			t.Fatalf("%v: Step gave %v, Observe %v", now, out, twinOut)
		}
		for _, a := range out {
			switch a := a.(type) {
			case Demote:
				if demoted {
					t.Fatalf("%v: Demote while demoted", now)
				}
				if state != Master {
					t.Fatalf("%v: Demote of an instance in %s", now, state)
				}
				e := a.Evidence
				if !e.Rival.IsValid() || e.Rival == self || e.Rival == in.Addrs[0] || e.MAC == selfMAC || e.MAC == in.MACs[1] {
					t.Fatalf("%v: Demote because of %s (%s): not a rival", now, e.Rival, e.MAC)
				}
				if e.Claim == "" || a.Reason == "" {
					t.Fatalf("%v: Demote without a claim: %v", now, a)
				}
				demoted = true
				demotes++
			case Resume:
				if !demoted {
					t.Fatalf("%v: Resume while not demoted", now)
				}
				demoted = false
			case Probe:
				if !demoted && pol.Mode() == Normal {
					t.Fatalf("%v: Probe in mode normal", now)
				}
			}
		}
		if got := pol.Mode() == Demoted; got != demoted {
			t.Fatalf("%v: mode %s after Demote/Resume say demoted=%v", now, pol.Mode(), demoted)
		}
		if n := pol.Next(); !n.IsZero() && !n.After(pol.now) {
			t.Fatalf("%v: Next() = %v, not after the last step", now, n)
		}
		if s := pol.Snapshot(); len(s.Rivals) > 4 {
			t.Fatalf("%v: %d routers tracked, cap 4", now, len(s.Rivals))
		}
	}
	return demotes
}

func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 0, 2, 100, 1, 10, 0x82, 200, 5, 0, 0, 0, 5, 0, 0, 0})
	f.Add([]byte{0, 0, 2, 100, 1, 10, 2, 30, 3, 5, 2, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0})
	f.Add([]byte{0, 0, 2, 100, 2, 10, 0, 14, 0, 1, 1, 0, 5, 0, 0, 0, 0, 255, 2, 0, 5, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) { checkScript(t, data) })
}

// TestRandomScripts runs the fuzz invariants over many seeded random
// scripts, so plain `go test` explores more than the seed corpus.
func TestRandomScripts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	demotes := 0
	for range 3000 {
		data := make([]byte, 4*(10+r.IntN(200)))
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		// Mostly MASTER, so demotions happen.
		data[0], data[2] = 0, 2
		demotes += checkScript(t, data)
	}
	t.Logf("%d demotions", demotes)
	if demotes == 0 {
		t.Fatal("no random script demoted: the invariants were never exercised")
	}
}
