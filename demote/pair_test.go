package demote

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// node is a participant in a two-node simulation: a VRRP router whose
// advertisements the other rejects (a password mismatch), driven by its
// policy the way the participant drives it.
type node struct {
	pol      *Policy
	addr     netip.Addr
	mac      obs.MAC
	prio     uint8
	master   bool // its election is MASTER
	demoted  bool
	crashAt  time.Duration
	nextAdv  time.Duration
	pending  []timed // observations in flight to this node
	demotes  []time.Duration
	resumes  []time.Duration
	announce []time.Duration
}

func (n *node) alive(t time.Duration) bool { return n.crashAt == 0 || t < n.crashAt }

func (n *node) holds(t time.Duration) bool { return n.alive(t) && n.master && !n.demoted }

func (n *node) step(t *testing.T, now time.Duration, ev Event, peer *node) {
	t.Helper()
	for _, a := range n.pol.Step(at(now), ev) {
		switch a := a.(type) {
		case Demote:
			n.demotes = append(n.demotes, now)
			n.demoted, n.master = true, false
			peer.pending = append(peer.pending, timed{now + time.Millisecond, advert(n.addr, n.mac, 51, 0, false)})
			n.pending = append(n.pending, timed{now, StateChanged{State: Backup}})
		case Resume:
			n.resumes = append(n.resumes, now)
			// Its election takes over: the peer's advertisements are
			// rejected, so its Master_Down_Timer has long expired.
			n.demoted, n.master = false, true
			n.nextAdv = now
			n.pending = append(n.pending, timed{now, StateChanged{State: Master}})
		case Reannounce:
			n.announce = append(n.announce, now)
		case Probe:
			if peer.holds(now) && a.VIP == vip {
				n.pending = append(n.pending, timed{now + time.Millisecond, arp(peer.mac, vip, obs.ARPReply, false)})
			}
		}
	}
}

// TestTwoParticipants: two vrrpguard participants that reject each other's
// advertisements (a password mismatch) are both MASTER. The outranked one
// yields within one interval, the other re-announces; afterwards exactly
// one holds the VIP, without flapping, until the holder crashes; then the
// other resumes within the answer window plus a probe interval.
func TestTwoParticipants(t *testing.T) {
	mk := func(addr netip.Addr, m obs.MAC, prio uint8) *node {
		pol, err := New(instance(func(in *Instance) {
			in.Primary, in.MACs, in.Priority = addr, []obs.MAC{m}, prio
		}), Params{})
		if err != nil {
			t.Fatal(err)
		}
		return &node{pol: pol, addr: addr, mac: m, prio: prio, master: true}
	}
	a := mk(hi, hiMAC, 150)
	b := mk(lo, loMAC, 100)
	a.crashAt = 60 * time.Second
	a.nextAdv = 300 * time.Millisecond // b advertises first and a sees it
	a.step(t, 0, StateChanged{State: Master, Priority: 150}, b)
	b.step(t, 0, StateChanged{State: Master, Priority: 100}, a)
	ms := time.Millisecond
	var zeroSince time.Duration = -1
	for now := ms; now <= 90*time.Second; now += ms {
		for _, pair := range [][2]*node{{a, b}, {b, a}} {
			n, peer := pair[0], pair[1]
			if !n.alive(now) {
				continue
			}
			if n.holds(now) && now >= n.nextAdv {
				peer.pending = append(peer.pending, timed{now, func() Event {
					e := advert(n.addr, n.mac, 51, n.prio, false)
					e.Obs.Time = at(now)
					return e
				}()})
				n.nextAdv = now + time.Second
			}
			for len(n.pending) > 0 && n.pending[0].at <= now {
				ev := n.pending[0].ev
				n.pending = n.pending[1:]
				n.step(t, now, ev, peer)
			}
			if next := n.pol.Next(); !next.IsZero() && !next.After(at(now)) {
				n.step(t, now, Tick{}, peer)
			}
		}
		holders := 0
		for _, n := range []*node{a, b} {
			if n.holds(now) {
				holders++
			}
		}
		switch {
		case now > 2*time.Second && now < a.crashAt && holders != 1:
			t.Fatalf("+%v: %d holders of the VIP", now, holders)
		case holders == 0 && zeroSince < 0:
			zeroSince = now
		case holders > 0 && zeroSince >= 0:
			if gap := now - zeroSince; gap > 5*time.Second+2*time.Second {
				t.Errorf("+%v: no holder for %v", now, gap)
			}
			zeroSince = -1
		}
	}
	if len(b.demotes) != 1 || b.demotes[0] != 300*ms {
		t.Errorf("the outranked node demoted at %v, want once at +300ms (the first advertisement it saw)", b.demotes)
	}
	if len(a.demotes) != 0 {
		t.Errorf("the outranking node demoted at %v, want never (its rival yields)", a.demotes)
	}
	if len(a.announce) != 1 {
		t.Errorf("the winner re-announced at %v, want once", a.announce)
	}
	if len(b.resumes) != 1 || b.resumes[0] < a.crashAt || b.resumes[0] > a.crashAt+7*time.Second {
		t.Errorf("the demoted node resumed at %v, want once within 7s of the crash at %v", b.resumes, a.crashAt)
	}
	if !b.holds(90 * time.Second) {
		t.Error("the survivor does not hold the VIP at the end")
	}
}

