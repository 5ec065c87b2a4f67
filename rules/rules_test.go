package rules

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

var (
	A = ad{src: "10.0.0.1", prio: 150}
	B = ad{src: "10.0.0.2", prio: 100}
	C = ad{src: "10.0.0.3", prio: 50}
)

func with(a ad, f func(*ad)) ad { f(&a); return a }

// --- normal life: events, no findings ---

func TestHealthyPairNoFinding(t *testing.T) {
	r := runScript(t, DefaultParams(), nil, 120, every(A, 0, 120, 1),
		[]obs.Observation{garp(0.01, "10.0.0.100", "02:00:00:00:00:01"), garp(5.01, "10.0.0.100", "02:00:00:00:00:01")})
	r.noFindings(t)
	if !eqStrings(r.reasons(), []string{"election"}) {
		t.Errorf("events %v", r.reasons())
	}
}

func TestPreemptionIsNotAFinding(t *testing.T) {
	// B (100) is master; A (150) starts, B sends one more advert (race)
	// and goes quiet.
	r := runScript(t, DefaultParams(), nil, 60,
		every(B, 0, 10.9, 1), every(A, 10.5, 60, 1),
		[]obs.Observation{garp(10.51, "10.0.0.100", "02:00:00:00:00:01")})
	r.noFindings(t)
	if !eqStrings(r.reasons(), []string{"election", "preemption"}) {
		t.Errorf("events %v\n%s", r.reasons(), r.dump())
	}
	if ev := r.events[1]; ev.Old != ip("10.0.0.2") || ev.New != ip("10.0.0.1") {
		t.Errorf("preemption event %+v", ev)
	}
}

func TestCleanHandoverIsNotAFinding(t *testing.T) {
	r := runScript(t, DefaultParams(), nil, 60,
		every(A, 0, 10, 1), []obs.Observation{with(A, func(a *ad) { a.prio = 0 }).obs(10.2)},
		every(B, 10.8, 60, 1), []obs.Observation{garp(10.81, "10.0.0.100", "02:00:00:00:00:02")})
	r.noFindings(t)
	if !eqStrings(r.reasons(), []string{"election", "handover"}) {
		t.Errorf("events %v", r.reasons())
	}
}

func TestCrashTakeoverIsNotAFinding(t *testing.T) {
	// A crashes after 10; B takes over after Master_Down_Interval (3.6s).
	r := runScript(t, DefaultParams(), nil, 60,
		every(A, 0, 10, 1), every(B, 13.61, 60, 1),
		[]obs.Observation{garp(13.62, "10.0.0.100", "02:00:00:00:00:02"), garp(18.62, "10.0.0.100", "02:00:00:00:00:02")})
	r.noFindings(t)
	if !eqStrings(r.reasons(), []string{"election", "takeover"}) {
		t.Errorf("events %v", r.reasons())
	}
}

func TestRestartOfMasterIsNotAFinding(t *testing.T) {
	// A crashes, B takes over, A comes back and preempts: two changes.
	r := runScript(t, DefaultParams(), nil, 90,
		every(A, 0, 10, 1), every(B, 13.6, 30.2, 1), every(A, 30, 90, 1),
		[]obs.Observation{garp(13.61, "10.0.0.100", "02:00:00:00:00:02"), garp(30.01, "10.0.0.100", "02:00:00:00:00:01")})
	r.noFindings(t)
	if !eqStrings(r.reasons(), []string{"election", "takeover", "preemption"}) {
		t.Errorf("events %v\n%s", r.reasons(), r.dump())
	}
}

func TestStartupElectionLowerPriorityFirst(t *testing.T) {
	// keepalived: B sends one advert at start-up, A answers at once and B
	// backs off (seen in testdata/captures/v3v4.pcap).
	r := runScript(t, DefaultParams(), nil, 30, []obs.Observation{B.obs(0)}, every(A, 0.003, 30, 1))
	r.noFindings(t)
}

// --- duplicate_master ---

