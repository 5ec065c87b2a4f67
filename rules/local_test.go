package rules

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// localRun feeds local facts at their times (and ticks every 100 ms up to
// end) to a fresh engine and returns the findings.
type localStep struct {
	at   float64
	fact LocalFact
}

func localRun(t *testing.T, end float64, steps ...localStep) result {
	t.Helper()
	e, err := New(DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := result{engine: e}
	collect := func(outs []Output) {
		for _, o := range outs {
			if o.Finding != nil {
				res.findings = append(res.findings, *o.Finding)
			}
		}
	}
	i := 0
	for now := 0.0; now <= end+1e-9; now += 0.1 {
		for i < len(steps) && steps[i].at <= now+1e-9 {
			outs, err := e.Local(at(steps[i].at), steps[i].fact)
			if err != nil {
				t.Fatalf("Local(%+v): %v", steps[i].fact, err)
			}
			collect(noteRaised(t, outs))
			i++
		}
		collect(noteRaised(t, e.Tick(at(now))))
	}
	return res
}

var demoted = LocalDemoted{Instance: "VI_1", Interface: "eth0", Family: vrrp.IPv4, VRID: 51,
	VIPs: []netip.Addr{ip("10.0.0.101"), ip("10.0.0.100")}, Rival: ip("10.0.0.2"), RivalMAC: obs.MAC{2, 0, 0, 0, 0, 2}, RivalPriority: 200,
	Reason: "its advertisements carry another password (digest 1a2b3c4d, this node expects 5e6f7a8b)", Evidence: "12 adverts since 12:00:01"}

var resumed = LocalResumed{Instance: "VI_1", Interface: "eth0", VRID: 51, Reason: "10.0.0.2 stopped advertising"}

func TestSelfDemotedRaisedAndResolved(t *testing.T) {
	r := localRun(t, 60, localStep{10, demoted}, localStep{40, resumed})
	f := r.raisedBetween(t, SelfDemoted, 10, 10)
	for _, want := range []string{"instance VI_1 (VRID 51 on eth0)", "stepped down to backup", "released 10.0.0.100, 10.0.0.101",
		"10.0.0.2 (02:00:00:00:00:02, priority 200)", "another password", "12 adverts", "fix the configuration of 10.0.0.2", "instance VI_1, if 10.0.0.2 is right"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if f.Severity != Warning || f.VRID != 51 || f.Interface != "eth0" || len(f.VIPs) != 2 || f.Sources[0] != ip("10.0.0.2") {
		t.Errorf("finding %+v", f)
	}
	// Resolved a hold after the resumption, not at once.
	r.resolvedBetween(t, SelfDemoted, 45, 45)
	if res := r.find(SelfDemoted, Resolved); !strings.Contains(res.Message, "stopped advertising") {
		t.Errorf("resolved notice %q does not say why", res.Message)
	}
}

func TestSelfDemotedAgainWithinTheHoldStaysOneFinding(t *testing.T) {
	r := localRun(t, 60, localStep{10, demoted}, localStep{20, resumed}, localStep{22, demoted}, localStep{22.5, demoted})
	n := 0
	for _, f := range r.findings {
		if f.Kind == SelfDemoted {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d self_demoted notices, want the one raise:\n%s", n, r.dump())
	}
	a := r.engine.active[fkey{kind: SelfDemoted, iface: "eth0", vrid: 51, sub: "VI_1"}]
	if a == nil || strings.Contains(a.f.Message, "takes part in elections again") {
		t.Errorf("active finding after the second demotion: %+v", a)
	}
}

func TestSelfDemotedFamilyFromTheRival(t *testing.T) {
	d := demoted
	d.Family, d.Rival, d.VIPs, d.RivalMAC = vrrp.FamilyUnknown, ip("fe80::2"), []netip.Addr{ip("fd00::100")}, obs.MAC{}
	r := localRun(t, 30, localStep{1, d}, localStep{10, resumed})
	f := r.raisedBetween(t, SelfDemoted, 1, 1)
	if f.Family != vrrp.IPv6 || len(f.MACs) != 0 || !strings.Contains(f.Message, "fe80::2 (priority 200) is master") {
		t.Errorf("finding %+v", f)
	}
	r.resolvedBetween(t, SelfDemoted, 15, 15)
}

func TestSelfResumedWithoutDemotionIsNothing(t *testing.T) {
	localRun(t, 30, localStep{5, resumed}).noFindings(t)
}

func TestSelfDemotedFingerprintStableAcrossRestarts(t *testing.T) {
	a := localRun(t, 20, localStep{3, demoted}).find(SelfDemoted, Raised)
	later := demoted
	later.Evidence = "3 adverts since 13:00:00" // a restart sees other evidence
	b := localRun(t, 20, localStep{7, later}).find(SelfDemoted, Raised)
	if a == nil || b == nil || a.Fingerprint != b.Fingerprint {
		t.Fatalf("fingerprints %+v %+v", a, b)
	}
	other := demoted
	other.VRID = 52
	if c := localRun(t, 20, localStep{3, other}).find(SelfDemoted, Raised); c.Fingerprint == a.Fingerprint {
		t.Error("another VRID shares the fingerprint")
	}
}

var localVIP = LocalVIPOnBackup{Instance: "VI_1", Interface: "eth0", VRID: 51, VIP: ip("10.0.0.100"), MAC: obs.MAC{2, 0, 0, 0, 0, 2}}

func TestLocalVIPOnBackupStillPresent(t *testing.T) {
	gone := localVIP
	gone.Removed = true
	r := localRun(t, 200, localStep{10, localVIP}, localStep{150, gone})
	f := r.raisedBetween(t, VIPOnBackup, 10, 10)
	if f.Family != vrrp.IPv4 || f.VIPs[0] != ip("10.0.0.100") || f.Severity != Critical {
		t.Errorf("finding %+v", f)
	}
	for _, want := range []string{"instance VI_1 (VRID 51 on eth0) is backup on this node", "10.0.0.100 is configured on eth0", "remove it on this node"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	// It lasts until the follow-up says the address is gone.
	r.resolvedBetween(t, VIPOnBackup, 155, 155)
	if res := r.find(VIPOnBackup, Resolved); !strings.Contains(res.Message, "vrrpguard removed it") {
		t.Errorf("resolved notice %q", res.Message)
	}
}

func TestLocalVIPOnBackupRemoved(t *testing.T) {
	gone := localVIP
	gone.Removed = true
	r := localRun(t, 30, localStep{10, gone})
	f := r.raisedBetween(t, VIPOnBackup, 10, 10)
	if !strings.Contains(f.Message, "vrrpguard removed it") || !strings.Contains(f.Message, "find out what added it") {
		t.Errorf("message %q", f.Message)
	}
	r.resolvedBetween(t, VIPOnBackup, 15, 15)
}

func TestLocalVIPOnBackupIsNotTheWireFinding(t *testing.T) {
	// The wire view of the same address keeps its own finding and
	// fingerprint: resolving one does not resolve the other.
	e, _ := New(DefaultParams(), nil)
	var wire *Finding
	for _, o := range sortObs(every(A, 0, 30, 1), []obs.Observation{garp(20.2, "10.0.0.100", "02:00:00:00:00:99")}) {
		for _, out := range e.Observe(&o) {
			if out.Finding != nil && out.Finding.Kind == VIPOnBackup {
				f := *out.Finding
				wire = &f
			}
		}
	}
	outs, err := e.Local(at(21), localVIP)
	if err != nil || len(outs) != 1 || outs[0].Finding == nil || wire == nil {
		t.Fatalf("outputs %+v, err %v, wire %+v", outs, err, wire)
	}
	if outs[0].Finding.Fingerprint == wire.Fingerprint {
		t.Error("the local and the wire finding share a fingerprint")
	}
	if n := e.Stats().ActiveFindings; n != 2 {
		t.Errorf("%d active findings, want 2", n)
	}
}

func TestLocalFactErrors(t *testing.T) {
	noRival := demoted
	noRival.Rival = netip.Addr{}
	noInstance := resumed
	noInstance.Instance = ""
	noVIP := localVIP
	noVIP.VIP = netip.Addr{}
	noIface := localVIP
	noIface.Interface = ""
	noVRID := demoted
	noVRID.VRID = 0
	tests := []struct {
		name string
		fact LocalFact
		want string
	}{
		{"nil", nil, "no local fact"},
		{"no rival", noRival, "self_demoted: no rival address"},
		{"no instance", noInstance, "self_resumed: no instance name"},
		{"no vip", noVIP, "local vip_on_backup: no virtual address"},
		{"no interface", noIface, "local vip_on_backup: no interface"},
		{"no vrid", noVRID, "self_demoted: no VRID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := New(DefaultParams(), nil)
			outs, err := e.Local(at(1), tt.fact)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error (-want +got):\n- %s\n+ %v", tt.want, err)
			}
			if len(outs) != 0 || e.Stats().ActiveFindings != 0 {
				t.Errorf("a bad fact changed the engine: %+v", outs)
			}
		})
	}
}
