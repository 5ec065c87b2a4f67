package app

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/output"
)

// pairLab is a keepalived pair (a: 10.88.0.1, b: 10.88.0.2) and a
// monitoring host running `vrrpguard watch --format json`.
type pairLab struct {
	t     *testing.T
	lab   *netlab.Lab
	a, b  *netlab.Host
	mon   *netlab.Host
	watch *netlab.Proc
}

func newPairLab(t *testing.T, watchArgs ...string) *pairLab {
	t.Helper()
	netlab.Require(t)
	bin := binary(t)
	l := &pairLab{t: t, lab: netlab.New(t)}
	l.a = l.lab.AddHost("a", "10.88.0.1/24", "fd88::1/64")
	l.b = l.lab.AddHost("b", "10.88.0.2/24", "fd88::2/64")
	l.mon = l.lab.AddHost("mon", "10.88.0.9/24")
	args := append([]string{"watch", "--interface", "eth0", "--format", "json"}, watchArgs...)
	l.watch = l.mon.Start(t, bin, args...)
	l.watch.WaitOutput(t, "watching", 10*time.Second)
	return l
}

// pairConf is a keepalived.conf for one node.
func pairConf(in netlab.Instance) string {
	if in.VRID == 0 {
		in.VRID = 51
	}
	if in.AdvertInt == 0 {
		in.AdvertInt = time.Second
	}
	if in.VIPs == nil {
		in.VIPs = []string{"10.88.0.100/24"}
	}
	return netlab.Conf(in)
}

type labOutput struct {
	findings []output.FindingJSON
	events   []output.EventJSON
}

func (l *pairLab) output() labOutput {
	var o labOutput
	for _, line := range strings.Split(l.watch.Output(), "\n") {
		switch {
		case strings.HasPrefix(line, `{"type":"finding"`):
			var f output.FindingJSON
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				l.t.Fatalf("bad finding line %q: %v", line, err)
			}
			o.findings = append(o.findings, f)
		case strings.HasPrefix(line, `{"type":"event"`):
			var e output.EventJSON
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				l.t.Fatalf("bad event line %q: %v", line, err)
			}
			o.events = append(o.events, e)
		}
	}
	return o
}