func TestDuplicateMasterBothAdvertising(t *testing.T) {
	// One-way loss at 10.5: B stops hearing A and starts advertising.
	// Healed at 30.5: B hears A again and stops.
	r := runScript(t, DefaultParams(), nil, 60, every(A, 0, 60, 1), every(B, 10.5, 30.5, 1))
	f := r.raisedBetween(t, DuplicateMaster, 10.5, 12.5) // within two intervals of the onset
	if f.Severity != Critical || len(f.Sources) != 2 || f.VRID != 51 || f.Family != vrrp.IPv4 || f.Interface != "eth0" {
		t.Errorf("finding %+v", f)
	}
	if !f.FirstSeen.Equal(at(10.5)) {
		t.Errorf("first seen %v, want onset 10.5", f.FirstSeen.Sub(t0))
	}
	if len(f.VIPs) != 1 || f.VIPs[0] != ip("10.0.0.100") || !strings.Contains(f.Message, "protocol 112") {
		t.Errorf("finding %+v", f)
	}
	// B's last advert 30.5 → not alive after 30.5+3.996; + hold 5.
	r.resolvedBetween(t, DuplicateMaster, 33, 40)
	if !eqStrings(r.reasons(), []string{"election"}) {
		t.Errorf("a lower-priority contender must not change the master: %v", r.reasons())
	}
}

func TestDuplicateMasterHighPriorityNewcomer(t *testing.T) {
	// B is master; A (higher) appears but B keeps advertising: B does not
	// hear A.
	r := runScript(t, DefaultParams(), nil, 40, every(B, 0, 40, 1), every(A, 10.3, 40, 1))
	r.raisedBetween(t, DuplicateMaster, 10.3, 12.3)
}

func TestDuplicateMasterFastIntervals(t *testing.T) {
	a := with(A, func(a *ad) { a.version = 3; a.interval = 100 * time.Millisecond })
	b := with(B, func(a *ad) { a.version = 3; a.interval = 100 * time.Millisecond })
	r := runScript(t, DefaultParams(), nil, 10, every(a, 0, 10, 0.1), every(b, 5.05, 10, 0.1))
	r.raisedBetween(t, DuplicateMaster, 5.05, 5.25)
}

func TestDuplicateMasterIPv6(t *testing.T) {
	a := ad{src: "fe80::1", prio: 150, version: 3, vips: []string{"fd00::100"}}
	b := ad{src: "fe80::2", prio: 100, version: 3, vips: []string{"fd00::100"}}
	r := runScript(t, DefaultParams(), nil, 30, every(a, 0, 30, 1), every(b, 5.5, 30, 1))
	f := r.raisedBetween(t, DuplicateMaster, 5.5, 7.5)
	if f.Family != vrrp.IPv6 {
		t.Errorf("family %v", f.Family)
	}
}

func TestDuplicateMasterQuietClaimant(t *testing.T) {
	// Auth mismatch with keepalived: B becomes master, advertises once,
	// sends its GARP burst, then goes quiet while A keeps advertising.
	r := runScript(t, DefaultParams(), nil, 40, every(A, 0, 40, 1),
		[]obs.Observation{B.obs(4.0),
			garp(4.01, "10.0.0.100", "02:00:00:00:00:02"), garp(9.01, "10.0.0.100", "02:00:00:00:00:02")})
	f := r.raisedBetween(t, DuplicateMaster, 4.0, 4.02)
	if !strings.Contains(f.Message, "answers for 10.0.0.100") {
		t.Errorf("message %q", f.Message)
	}
	r.notRaised(t, VIPOnBackup)
}

func TestDuplicateMasterIsNotRaisedByOneOverlappingAdvert(t *testing.T) {
	// Near-miss: two adverts of the new master, one of the old, then
	// silence of the old one.
	r := runScript(t, DefaultParams(), nil, 30, every(B, 0, 10.2, 1), every(A, 10.1, 30, 1))
	r.notRaised(t, DuplicateMaster)
}

// --- vip_on_backup ---

func TestVIPOnBackupByHand(t *testing.T) {
	// Someone adds the VIP on the (silent) backup and runs arping.
	r := runScript(t, DefaultParams(), nil, 100, every(A, 0, 100, 1),
		[]obs.Observation{garp(20.2, "10.0.0.100", "02:00:00:00:00:99")})
	f := r.raisedBetween(t, VIPOnBackup, 20.2, 20.2)
	if f.VIPs[0] != ip("10.0.0.100") || !strings.Contains(f.Message, "02:00:00:00:00:99") {
		t.Errorf("%+v", f)
	}
	r.resolvedBetween(t, VIPOnBackup, 80, 81)
	r.notRaised(t, DuplicateMaster)
}

