package app

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/sniffer"
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

// output decodes everything the watcher printed so far (see
// decodeJSONLines: a line that is not JSON of a known type, nor a log
// record, fails the test).
func (l *pairLab) output() jsonOutput {
	l.t.Helper()
	return procJSON(l.t, l.watch)
}

// waitFinding waits until a finding of kind in state appears.
func (l *pairLab) waitFinding(kind, state string, timeout time.Duration) output.FindingJSON {
	l.t.Helper()
	return waitJSONFinding(l.t, l.watch, kind, state, timeout)
}

// stop ends the watcher and checks it exited 0.
func (l *pairLab) stop() jsonOutput {
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

// --- normal life: no findings ---

func TestLabNormalLifeHasNoFindings(t *testing.T) {
	t.Parallel()
	l := newPairLab(t)
	ka := l.a.StartKeepalived(t, pairConf(netlab.Instance{State: "MASTER", Priority: 150, AuthPass: "pw"}))
	l.b.StartKeepalived(t, pairConf(netlab.Instance{State: "BACKUP", Priority: 100, AuthPass: "pw"}))
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
	cut := time.Now()
	l.b.DropVRRPFrom(t, "10.88.0.1") // b stops hearing a: both become master
	f := l.waitFinding("duplicate_master", "raised", 20*time.Second)
	checkFinding(t, f, 51)
	if f.Severity != "critical" || len(f.Sources) != 2 {
		t.Errorf("finding %+v", f)
	}
	first := jsonTime(t, "first_seen", f.FirstSeen)
	raised := jsonTime(t, "time", f.Time)
	if first.Before(cut) || raised.Before(first) {
		t.Errorf("first seen %v, raised %v: want both after the loss began (%v), in that order",
			first.Format(time.RFC3339Nano), raised.Format(time.RFC3339Nano), cut.Format(time.RFC3339Nano))
	}
	l.b.ClearDrops(t)
	l.waitFinding("duplicate_master", "resolved", 30*time.Second)
	out := l.stop()
	for k := range out.kinds("raised") {
		if k != "duplicate_master" {
			t.Errorf("unexpected %s", k)
		}
	}
	// Detection latency: from the second master's first advert, as tcpdump
	// recorded it on the monitoring host, to the raise (the time of the
	// packet that raised it, taken by the same host's kernel).
	path := capture.Stop()
	onset := firstAdvertAfter(t, path, "10.88.0.2", cut)
	d := raised.Sub(onset)
	t.Logf("duplicate_master raised %v after the second master's first advert (interval 1s)", d)
	if d < -time.Millisecond || d > 2*time.Second+100*time.Millisecond {
		t.Errorf("raised %v after the onset (first advert of 10.88.0.2 at %v), want within two intervals", d, onset.Format(time.RFC3339Nano))
	}
	// replay of the same traffic raises the same findings (kind and
	// fingerprint) and the same events.
	st, replayed, errs := run(t, "replay", "--format", "json", path)
	if st != ExitFindings {
		t.Fatalf("replay exit %d: %s", st, errs)
	}
	rep := decodeJSONLines(t, replayed, false, false)
	raisedSet := func(o jsonOutput) string {
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
	if a, b := strings.Join(out.reasons(), ","), strings.Join(rep.reasons(), ","); a != b || a == "" {
		t.Errorf("watch events %q, replay events %q", a, b)
	}
}

// firstAdvertAfter returns the time of src's first advert with a priority
// above 0 after the given time in the recording at path; none fails the
// test.
func firstAdvertAfter(t *testing.T, path, src string, after time.Time) time.Time {
	t.Helper()
	addr := netip.MustParseAddr(src)
	var first time.Time
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if first.IsZero() && o.Kind == obs.KindAdvert && o.Src == addr && o.Advert.Priority > 0 && o.Time.After(after) {
			first = o.Time
		}
	}); err != nil {
		t.Fatal(err)
	}
	if first.IsZero() {
		t.Fatalf("no advert from %s after %v in %s", src, after.Format(time.RFC3339Nano), path)
	}
	return first
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
	for _, k := range []*netlab.Keepalived{kb, ka} {
		if err := k.Stop(); err != nil {
			t.Fatalf("keepalived stop: %v", err)
		}
	}
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