func TestSnapshot(t *testing.T) {
	pol, err := New(instance(nil), Params{})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration, ev Event) {
		if o, ok := ev.(Observed); ok {
			o.Obs.Time = at(d)
			ev = o
		}
		pol.Step(at(d), ev)
	}
	step(0, StateChanged{State: Master, Priority: 100})
	if s := pol.Snapshot(); s.Mode != Normal || len(s.Rivals) != 0 || s.State != Master {
		t.Fatalf("start: %+v", s)
	}
	step(sec(0.5), advert(lo, loMAC, 51, 50, false))
	s := pol.Snapshot()
	if s.Mode != Holding || !s.Since.Equal(at(sec(0.5))) || !s.HoldUntil.Equal(at(sec(10.5))) {
		t.Fatalf("holding: mode %s since %v until %v", s.Mode, rel(s.Since), rel(s.HoldUntil))
	}
	want := Rival{Addr: lo, MAC: loMAC, VRID: 51, Version: 3, Priority: 50, Interval: time.Second, Claim: ClaimRejected, Live: true,
		FirstSeen: at(sec(0.5)), LastAdvert: at(sec(0.5)), LastSeen: at(sec(0.5)), Seen: "advertisement VRID 51 priority 50 (rejected: auth mismatch)"}
	if len(s.Rivals) != 1 || s.Rivals[0] != want {
		t.Fatalf("rivals:\n got %+v\nwant %+v", s.Rivals, want)
	}
	step(sec(1.5), advert(hi, hiMAC, 51, 150, false))
	s = pol.Snapshot()
	if s.Mode != Demoted || s.Reason != ReasonOutranked || s.Cause.Rival != hi || !s.HoldUntil.IsZero() {
		t.Fatalf("demoted: %+v", s)
	}
	if len(s.Rivals) != 2 || s.Rivals[0].Addr != hi || !s.Rivals[0].Outranks || s.Rivals[1].Addr != lo || s.Rivals[1].Outranks {
		t.Fatalf("rivals not ranked highest first: %+v", s.Rivals)
	}
	step(sec(1.5), StateChanged{State: Backup})
	step(sec(1.6), advert(hi, hiMAC, 51, 0, false))
	// lo is still live (advertised at 0.5 s): no resume yet.
	if s = pol.Snapshot(); s.Mode != Demoted || !s.Rivals[0].Resigned {
		t.Fatalf("after hi resigned: %+v", s)
	}
	out := pol.Step(at(sec(0.5)+mdi50), Tick{})
	if len(out) != 1 {
		t.Fatalf("at lo's silence: %v, want one Resume", out)
	}
	if r, ok := out[0].(Resume); !ok || r.Reason != ReasonRivalSilent || r.Evidence.Rival != lo {
		t.Fatalf("at lo's silence: %v, want Resume rival_silent for %s", out, lo)
	}
	if s = pol.Snapshot(); s.Mode != Normal || s.Reason != "" {
		t.Fatalf("resumed: %+v", s)
	}
}

func TestCapOnRivals(t *testing.T) {
	pol, err := New(instance(nil), Params{})
	if err != nil {
		t.Fatal(err)
	}
	pol.Step(t0, StateChanged{State: Backup, Priority: 100})
	for i := 1; i <= 100; i++ {
		src := netip.AddrFrom4([4]byte{10, 0, 1, byte(i)})
		d := time.Duration(i) * 10 * time.Millisecond
		if out := pol.Step(at(d), advert(src, obs.MAC{2, 0, 0, 0, 1, byte(i)}, 51, 200, false)); len(out) != 0 {
			t.Fatalf("a BACKUP instance acted: %v", out)
		}
	}
	s := pol.Snapshot()
	if len(s.Rivals) != 64 {
		t.Fatalf("%d routers tracked, want the cap of 64", len(s.Rivals))
	}
	for _, r := range s.Rivals {
		if n := r.Addr.As4()[3]; n <= 36 {
			t.Errorf("router %s kept, want the 36 stalest evicted", r.Addr)
		}
	}
	// Now MASTER: the flood's routers are rivals, and the decision rests
	// on one of them.
	out := pol.Step(at(time.Second+10*time.Millisecond), StateChanged{State: Master})
	if len(out) == 0 {
		t.Fatal("MASTER with 64 live outranking rivals did not demote")
	}
	if d, ok := out[0].(Demote); !ok || d.Evidence.Rival != netip.AddrFrom4([4]byte{10, 0, 1, 100}) {
		t.Fatalf("got %v, want Demote for the highest-ranked rival 10.0.1.100", out[0])
	}
}