func TestVIPOnBackupIPv6NeighbourAdvert(t *testing.T) {
	a := ad{src: "fe80::1", prio: 150, version: 3, vips: []string{"fd00::100"}}
	r := runScript(t, DefaultParams(), nil, 30, every(a, 0, 30, 1),
		[]obs.Observation{na(0.01, "fd00::100", "02:00:00:00:00:01"), na(12.3, "fd00::100", "02:00:00:00:00:77")})
	r.raisedBetween(t, VIPOnBackup, 12.3, 12.3)
}

func TestVIPClaimDuringTakeoverIsNotAFinding(t *testing.T) {
	// The new master's GARP comes right after its first advert: fine.
	// A stale master (crashed) is not compared with.
	r := runScript(t, DefaultParams(), nil, 40, every(A, 0, 10, 1),
		[]obs.Observation{garp(13.0, "10.0.0.100", "02:00:00:00:00:02")}, every(B, 13.01, 40, 1))
	r.noFindings(t)
}

// --- configuration disagreements ---

func TestAuthMismatch(t *testing.T) {
	a := with(A, func(a *ad) { a.auth = "secret1" })
	b := with(B, func(a *ad) { a.auth = "secret2" })
	r := runScript(t, DefaultParams(), nil, 80, every(a, 0, 80, 1), every(b, 5.5, 6.5, 1))
	f := r.raisedBetween(t, AuthMismatch, 5.5, 5.5)
	if strings.Contains(f.Message, "secret") {
		t.Errorf("password in message: %q", f.Message)
	}
	if !strings.Contains(f.Message, vrrp.AuthDigest(vrrp.PasswordAuthData("secret2"))) {
		t.Errorf("message lacks digest: %q", f.Message)
	}
	// B stopped at 6.5: the disagreement expires after RouterTimeout.
	r.resolvedBetween(t, AuthMismatch, 66.5, 71.5)
}

func TestAuthMismatchNoneVersusSimple(t *testing.T) {
	b := with(B, func(a *ad) { a.auth = "pw" })
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(b, 5.5, 20, 1))
	r.raisedBetween(t, AuthMismatch, 5.5, 5.5)
}

func TestSamePasswordBeyondEightCharactersIsNoMismatch(t *testing.T) {
	a := with(A, func(a *ad) { a.auth = "12345678abc" })
	b := with(B, func(a *ad) { a.auth = "12345678xyz" })
	r := runScript(t, DefaultParams(), nil, 20, every(a, 0, 10, 1), every(b, 13.6, 20, 1))
	r.noFindings(t)
}

func TestVersionMismatch(t *testing.T) {
	b := with(B, func(a *ad) { a.version = 3 })
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(b, 3.3, 20, 1))
	r.raisedBetween(t, VersionMismatch, 3.3, 3.3)
	r.raisedBetween(t, DuplicateMaster, 3.3, 5.3)
	r.notRaised(t, IntervalMismatch)
}

func TestIntervalMismatch(t *testing.T) {
	b := with(B, func(a *ad) { a.interval = 2 * time.Second })
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(b, 3.3, 20, 2))
	f := r.raisedBetween(t, IntervalMismatch, 3.3, 3.3)
	if !strings.Contains(f.Message, "2s") || !strings.Contains(f.Message, "1s") {
		t.Errorf("message %q", f.Message)
	}
}

func TestVRIDConflict(t *testing.T) {
	b := with(B, func(a *ad) { a.vips = []string{"10.0.0.200"} })
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(b, 3.3, 20, 1))
	f := r.raisedBetween(t, VRIDConflict, 3.3, 3.3)
	if len(f.VIPs) != 2 {
		t.Errorf("vips %v", f.VIPs)
	}
	r.notRaised(t, VRIDMismatch)
}

