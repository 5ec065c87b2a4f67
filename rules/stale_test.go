package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
)

// splitBrainWithGARPs: A (150) is master from 0 and announces the VIP; at
// 10.5 B (100) stops hearing A, becomes master and sends keepalived's two
// GARP bursts; at 30.5 it hears A again and goes back to backup. A, which
// stayed master, does not announce again (keepalived issue #166). The
// claims keep duplicate_master raised until 15.51 + quiet period: it
// resolves at 75.51.
func splitBrainWithGARPs(end float64) [][]obs.Observation {
	return [][]obs.Observation{
		every(A, 0, end, 1), every(B, 10.5, 30.5, 1),
		{garp(0.01, "10.0.0.100", macA), garp(10.51, "10.0.0.100", macB), garp(15.51, "10.0.0.100", macB)},
	}
}

func TestStaleAnnouncementAfterSplitBrain(t *testing.T) {
	parts := append(splitBrainWithGARPs(120), []obs.Observation{garp(100, "10.0.0.100", macA)})
	r := runScript(t, DefaultParams(), nil, 120, parts...)
	r.raisedBetween(t, DuplicateMaster, 10.5, 12.5)
	r.resolvedBetween(t, DuplicateMaster, 75.5, 75.6)
	f := r.raisedBetween(t, StaleAnnouncement, 75.5, 76.1)
	for _, want := range []string{"10.0.0.100", "10.0.0.2 (" + macB + ")", "10.0.0.1 (" + macA, "arping -U", "#166", "vrrpguard run"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if f.VRID != 51 || len(f.VIPs) != 1 || f.VIPs[0] != ip("10.0.0.100") || len(f.Sources) != 2 || len(f.MACs) != 2 {
		t.Errorf("finding %+v", f)
	}
	// A announces the address at 100: resolved after the hold.
	r.resolvedBetween(t, StaleAnnouncement, 105, 105)
}

func TestStaleAnnouncementNotRaisedWhenTheWinnerAnnounced(t *testing.T) {
	// After the split brain A announces again (vrrpguard run's
	// re-announce, or arping -U by hand).
	parts := append(splitBrainWithGARPs(120), []obs.Observation{garp(31, "10.0.0.100", macA)})
	r := runScript(t, DefaultParams(), nil, 120, parts...)
	r.resolvedBetween(t, DuplicateMaster, 75.5, 75.6)
	r.notRaised(t, StaleAnnouncement)
}

func TestStaleAnnouncementNeedsASplitBrain(t *testing.T) {
	// B is master and announces; A preempts without announcing: a normal
	// hand-over with a forgetful new master, not the aftermath of a
	// split brain.
	r := runScript(t, DefaultParams(), nil, 120, every(B, 0, 10.9, 1), every(A, 10.5, 120, 1),
		[]obs.Observation{garp(0.01, "10.0.0.100", macB), garp(5.01, "10.0.0.100", macB)})
	r.noFindings(t)
}

func TestStaleAnnouncementIgnoresProbeAnswers(t *testing.T) {
	// The master answering vrrpguard's own ARP probe (a reply to target
	// 0.0.0.0) reaches only the prober: hosts still point at B.
	answer := garp(90, "10.0.0.100", macA)
	answer.ARP.Op, answer.ARP.Gratuitous, answer.ARP.TargetIP = obs.ARPReply, false, ip("0.0.0.0")
	reply := garp(100, "10.0.0.100", macA)
	reply.ARP.Op, reply.ARP.Gratuitous, reply.ARP.TargetIP = obs.ARPReply, false, ip("10.0.0.50")
	parts := append(splitBrainWithGARPs(120), []obs.Observation{answer, reply})
	r := runScript(t, DefaultParams(), nil, 120, parts...)
	r.raisedBetween(t, StaleAnnouncement, 75.5, 76.1)
	// An ordinary ARP reply to a host does re-point that host.
	r.resolvedBetween(t, StaleAnnouncement, 105, 105)
}

func TestStaleAnnouncementResolvesWhenTheAnnouncerBecomesMaster(t *testing.T) {
	// A crashes at 90; B, whose MAC the hosts still use, takes over.
	parts := splitBrainWithGARPs(90)
	parts = append(parts, every(B, 93.6, 120, 1))
	r := runScript(t, DefaultParams(), nil, 120, parts...)
	r.raisedBetween(t, StaleAnnouncement, 75.5, 76.1)
	// Judged at the first tick after B's first advert (94.6), plus the hold.
	r.resolvedBetween(t, StaleAnnouncement, 98.6, 99.7)
	if !eqStrings(r.reasons(), []string{"election", "takeover"}) {
		t.Errorf("events %v", r.reasons())
	}
}

func TestStaleAnnouncementResolvesWhenTheAddressIsGone(t *testing.T) {
	// From 100 the master advertises another address; B's adverts are
	// older than the router timeout, so 10.0.0.100 belongs to nobody.
	parts := splitBrainWithGARPs(99)
	parts = append(parts, every(with(A, func(a *ad) { a.vips = []string{"10.0.0.200"} }), 100, 130, 1))
	r := runScript(t, DefaultParams(), nil, 130, parts...)
	r.raisedBetween(t, StaleAnnouncement, 75.5, 76.1)
	r.resolvedBetween(t, StaleAnnouncement, 105, 106.1)
}

func TestStaleAnnouncementIPv6(t *testing.T) {
	a := ad{src: "fe80::1", prio: 150, version: 3, vips: []string{"fd00::100"}}
	b := ad{src: "fe80::2", prio: 100, version: 3, vips: []string{"fd00::100"}}
	solicited := na(100, "fd00::100", macA)
	solicited.ND.Solicited = true // answers one host only
	r := runScript(t, DefaultParams(), nil, 130, every(a, 0, 130, 1), every(b, 10.5, 30.5, 1),
		[]obs.Observation{na(0.01, "fd00::100", macA), na(10.51, "fd00::100", macB), solicited, na(110, "fd00::100", macA)})
	f := r.raisedBetween(t, StaleAnnouncement, 70.5, 71.1)
	if !strings.Contains(f.Message, "neighbour advertisements") || !strings.Contains(f.Message, "fd00::100") {
		t.Errorf("message %q", f.Message)
	}
	r.resolvedBetween(t, StaleAnnouncement, 115, 115)
}

func TestStaleAnnouncementFingerprintIsStable(t *testing.T) {
	fp := func(offset float64) string {
		var parts [][]obs.Observation
		for _, p := range splitBrainWithGARPs(100) {
			var moved []obs.Observation
			for _, o := range p {
				o.Time = o.Time.Add(secs(offset))
				moved = append(moved, o)
			}
			parts = append(parts, moved)
		}
		r := runScript(t, DefaultParams(), nil, 100+offset, parts...)
		f := r.find(StaleAnnouncement, Raised)
		if f == nil {
			t.Fatalf("not raised:\n%s", r.dump())
		}
		return f.Fingerprint
	}
	if a, b := fp(0), fp(7.3); a != b || a == "" {
		t.Errorf("fingerprints %q and %q", a, b)
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