func TestMessages(t *testing.T) {
	e := Evidence{Rival: hi, MAC: hiMAC, VRID: 51, Priority: 150, OwnPriority: 100, VIP: vip, Reject: "auth mismatch",
		LastAdvert: at(time.Second), Seen: "advertisement VRID 51 priority 150 (rejected: auth mismatch)", SeenAt: at(time.Second)}
	tests := []struct {
		name string
		msg  string
		want []string
	}{
		{"outranked, rejected", Demote{Instance: "VI_1", Reason: ReasonOutranked, Evidence: with(e, ClaimRejected)}.Message(),
			[]string{"instance VI_1 gave up", "10.0.0.3 (02:00:00:00:00:03) outranks this node (priority 150, ours 100)", "auth mismatch", "make the VRRP settings of 10.0.0.3 and this node agree"}},
		{"hold expired, answers only", Demote{Instance: "VI_1", Reason: ReasonHoldExpired, Evidence: with(e, ClaimAnswers)}.Message(),
			[]string{"still answers for 10.0.0.10", "does not yield", "fix the VRRP settings of 10.0.0.3"}},
		{"unheard", Demote{Instance: "VI_1", Reason: ReasonOutranked, Evidence: with(e, ClaimUnheard)}.Message(),
			[]string{"never reach this node's VRRP socket", "fix the firewall on this node"}},
		{"other VRID", Demote{Instance: "VI_1", Reason: ReasonRivalReturned, Evidence: with(e, ClaimOtherVRID)}.Message(),
			[]string{"did not yield before", "advertises 10.0.0.10 in VRID 51", "remove 10.0.0.10 from one of the two virtual routers"}},
		{"resume", Resume{Instance: "VI_1", Reason: ReasonRivalSilent, Evidence: with(e, ClaimRejected)}.Message(),
			[]string{"instance VI_1 resumed", "10.0.0.3 (02:00:00:00:00:03) went silent", "last seen 03:04:06.000"}},
		{"log line", with(e, ClaimRejected).String(),
			[]string{"rival=10.0.0.3", "claim=rejected_adverts", `reject="auth mismatch"`, "last_advert=03:04:06.000"}},
	}
	for _, tc := range tests {
		for _, w := range tc.want {
			if !contains(tc.msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, tc.msg, w)
			}
		}
	}
}

func with(e Evidence, c Claim) Evidence { e.Claim = c; return e }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestNewRejects(t *testing.T) {
	for name, mod := range map[string]func(*Instance){
		"no name":          func(in *Instance) { in.Name = "" },
		"no interface":     func(in *Instance) { in.Interface = "" },
		"no family":        func(in *Instance) { in.Family = vrrp.FamilyUnknown },
		"vrid 0":           func(in *Instance) { in.VRID = 0 },
		"version 4":        func(in *Instance) { in.Version = 4 },
		"priority 0":       func(in *Instance) { in.Priority = 0 },
		"no interval":      func(in *Instance) { in.AdvertInt = 0 },
		"no primary":       func(in *Instance) { in.Primary = netip.Addr{} },
		"primary family":   func(in *Instance) { in.Primary = netip.MustParseAddr("fe80::1") },
		"no MAC":           func(in *Instance) { in.MACs = nil },
		"zero MAC":         func(in *Instance) { in.MACs = []obs.MAC{{}} },
		"no VIP":           func(in *Instance) { in.VIPs = nil },
		"invalid VIP":      func(in *Instance) { in.VIPs = []netip.Addr{{}} },
		"invalid own addr": func(in *Instance) { in.Addrs = []netip.Addr{{}} },
	} {
		if _, err := New(instance(mod), Params{}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	for name, p := range map[string]Params{
		"negative hold":   {Hold: -1},
		"negative recent": {Recent: -1},
		"negative window": {AnswerWindow: -1},
		"negative probe":  {ProbeInterval: -1},
		"negative cap":    {MaxRivals: -1},
	} {
		if _, err := New(instance(nil), p); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	pol, err := New(instance(nil), Params{Hold: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultParams()
	want.Hold = time.Second
	if got := pol.Params(); got != want {
		t.Errorf("Params() = %+v, want %+v (defaults filled in)", got, want)
	}
}