func TestVRIDMismatch(t *testing.T) {
	b := with(B, func(a *ad) { a.vrid = 52 })
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(b, 3.3, 20, 1))
	f := r.raisedBetween(t, VRIDMismatch, 3.3, 3.3)
	if !strings.Contains(f.Message, "VRID 51") || !strings.Contains(f.Message, "VRID 52") {
		t.Errorf("message %q", f.Message)
	}
	r.notRaised(t, DuplicateMaster, VRIDConflict)
}

func TestOwnerConflict(t *testing.T) {
	a := with(A, func(a *ad) { a.prio = 255 })
	b := with(B, func(a *ad) { a.prio = 255 })
	r := runScript(t, DefaultParams(), nil, 20, every(a, 0, 20, 1), every(b, 3.3, 20, 1))
	r.raisedBetween(t, OwnerConflict, 3.3, 3.3)
}

func TestOwnerAloneIsFine(t *testing.T) {
	a := with(A, func(a *ad) { a.prio = 255 })
	r := runScript(t, DefaultParams(), nil, 20, every(a, 0, 10, 1), every(B, 13.6, 20, 1))
	r.noFindings(t)
}

// --- master_flapping ---

func TestMasterFlapping(t *testing.T) {
	// A crashes and restarts every 8 seconds; B takes over each time.
	var parts [][]obs.Observation
	for i := 0; i < 4; i++ {
		base := float64(i) * 12
		parts = append(parts, every(A, base, base+4, 1), every(B, base+7.6, base+12.2, 1))
	}
	r := runScript(t, DefaultParams(), nil, 200, parts...)
	f := r.raisedBetween(t, MasterFlapping, 12, 40)
	if !strings.Contains(f.Message, "changed") {
		t.Errorf("message %q", f.Message)
	}
	r.resolvedBetween(t, MasterFlapping, 60, 130)
	r.notRaised(t, DuplicateMaster)
}

// --- no_master ---

func TestNoMaster(t *testing.T) {
	// Both nodes stop at 10; A comes back at 30.
	r := runScript(t, DefaultParams(), nil, 60, every(A, 0, 10, 1), every(A, 30, 60, 1))
	down := 10 + masterDown(time.Second).Seconds() + 1
	r.raisedBetween(t, NoMaster, down, down+0.11)
	r.resolvedBetween(t, NoMaster, 35, 35)
}

func TestNoMasterAfterCleanStopOfBoth(t *testing.T) {
	r := runScript(t, DefaultParams(), nil, 30, every(A, 0, 10, 1),
		[]obs.Observation{with(A, func(a *ad) { a.prio = 0 }).obs(10.1)}, every(B, 10.7, 12.7, 1),
		[]obs.Observation{with(B, func(a *ad) { a.prio = 0 }).obs(12.9)})
	r.raisedBetween(t, NoMaster, 14.9, 15.0)
}

func TestNoMasterEvaluatedAtEndOfReplay(t *testing.T) {
	r := runScript(t, DefaultParams(), nil, 10.5, every(A, 0, 5, 1))
	r.raisedBetween(t, NoMaster, 9.99, 10.0)
}

func TestNoMasterExpectedNeverSeen(t *testing.T) {
	exp := []Expected{{VRID: 60, Family: vrrp.IPv4, Interval: time.Second, VIPs: []netip.Addr{ip("10.0.0.60")}, Sources: []string{"keepalived.conf:3"}}}
	r := runScript(t, DefaultParams(), exp, 30, every(A, 0, 30, 1))
	f := r.raisedBetween(t, NoMaster, 4.99, 5.1)
	if f.VRID != 60 || !strings.Contains(f.Message, "keepalived.conf:3") {
		t.Errorf("%+v", f)
	}
	// VRID 51 is healthy, and not expected: not reported.
	if n := len(r.findings); n != 1 {
		t.Errorf("%d findings\n%s", n, r.dump())
	}
}