// waitFinding waits until a finding of kind in state appears.
func (l *pairLab) waitFinding(kind, state string, timeout time.Duration) output.FindingJSON {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, f := range l.output().findings {
			if f.Kind == kind && f.State == state {
				return f
			}
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no %s %s within %v; watch printed:\n%s", kind, state, timeout, l.watch.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the watcher and checks it exited 0.
func (l *pairLab) stop() labOutput {
	l.t.Helper()
	l.watch.Signal(syscall.SIGTERM)
	select {
	case <-l.watch.Done():
	case <-time.After(10 * time.Second):
		l.t.Fatal("watch did not stop")
	}
	if err := l.watch.Err(); err != nil {
		l.t.Errorf("watch: %v", err)
	}
	return l.output()
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// parseFinding parses a JSON finding line.
func parseFinding(line string) (output.FindingJSON, bool) {
	var f output.FindingJSON
	if !strings.HasPrefix(line, `{"type":"finding"`) || json.Unmarshal([]byte(line), &f) != nil {
		return f, false
	}
	return f, true
}

func (o labOutput) kinds(state string) map[string]int {
	m := map[string]int{}
	for _, f := range o.findings {
		if f.State == state {
			m[f.Kind]++
		}
	}
	return m
}

func (o labOutput) reasons() []string {
	var r []string
	for _, e := range o.events {
		r = append(r, e.Reason)
	}
	return r
}

// --- normal life: no findings ---

func TestLabNormalLifeHasNoFindings(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	ka := l.a.StartKeepalived(t, pairConf(netlab.Instance{State: "MASTER", Priority: 150, AuthPass: "pw"}))
	kb := l.b.StartKeepalived(t, pairConf(netlab.Instance{State: "BACKUP", Priority: 100, AuthPass: "pw"}))
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(3 * time.Second)
	// Crash failover.
	ka.Crash()
	l.b.WaitAddr(t, "10.88.0.100", 15*time.Second)
	l.a.DelAddr(t, "10.88.0.100/24") // what an operator does after a crash
	time.Sleep(3 * time.Second)
	// Restart: preemption back to a.
	ka = l.a.StartKeepalived(t, pairConf(netlab.Instance{State: "MASTER", Priority: 150, AuthPass: "pw"}))
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	l.b.WaitAddrGone(t, "10.88.0.100", 15*time.Second)
	time.Sleep(3 * time.Second)
	// Clean hand-over.
	if err := ka.Stop(); err != nil {
		t.Fatal(err)
	}
	l.b.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(3 * time.Second)
	_ = kb
	out := l.stop()
	if len(out.findings) > 0 {
		t.Errorf("findings in normal life: %+v", out.findings)
	}
	want := []string{"election", "takeover", "preemption", "handover"}
	if got := strings.Join(out.reasons(), ","); got != strings.Join(want, ",") {
		t.Errorf("events %s, want %s", got, strings.Join(want, ","))
	}
}

// --- split brains and misconfigurations, each with real keepalived ---

func startPair(t *testing.T, l *pairLab, a, b netlab.Instance) (*netlab.Keepalived, *netlab.Keepalived) {
	t.Helper()
	if a.State == "" {
		a.State, a.Priority = "MASTER", 150
	}
	if b.State == "" {
		b.State, b.Priority = "BACKUP", 100
	}
	return l.a.StartKeepalived(t, pairConf(a)), l.b.StartKeepalived(t, pairConf(b))
}

func checkFinding(t *testing.T, f output.FindingJSON, vrid uint8) {
	t.Helper()
	if f.VRID != vrid || f.Fingerprint == "" || f.Message == "" || f.Interface != "eth0" || f.Family != "ipv4" {
		t.Errorf("finding %+v", f)
	}
}

func TestLabOneWayLossIsDuplicateMaster(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	capture := l.mon.StartCapture(t, "eth0")
	startPair(t, l, netlab.Instance{}, netlab.Instance{})
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(2 * time.Second)
	l.b.DropVRRPFrom(t, "10.88.0.1") // b stops hearing a: both become master
	f := l.waitFinding("duplicate_master", "raised", 20*time.Second)
	checkFinding(t, f, 51)
	if f.Severity != "critical" || len(f.Sources) != 2 {
		t.Errorf("finding %+v", f)
	}
	first, _ := time.Parse(time.RFC3339Nano, f.FirstSeen)
	raised, _ := time.Parse(time.RFC3339Nano, f.Time)
	t.Logf("duplicate_master raised %v after the second master's first advert (interval 1s)", raised.Sub(first))
	if d := raised.Sub(first); d > 2*time.Second+100*time.Millisecond {
		t.Errorf("detection took %v, want within two intervals", d)
	}
	l.b.ClearDrops(t)
	l.waitFinding("duplicate_master", "resolved", 30*time.Second)
	out := l.stop()
	for k := range out.kinds("raised") {
		if k != "duplicate_master" {
			t.Errorf("unexpected %s", k)
		}
	}
	// replay of the same traffic raises the same findings (kind and
	// fingerprint) and the same events.
	_, replayed, _ := run(t, "replay", "--format", "json", capture.Stop())
	var rep labOutput
	for _, line := range splitLines(replayed) {
		if f, ok := parseFinding(line); ok {
			rep.findings = append(rep.findings, f)
		}
		if strings.HasPrefix(line, `{"type":"event"`) {
			var e output.EventJSON
			json.Unmarshal([]byte(line), &e)
			rep.events = append(rep.events, e)
		}
	}
	raisedSet := func(o labOutput) string {
		var s []string
		for _, f := range o.findings {
			if f.State == "raised" {
				s = append(s, f.Kind+"/"+f.Fingerprint)
			}
		}
		return strings.Join(s, ",")
	}
	if a, b := raisedSet(out), raisedSet(rep); a != b || a == "" {
		t.Errorf("watch raised %q, replay of its traffic %q", a, b)
	}
	if a, b := strings.Join(out.reasons(), ","), strings.Join(rep.reasons(), ","); a != b {
		t.Errorf("watch events %q, replay events %q", a, b)
	}
}

func TestLabAuthMismatch(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	startPair(t, l, netlab.Instance{AuthPass: "alpha123"}, netlab.Instance{AuthPass: "bravo456"})
	f := l.waitFinding("auth_mismatch", "raised", 30*time.Second)
	checkFinding(t, f, 51)
	if strings.Contains(l.watch.Output(), "alpha123") || strings.Contains(l.watch.Output(), "bravo456") {
		t.Error("a password was printed")
	}
	// keepalived's split brain shows as duplicate masters too (adverts
	// or VIP announcements from both).
	l.waitFinding("duplicate_master", "raised", 30*time.Second)
	l.stop()
}

func TestLabVRIDMismatch(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	startPair(t, l, netlab.Instance{VRID: 51}, netlab.Instance{VRID: 52})
	f := l.waitFinding("vrid_mismatch", "raised", 30*time.Second)
	if !strings.Contains(f.Message, "VRID 51") || !strings.Contains(f.Message, "VRID 52") || f.VIPs[0] != "10.88.0.100" {
		t.Errorf("finding %+v", f)
	}
	l.stop()
}

func TestLabVRIDConflict(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	// b has another VIP list and a higher priority: it preempts, so both
	// lists are seen on the wire.
	startPair(t, l, netlab.Instance{}, netlab.Instance{State: "BACKUP", Priority: 200, VIPs: []string{"10.88.0.100/24", "10.88.0.200/24"}})
	f := l.waitFinding("vrid_conflict", "raised", 30*time.Second)
	checkFinding(t, f, 51)
	if len(f.VIPs) != 2 {
		t.Errorf("vips %v", f.VIPs)
	}
	l.stop()
}

func TestLabVersionMismatch(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	startPair(t, l, netlab.Instance{Version: 2}, netlab.Instance{Version: 3})
	f := l.waitFinding("version_mismatch", "raised", 30*time.Second)
	checkFinding(t, f, 51)
	l.stop()
}

func TestLabIntervalMismatch(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	startPair(t, l, netlab.Instance{AdvertInt: time.Second}, netlab.Instance{AdvertInt: 2 * time.Second})
	f := l.waitFinding("interval_mismatch", "raised", 30*time.Second)
	checkFinding(t, f, 51)
	l.stop()
}

func TestLabVIPAddedByHandOnBackup(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	startPair(t, l, netlab.Instance{}, netlab.Instance{})
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(2 * time.Second)
	l.b.AddAddr(t, "10.88.0.100/24")
	l.b.Arping(t, "10.88.0.100", 2)
	f := l.waitFinding("vip_on_backup", "raised", 15*time.Second)
	checkFinding(t, f, 51)
	if len(f.VIPs) != 1 || f.VIPs[0] != "10.88.0.100" || !strings.Contains(strings.Join(f.MACs, ","), l.b.MAC().String()) {
		t.Errorf("finding %+v (b is %s)", f, l.b.MAC())
	}
	// The operator removes it: the next probe goes unanswered by b.
	l.b.DelAddr(t, "10.88.0.100/24")
	l.waitFinding("vip_on_backup", "resolved", 20*time.Second)
	out := l.stop()
	if out.kinds("raised")["duplicate_master"] > 0 {
		t.Error("a VIP added by hand on a silent backup is not a duplicate master")
	}
}

func TestLabBothStoppedIsNoMaster(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	ka, kb := startPair(t, l, netlab.Instance{}, netlab.Instance{})
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(2 * time.Second)
	kb.Stop()
	ka.Stop()
	f := l.waitFinding("no_master", "raised", 15*time.Second)
	checkFinding(t, f, 51)
	// One node comes back: resolved.
	l.a.StartKeepalived(t, pairConf(netlab.Instance{State: "MASTER", Priority: 150}))
	l.waitFinding("no_master", "resolved", 30*time.Second)
	l.stop()
}

func TestLabRepeatedCrashesAreFlapping(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	a := netlab.Instance{State: "MASTER", Priority: 150, Version: 3, AdvertInt: 200 * time.Millisecond}
	b := netlab.Instance{State: "BACKUP", Priority: 100, Version: 3, AdvertInt: 200 * time.Millisecond}
	ka, _ := startPair(t, l, a, b)
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	for i := 0; i < 3; i++ {
		time.Sleep(time.Second)
		ka.Crash()
		l.b.WaitAddr(t, "10.88.0.100", 10*time.Second)
		l.a.DelAddr(t, "10.88.0.100/24")
		time.Sleep(time.Second)
		ka = l.a.StartKeepalived(t, pairConf(a))
		l.a.WaitAddr(t, "10.88.0.100", 10*time.Second)
		l.b.WaitAddrGone(t, "10.88.0.100", 10*time.Second)
	}
	f := l.waitFinding("master_flapping", "raised", 10*time.Second)
	checkFinding(t, f, 51)
	out := l.stop()
	if out.kinds("raised")["duplicate_master"] > 0 {
		t.Errorf("crashes and restarts are not a split brain: %+v", out.findings)
	}
}

// TestLabCrashLeavesVIPBehind: keepalived killed on the master leaves the
// VIP on its interface, and its kernel keeps answering ARP for it while the
// backup took over — two hosts answer for one address. Active probing
// finds it; removing the stale address resolves it.
func TestLabCrashLeavesVIPBehind(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	ka, _ := startPair(t, l, netlab.Instance{}, netlab.Instance{})
	l.a.WaitAddr(t, "10.88.0.100", 15*time.Second)
	time.Sleep(2 * time.Second)
	ka.Crash()
	l.b.WaitAddr(t, "10.88.0.100", 15*time.Second)
	f := l.waitFinding("duplicate_master", "raised", 30*time.Second)
	if !strings.Contains(f.Message, "10.88.0.1 still answers for 10.88.0.100") {
		t.Errorf("message %q", f.Message)
	}
	l.a.DelAddr(t, "10.88.0.100/24")
	l.waitFinding("duplicate_master", "resolved", 20*time.Second)
	l.stop()
}