// TestExpectedSourcesInMessages checks that an expectation merged from
// several places names them all.
func TestExpectedSourcesInMessages(t *testing.T) {
	exp := []Expected{{VRID: 60, Family: vrrp.IPv4, Interval: time.Second, VIPs: []netip.Addr{ip("10.0.0.60")},
		Sources: []string{"lb1.conf:3", "lb2.conf:5"}}}
	r := runScript(t, DefaultParams(), exp, 30, every(A, 0, 30, 1))
	f := r.raisedBetween(t, NoMaster, 4.99, 5.1)
	if want := "configured VRID 60 (lb1.conf:3, lb2.conf:5)"; !strings.Contains(f.Message, want) {
		t.Errorf("message %q does not contain %q", f.Message, want)
	}
}

func TestExpectedKey(t *testing.T) {
	tests := []struct {
		x    Expected
		want string
	}{
		{Expected{Interface: "eth0", Family: vrrp.IPv4, VRID: 51}, "eth0/ipv4/51"},
		{Expected{Family: vrrp.IPv6, VRID: 7}, "*/ipv6/7"},
	}
	for _, tt := range tests {
		if got := tt.x.Key(); got != tt.want {
			t.Errorf("Key() = %q, want %q", got, tt.want)
		}
	}
}

// --- hostile and broken packets ---

func TestTTLInvalidNeverFeedsModel(t *testing.T) {
	evil := with(C, func(a *ad) { a.prio = 254; a.ttl = 64 })
	r := runScript(t, DefaultParams(), nil, 100, every(A, 0, 100, 1), every(evil, 5.5, 8.5, 1))
	f := r.raisedBetween(t, TTLInvalid, 5.5, 5.5)
	if f.Sources[0] != ip("10.0.0.3") {
		t.Errorf("%+v", f)
	}
	r.resolvedBetween(t, TTLInvalid, 68.5, 68.5)
	r.notRaised(t, DuplicateMaster)
	if !eqStrings(r.reasons(), []string{"election"}) {
		t.Errorf("hostile adverts changed the master: %v", r.reasons())
	}
	if st := r.engine.Stats(); st.Routers != 1 || st.Ignored != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestChecksumInvalidNeverFeedsModel(t *testing.T) {
	evil := with(C, func(a *ad) { a.prio = 254; a.badSum = true })
	r := runScript(t, DefaultParams(), nil, 30, every(A, 0, 30, 1), every(evil, 5.5, 20.5, 1))
	r.raisedBetween(t, ChecksumInvalid, 5.5, 5.5)
	r.notRaised(t, DuplicateMaster)
	if r.engine.Stats().Routers != 1 {
		t.Errorf("stats %+v", r.engine.Stats())
	}
}

func TestMalformedPacket(t *testing.T) {
	bad := obs.Observation{Kind: obs.KindInvalid, Time: at(3), Interface: "eth0", Family: vrrp.IPv4,
		Src: ip("10.0.0.9"), SrcMAC: obs.MAC{2, 0, 0, 0, 0, 9}, TTL: 255, Reason: vrrp.ErrAddressCount}
	r := runScript(t, DefaultParams(), nil, 30, every(A, 0, 30, 1), []obs.Observation{bad})
	f := r.raisedBetween(t, MalformedPacket, 3, 3)
	if !strings.Contains(f.Message, "address_count") || f.Sources[0] != ip("10.0.0.9") {
		t.Errorf("%+v", f)
	}
	if r.engine.Stats().Routers != 1 {
		t.Error("malformed packet created a router")
	}
}

// --- expected configuration ---

func TestExpectedConfigNamesTheMisconfiguredNode(t *testing.T) {
	exp := []Expected{{VRID: 51, Family: vrrp.IPv4, Version: 2, Interval: time.Second, HasAuth: true, AuthType: vrrp.AuthSimple,
		AuthDigest: vrrp.AuthDigest(vrrp.PasswordAuthData("secret")), VIPs: []netip.Addr{ip("10.0.0.100")},
		Peers: []netip.Addr{ip("10.0.0.1"), ip("10.0.0.2")}, Sources: []string{"/etc/keepalived/keepalived.conf:10"}}}
	a := with(A, func(a *ad) { a.auth = "secret" })
	b := with(B, func(a *ad) { a.auth = "secret"; a.vrid = 52 })
	r := runScript(t, DefaultParams(), exp, 20, every(a, 0, 20, 1), every(b, 2.5, 20, 1))
	f := r.raisedBetween(t, VRIDMismatch, 2.5, 2.5)
	want := "10.0.0.2 advertises VRID 52 for 10.0.0.100, the config (/etc/keepalived/keepalived.conf:10) expects 51"
	if !strings.Contains(f.Message, want) {
		t.Errorf("message %q lacks %q", f.Message, want)
	}
}

func TestExpectedConfigMismatches(t *testing.T) {
	exp := []Expected{{VRID: 51, Family: vrrp.IPv4, Version: 3, Interval: 2 * time.Second, HasAuth: true, AuthType: vrrp.AuthSimple,
		AuthDigest: vrrp.AuthDigest(vrrp.PasswordAuthData("secret")), VIPs: []netip.Addr{ip("10.0.0.100"), ip("10.0.0.101")},
		Peers: []netip.Addr{ip("10.0.0.1"), ip("10.0.0.2")}, Sources: []string{"k.conf:1"}}}
	c := with(C, func(a *ad) { a.auth = "wrong" })
	r := runScript(t, DefaultParams(), exp, 20, every(c, 0, 20, 1))
	for _, k := range []Kind{VersionMismatch, IntervalMismatch, AuthMismatch, VRIDConflict, UnexpectedRouter} {
		f := r.raisedBetween(t, k, 0, 0)
		if !strings.Contains(f.Message, "10.0.0.3") {
			t.Errorf("%s message does not name the node: %q", k, f.Message)
		}
	}
	// The same router matching the config raises nothing.
	good := with(A, func(a *ad) {
		a.auth, a.version, a.interval, a.vips = "secret", 3, 2*time.Second, []string{"10.0.0.101", "10.0.0.100"}
	})
	r = runScript(t, DefaultParams(), exp, 20, every(good, 0, 20, 2))
	r.noFindings(t)
}

// --- bounded state ---

func TestTableFullUnderFlood(t *testing.T) {
	p := DefaultParams()
	p.MaxSegments, p.MaxRouters, p.MaxRoutersPerSegment, p.MaxVIPs = 64, 256, 8, 256
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var raised int
	for i := 0; i < 100000; i++ {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		o := ad{src: src.String(), prio: uint8(1 + i%254), vrid: uint8(1 + i%255), iface: "eth" + string(rune('0'+i%3)),
			vips: []string{netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}).String()}}.obs(float64(i) / 1000)
		for _, out := range noteRaised(t, e.Observe(&o)) {
			if out.Finding != nil && out.Finding.Kind == TableFull && out.Finding.State == Raised {
				raised++
			}
		}
	}
	st := e.Stats()
	if st.Segments > p.MaxSegments || st.Routers > p.MaxRouters || st.VIPs > p.MaxVIPs {
		t.Errorf("caps exceeded: %+v", st)
	}
	if st.Evictions == 0 || raised != 1 {
		t.Errorf("evictions %d, table_full raised %d times (want once)", st.Evictions, raised)
	}
	if st.ActiveFindings > maxFindings {
		t.Errorf("active findings %d", st.ActiveFindings)
	}
}

// --- fingerprints ---

func TestFingerprintStableAcrossWatchersAndRestarts(t *testing.T) {
	onIface := func(name string, offset float64) string {
		a := with(A, func(a *ad) { a.iface = name })
		b := with(B, func(a *ad) { a.iface = name })
		r := runScript(t, DefaultParams(), nil, 40+offset, every(a, offset, 40+offset, 1), every(b, 10.5+offset, 40+offset, 1))
		f := r.find(DuplicateMaster, Raised)
		if f == nil {
			t.Fatal("not raised")
		}
		return f.Fingerprint
	}
	if a, b := onIface("eth0", 0), onIface("ens192", 3.3); a != b {
		t.Errorf("fingerprints differ between watchers: %s %s", a, b)
	}
	// Different VIPs: a different problem.
	b2 := with(B, func(a *ad) { a.vips = []string{"10.0.0.9"}; a.vrid = 9 })
	a2 := with(A, func(a *ad) { a.vips = []string{"10.0.0.9"}; a.vrid = 9 })
	r := runScript(t, DefaultParams(), nil, 40, every(a2, 0, 40, 1), every(b2, 10.5, 40, 1))
	if f := r.find(DuplicateMaster, Raised); f == nil || f.Fingerprint == onIface("eth0", 0) {
		t.Error("different problems share a fingerprint")
	}
}

func TestTableFullRaisedAndResolved(t *testing.T) {
	// Room for two segments. A advertises VRID 51 every second; C sends
	// one advert for VRID 52 at 20.5 and one for 53 at 20.6: the third
	// segment evicts the least recently seen (51), and A's next advert
	// (21.0) evicts 52. No eviction after that: resolved QuietPeriod and
	// ResolveHold after the last one.
	p := DefaultParams()
	p.MaxSegments = 2
	r := runScript(t, p, nil, 120, every(A, 0, 120, 1),
		[]obs.Observation{with(C, func(a *ad) { a.vrid = 52 }).obs(20.5), with(C, func(a *ad) { a.vrid = 53 }).obs(20.6)})
	f := r.raisedBetween(t, TableFull, 20.6, 20.6)
	if !strings.Contains(f.Message, "segments") {
		t.Errorf("message %q does not name the full table", f.Message)
	}
	r.resolvedBetween(t, TableFull, 21+65, 21+65)
	if st := r.engine.Stats(); st.Segments != 2 || st.Evictions != 2 {
		t.Errorf("stats %+v, want 2 segments after 2 evictions", st)
	}
}

func TestParamsValidate(t *testing.T) {
	p := DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Params){
		func(p *Params) { p.FlapWindow = 0 }, func(p *Params) { p.FlapThreshold = 1 },
		func(p *Params) { p.NoMasterMargin = -1 }, func(p *Params) { p.ResolveHold = -1 },
		func(p *Params) { p.QuietPeriod = 0 }, func(p *Params) { p.RouterTimeout = 0 },
		func(p *Params) { p.MaxVIPs = 0 },
	}
	for i, f := range bad {
		q := DefaultParams()
		f(&q)
		if _, err := New(q, nil); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func TestSetExpectedOnReload(t *testing.T) {
	exp := []Expected{{VRID: 60, Family: vrrp.IPv4, Interval: time.Second, VIPs: []netip.Addr{ip("10.0.0.60")}, Sources: []string{"k.conf:3"}}}
	e, _ := New(DefaultParams(), exp)
	var got []Finding
	feed := func(outs []Output) {
		for _, o := range outs {
			if o.Finding != nil {
				got = append(got, *o.Finding)
			}
		}
	}
	for _, o := range every(A, 0, 10, 1) {
		feed(e.Observe(&o))
	}
	if len(got) != 1 || got[0].Kind != NoMaster || got[0].State != Raised {
		t.Fatalf("before reload: %+v", got)
	}
	// Reload with the same VRID still configured: nothing new.
	e.SetExpected(exp, at(10))
	for _, o := range every(A, 11, 20, 1) {
		feed(e.Observe(&o))
	}
	if len(got) != 1 {
		t.Fatalf("reload with the same expectation changed findings: %+v", got)
	}
	// Reload without it: resolved.
	e.SetExpected(nil, at(20))
	for _, o := range every(A, 21, 30, 1) {
		feed(e.Observe(&o))
	}
	if len(got) != 2 || got[1].State != Resolved || got[1].Kind != NoMaster {
		t.Fatalf("after removing the expectation: %+v", got)
	}
	// A new expectation that does not match the traffic: raised after the
	// start-up grace counted from the reload.
	e.SetExpected([]Expected{{VRID: 51, Family: vrrp.IPv4, Version: 3, Sources: []string{"k.conf:9"}}}, at(30))
	for _, o := range every(A, 31, 35, 1) {
		feed(e.Observe(&o))
	}
	if got[len(got)-1].Kind != VersionMismatch || got[len(got)-1].State != Raised {
		t.Errorf("new expectation not applied: %+v", got[len(got)-1])
	}
}

func TestTwoClustersSharingAVRIDAreNotASplitBrain(t *testing.T) {
	// Cluster 1 (10.0.0.1, VIP .100) and cluster 2 (10.0.0.3, VIP .200)
	// both use VRID 51 on one segment: each has its own master.
	c2 := with(C, func(a *ad) { a.vips = []string{"10.0.0.200"}; a.prio = 200 })
	r := runScript(t, DefaultParams(), nil, 30, every(A, 0, 30, 1), every(c2, 0.5, 30, 1),
		[]obs.Observation{garp(5.01, "10.0.0.100", "02:00:00:00:00:01"), garp(5.02, "10.0.0.200", "02:00:00:00:00:03")})
	r.raisedBetween(t, VRIDConflict, 0.5, 0.5)
	r.notRaised(t, DuplicateMaster, VIPOnBackup)
	// Overlapping lists are one cluster: a split brain.
	c3 := with(C, func(a *ad) { a.vips = []string{"10.0.0.100", "10.0.0.200"} })
	r = runScript(t, DefaultParams(), nil, 30, every(A, 0, 30, 1), every(c3, 5.5, 30, 1))
	r.raisedBetween(t, DuplicateMaster, 5.5, 7.5)
}

func TestExcludedVIPClaimedByBackup(t *testing.T) {
	// 10.0.0.150 is virtual_ipaddress_excluded of VRID 51: never
	// advertised, held by the master; another host announcing it is a
	// vip_on_backup.
	exp := []Expected{{VRID: 51, Family: vrrp.IPv4, VIPs: []netip.Addr{ip("10.0.0.100")}, ExcludedVIPs: []netip.Addr{ip("10.0.0.150")}, Sources: []string{"k.conf:1"}}}
	r := runScript(t, DefaultParams(), exp, 30, every(A, 0, 30, 1),
		[]obs.Observation{garp(2.01, "10.0.0.150", "02:00:00:00:00:01"), garp(12.5, "10.0.0.150", "02:00:00:00:00:77")})
	f := r.raisedBetween(t, VIPOnBackup, 12.5, 12.5)
	if f.VIPs[0] != ip("10.0.0.150") {
		t.Errorf("%+v", f)
	}
}

func TestAlertsDroppedFinding(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := AlertsDroppedFinding(now, 7, "email:mx:25")
	if f.Kind != AlertsDropped || f.State != Raised || f.Severity != Warning || !f.At.Equal(now) || !f.FirstSeen.Equal(now) {
		t.Errorf("finding %+v", f)
	}
	if !strings.Contains(f.Message, "email:mx:25") || !strings.Contains(f.Message, " 7 ") {
		t.Errorf("message %q names neither the sink nor the count", f.Message)
	}
	if g := AlertsDroppedFinding(now.Add(time.Hour), 9, "email:mx:25"); g.Fingerprint != f.Fingerprint {
		t.Errorf("one sink, two fingerprints: %s %s", f.Fingerprint, g.Fingerprint)
	}
	if g := AlertsDroppedFinding(now, 7, "webhook:x"); g.Fingerprint == f.Fingerprint || len(f.Fingerprint) != 16 {
		t.Errorf("fingerprints %q %q: want one per sink, 16 hex digits", f.Fingerprint, g.Fingerprint)
	}
}

func TestOutboxUnwritableFinding(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := OutboxUnwritableFinding(now, "/var/lib/vrrpguard", "no space left on device")
	if f.Kind != OutboxUnwritable || f.State != Raised || f.Severity != Warning || !f.At.Equal(now) || !f.FirstSeen.Equal(now) {
		t.Errorf("finding %+v", f)
	}
	if !strings.Contains(f.Message, "/var/lib/vrrpguard") || !strings.Contains(f.Message, "no space left") {
		t.Errorf("message %q names neither the directory nor the cause", f.Message)
	}
	if g := OutboxUnwritableFinding(now.Add(time.Hour), "/var/lib/vrrpguard", "read-only file system"); g.Fingerprint != f.Fingerprint {
		t.Errorf("one directory, two fingerprints: %s %s", f.Fingerprint, g.Fingerprint)
	}
	if g := OutboxUnwritableFinding(now, "/tmp/x", "x"); g.Fingerprint == f.Fingerprint || len(f.Fingerprint) != 16 {
		t.Errorf("fingerprints %q %q: want one per directory, 16 hex digits", f.Fingerprint, g.Fingerprint)
	}
}
