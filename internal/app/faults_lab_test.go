package app

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// wireAdvert is one advertisement seen on the wire.
type wireAdvert struct {
	at   time.Time
	src  netip.Addr
	prio uint8
}

// wireAdverts reads the adverts of a recording.
func wireAdverts(t *testing.T, path string) []wireAdvert {
	t.Helper()
	var out []wireAdvert
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if o.Kind == obs.KindAdvert {
			out = append(out, wireAdvert{at: o.Time, src: o.Src, prio: o.Advert.Priority})
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// overlapAfter measures, in a recording's adverts, how long two masters
// advertised at once after t0: from the first advert of comer (priority
// above 0) to the last advert of leaver (above 0) that followed it; 0 when
// leaver sent none after it. n counts those adverts of leaver.
func overlapAfter(ads []wireAdvert, t0 time.Time, comer, leaver netip.Addr) (first time.Time, overlap time.Duration, n int, ok bool) {
	for _, a := range ads {
		if a.at.Before(t0) || a.prio == 0 {
			continue
		}
		if first.IsZero() {
			if a.src == comer {
				first = a.at
			}
			continue
		}
		if a.src == leaver {
			overlap, n = a.at.Sub(first), n+1
		}
	}
	return first, overlap, n, !first.IsZero()
}

// addrEvents subscribes to address changes in h's namespace; the channel
// carries them until the test ends.
func addrEvents(t *testing.T, h *netlab.Host) <-chan netlink.AddrUpdate {
	t.Helper()
	ch, done := make(chan netlink.AddrUpdate, 1024), make(chan struct{})
	if err := h.Do(func() error { return netlink.AddrSubscribe(ch, done) }); err != nil {
		t.Fatalf("subscribe to address events in %s: %v", h, err)
	}
	t.Cleanup(func() { close(done) })
	return ch
}

// waitAddrEvent waits for an event adding (or removing) ip.
func waitAddrEvent(t *testing.T, ch <-chan netlink.AddrUpdate, ip string, added bool, timeout time.Duration) time.Time {
	t.Helper()
	want := netip.MustParseAddr(ip)
	deadline := time.After(timeout)
	for {
		select {
		case u := <-ch:
			if a, ok := netip.AddrFromSlice(u.LinkAddress.IP); ok && a.Unmap() == want && u.NewAddr == added {
				return time.Now()
			}
		case <-deadline:
			t.Fatalf("no netlink event %s %s within %v", map[bool]string{true: "adding", false: "removing"}[added], ip, timeout)
			return time.Time{}
		}
	}
}

// TestRunKill9WhileMasterAndRestart: `vrrpguard run` master (150) is
// SIGKILLed (no resignation; its VIP stays on the interface, as after a
// crash), keepalived (100) takes over, and run is restarted within a second.
// At start run removes the stale VIP (a netlink delete before it becomes
// master again), then preempts; measured on the wire (tcpdump on the
// bridge), keepalived advertises for at most one advert interval after
// run's first advert: no second master for longer than that.
func TestRunKill9WhileMasterAndRestart(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1] // v3 over IPv4, 100 ms
	lab, a, b := labPair(t, f)
	wire := lab.Bridge().StartCapture(t, "br0", "ip", "proto", "112")
	n, kb := runMasterOverKeepalived(t, a, b, f)
	time.Sleep(500 * time.Millisecond)

	events := addrEvents(t, a)
	n.proc.Kill()
	killed := time.Now()
	if !a.HasAddr(f.vip) {
		t.Fatalf("after kill -9, %s is gone from a: want it left behind as after a crash", f.vip)
	}
	time.Sleep(500 * time.Millisecond)
	n.start(t)
	restarted := time.Now()
	waitAddrEvent(t, events, f.vip, false, 10*time.Second) // the stale VIP removed at start
	n.proc.WaitOutput(t, "entering MASTER state", 15*time.Second)
	waitHolder(t, lab, a, f.vip, 15*time.Second)
	time.Sleep(time.Second)
	onlyHolder(t, lab, a, f.vip, time.Second)

	ads := wireAdverts(t, wire.Stop())
	aAddr, bAddr := netip.MustParseAddr(f.subnet+"1"), netip.MustParseAddr(f.subnet+"2")
	bFirst, _, _, bOK := overlapAfter(ads, killed, bAddr, aAddr)
	first, overlap, nb, ok := overlapAfter(ads, restarted, aAddr, bAddr)
	if !ok {
		t.Fatalf("no advert from the restarted run (%s) on the wire", aAddr)
	}
	t.Logf("kill -9 (returned) → restart %v later; keepalived's first advert %v after the kill returned (%v, took over: %v); "+
		"run's first advert %v after restart; keepalived's adverts after it: %d over %v (advert_int %v)",
		restarted.Sub(killed).Round(time.Millisecond), bFirst.Sub(killed).Round(time.Millisecond), bOK, strings.Contains(kb.Log(), "Entering MASTER STATE"),
		first.Sub(restarted).Round(time.Millisecond), nb, overlap, f.interval)
	if overlap > f.interval {
		t.Errorf("two masters on the wire for %v after restart (keepalived sent %d adverts after run's first), want at most one advert interval (%v)", overlap, nb, f.interval)
	}
	if !strings.Contains(kb.Log(), "Entering MASTER STATE") {
		t.Errorf("keepalived never took over while run was dead:\n%s", kb.Log())
	}
}

// TestRunLinkDownUp: the interface of `vrrpguard run` (master, 150) goes
// down: run enters FAULT and drops its VIP, keepalived (100) takes over;
// back up, run returns through BACKUP to MASTER (it preempts) and the VIP is
// on run's node only, and run's watcher captures again.
func TestRunLinkDownUp(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, b := labPair(t, f)
	n, kb := runMasterOverKeepalived(t, a, b, f)

	a.SetLink(t, false)
	waitLogRecord(t, n.proc, map[string]string{"msg": "entering FAULT state", "from": "MASTER"}, 10*time.Second)
	a.WaitAddrGone(t, f.vip, 5*time.Second)
	waitHolder(t, lab, b, f.vip, 10*time.Second)

	a.SetLink(t, true)
	waitLogRecord(t, n.proc, map[string]string{"msg": "entering BACKUP state", "from": "FAULT"}, 10*time.Second)
	waitLogRecord(t, n.proc, map[string]string{"msg": "entering MASTER state", "from": "BACKUP"}, 10*time.Second)
	waitHolder(t, lab, a, f.vip, 10*time.Second)
	kb.WaitLogN(t, "Entering BACKUP STATE", 2, 10*time.Second)
	onlyHolder(t, lab, a, f.vip, time.Second)
	// The watcher half lost its capture with the link (ENETDOWN) and
	// reopened it: it sees the segment again.
	waitLogRecord(t, n.proc, map[string]string{"msg": "capture stopped; it resumes when the interface is back", "interface": "eth0"}, 5*time.Second)
	waitLogRecord(t, n.proc, map[string]string{"msg": "capture resumed", "interface": "eth0"}, 10*time.Second)
	const metrics, sample = "http://" + defaultRunListen + "/metrics", `vrrpguard_capture_received_packets_total{interface="eth0"}`
	before, _ := metricValue(t, a, metrics, sample)
	waitFor(t, "run's capture to count packets again", 10*time.Second, func() bool {
		v, _ := metricValue(t, a, metrics, sample)
		return v > before
	})
}

// procCounts are a process's open fds (and what they are) and goroutines.
func procCounts(t *testing.T, h *netlab.Host, pid int, metrics string) (fds []string, goroutines int) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		l, _ := os.Readlink(dir + "/" + e.Name())
		fds = append(fds, e.Name()+"→"+l)
	}
	resp, err := nsClient(h).Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return fds, int(parseMetrics(resp.Body)["go_goroutines"])
}

// TestRunManySIGHUPs: 100 SIGHUPs in 10 s to `vrrpguard run` (master, 150,
// keepalived 100 as backup) with an unchanged configuration: run's
// instance never changes state, and run holds no more fds or goroutines
// afterwards than before.
func TestRunManySIGHUPs(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, b := labPair(t, f)
	// --no-probe: the prober opens its socket on its first probe, which
	// could fall between the two counts.
	n := &runNode{host: a, conf: writeFile(t, "keepalived.conf", f.conf(150))}
	n.proc = a.Start(t, binary(t), "run", "--config", n.conf, "--listen", defaultRunListen, "--no-probe")
	n.proc.WaitOutput(t, "msg=starting", 10*time.Second)
	kb := b.StartKeepalived(t, f.conf(100))
	a.WaitAddr(t, f.vip, 15*time.Second)
	kb.WaitLog(t, "Entering BACKUP STATE", 15*time.Second)
	// One reload first, so that whatever a reload opens for good (nothing,
	// today) is in the baseline.
	n.proc.Signal(syscall.SIGHUP)
	n.proc.WaitOutput(t, "msg=reloaded", 10*time.Second)
	time.Sleep(time.Second)
	const metrics = "http://" + defaultRunListen + "/metrics"
	fds0, g0 := procCounts(t, a, n.proc.Pid(), metrics)
	entering0, kaLog0 := strings.Count(n.proc.Output(), "msg=\"entering"), kb.Log()

	for i := 0; i < 100; i++ {
		if err := n.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("SIGHUP %d: %v\n%s", i, err, n.proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the last reloads finish
	reloads := strings.Count(n.proc.Output(), "msg=reloaded")
	fds1, g1 := procCounts(t, a, n.proc.Pid(), metrics)
	t.Logf("100 SIGHUPs in 10 s: %d reloads logged (signals arriving during a reload coalesce); fds %d → %d, goroutines %d → %d", reloads-1, len(fds0), len(fds1), g0, g1)
	if reloads < 2 {
		t.Errorf("no reload logged after the SIGHUPs:\n%s", n.proc.Output())
	}
	if strings.Contains(n.proc.Output(), "reload failed") {
		t.Errorf("a reload failed:\n%s", n.proc.Output())
	}
	if e := strings.Count(n.proc.Output(), "msg=\"entering"); e != entering0 {
		t.Errorf("run changed state %d times during the SIGHUPs, want 0:\n%s", e-entering0, n.proc.Output())
	}
	// keepalived's transitions are only logged: on a loaded machine its
	// backup can miss Master_Down_Interval now and then whatever run does
	// (run stays MASTER then and keepalived yields at its next advert).
	if n := strings.Count(kb.Log(), "Entering MASTER STATE") - strings.Count(kaLog0, "Entering MASTER STATE"); n > 0 {
		t.Logf("keepalived took over %d times for a moment during the SIGHUPs (load); run's state did not change", n)
	}
	waitHolder(t, lab, a, f.vip, 5*time.Second)
	if len(fds1) > len(fds0) {
		t.Errorf("fds grew from %d to %d over 100 reloads:\nbefore %v\nafter  %v\n%s", len(fds0), len(fds1), fds0, fds1, a.Run(t, "ss", "-apne"))
	}
	if g1 > g0+2 {
		t.Errorf("goroutines grew from %d to %d over 100 reloads", g0, g1)
	}
}

// TestKeepalivedVIPRemovedByHand records keepalived 2.2.7's answer to its
// VIP being removed (ip addr del) while MASTER, the reference for run's: it
// notices (netlink), goes BACKUP with a priority-0 advert and removes its
// VIPs, then, as no peer outranks it, becomes MASTER again after Skew_Time
// and re-adds the VIP with a new GARP burst; the lower-priority peer stays
// BACKUP.
func TestKeepalivedVIPRemovedByHand(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, b := labPair(t, f)
	ka := a.StartKeepalived(t, f.conf(150))
	kb := b.StartKeepalived(t, f.conf(100))
	a.WaitAddr(t, f.vip, 15*time.Second)
	kb.WaitLog(t, "Entering BACKUP STATE", 15*time.Second)
	time.Sleep(500 * time.Millisecond)
	a.DelAddr(t, f.vip+f.plen)
	ka.WaitLog(t, "Netlink reflector reports IP "+f.vip+" removed from eth0", 5*time.Second)
	ka.WaitLog(t, "sent 0 priority", 5*time.Second)
	ka.WaitLogN(t, "Entering MASTER STATE", 2, 5*time.Second)
	waitHolder(t, lab, a, f.vip, 5*time.Second)
	kb.WaitLog(t, "Backup received priority 0 advertisement", 5*time.Second)
	if strings.Contains(kb.Log(), "Entering MASTER STATE") {
		t.Errorf("the backup took over:\n%s", kb.Log())
	}
}

// TestRunRestoresVIPRemovedByHand: `vrrpguard run` (master, 150) puts its
// VIP back as soon as it is removed by hand, and announces it again,
// without a transition (keepalived, above, goes through BACKUP with a
// priority-0 advert); keepalived (100) stays BACKUP.
func TestRunRestoresVIPRemovedByHand(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, b := labPair(t, f)
	n, kb := runMasterOverKeepalived(t, a, b, f)
	time.Sleep(500 * time.Millisecond)
	events := addrEvents(t, a)
	entering := strings.Count(n.proc.Output(), "msg=\"entering")
	removed := time.Now()
	a.DelAddr(t, f.vip+f.plen)
	waitAddrEvent(t, events, f.vip, false, 5*time.Second)
	back := waitAddrEvent(t, events, f.vip, true, 5*time.Second)
	waitLogRecord(t, n.proc, map[string]string{"msg": "virtual addresses were removed while master; restoring them", "addresses": "[" + f.vip + f.plen + "]"}, 5*time.Second)
	t.Logf("VIP removed by hand (ip addr del started), back within %v", back.Sub(removed).Round(time.Millisecond))
	onlyHolder(t, lab, a, f.vip, time.Second)
	if e := strings.Count(n.proc.Output(), "msg=\"entering"); e != entering {
		t.Errorf("run changed state %d times, want 0:\n%s", e-entering, n.proc.Output())
	}
	if strings.Count(kb.Log(), "Entering MASTER STATE") > 0 || strings.Contains(kb.Log(), "priority 0") {
		t.Errorf("keepalived saw a change of master:\n%s", kb.Log())
	}
}

// macvlan creates (or, with del, deletes) the interface name on h: a
// macvlan of eth0, which sees the segment's multicast and broadcast frames.
func macvlan(t *testing.T, h *netlab.Host, name string, del bool) {
	t.Helper()
	if del {
		h.Run(t, "ip", "link", "del", name)
		return
	}
	h.Run(t, "ip", "link", "add", name, "link", "eth0", "type", "macvlan", "mode", "bridge")
	h.Run(t, "ip", "link", "set", name, "up")
}

// advertsAfter counts the adverts watch printed with a time after t0.
func advertsAfter(t *testing.T, p *netlab.Proc, t0 time.Time) int {
	t.Helper()
	n := 0
	for _, a := range procJSON(t, p).adverts {
		if at, err := time.Parse(time.RFC3339Nano, a.Time); err == nil && at.After(t0) {
			n++
		}
	}
	return n
}

// metricValue reads one sample (name with its labels, as printed) from the
// /metrics page at url, reached from inside h.
func metricValue(t *testing.T, h *netlab.Host, url, sample string) (float64, bool) {
	t.Helper()
	resp, err := nsClient(h).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestWatchCaptureSurvivesInterfaceRecreated: the interface `watch`
// captures on is deleted and, 7 s later, created again with the same name:
// the capture resumes by itself; meanwhile capture_down is raised (past 5 s)
// and it resolves when capture resumes; the gap is in the log and the
// metrics (vrrpguard_capture_up, _restarts_total, _down_seconds_total),
// and the silence it caused is not reported as no_master. Also a link set
// down and up again: capture resumes.
func TestWatchCaptureSurvivesInterfaceRecreated(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, _ := labPair(t, f)
	c := lab.AddHost("c", f.subnet+"3"+f.plen)
	a.StartKeepalived(t, f.conf(150))
	macvlan(t, c, "cap0", false)
	w := c.Start(t, binary(t), "watch", "--interface", "cap0", "--adverts", "--format", "json", "--listen", "127.0.0.1:9812", "--no-probe")
	w.WaitOutput(t, "msg=watching", 10*time.Second)
	const metrics = "http://127.0.0.1:9812/metrics"
	waitFor(t, "adverts on cap0", 15*time.Second, func() bool { return advertsAfter(t, w, time.Time{}) > 0 })
	// The restart counters exist at 0 from the start (so that increase()
	// shows the first restart on the dashboard).
	for _, m := range []string{`vrrpguard_capture_restarts_total{interface="cap0"}`, `vrrpguard_capture_down_seconds_total{interface="cap0"}`} {
		if v, ok := metricValue(t, c, metrics, m); !ok || v != 0 {
			t.Errorf("%s = %v (present %v) before any restart, want 0", m, v, ok)
		}
	}

	macvlan(t, c, "cap0", true)
	waitLogRecord(t, w, map[string]string{"msg": "capture stopped; it resumes when the interface is back", "interface": "cap0"}, 10*time.Second)
	if v, _ := metricValue(t, c, metrics, `vrrpguard_capture_up{interface="cap0"}`); v != 0 {
		t.Errorf("vrrpguard_capture_up = %v while cap0 is gone, want 0", v)
	}
	raised := waitJSONFinding(t, w, "capture_down", "raised", 15*time.Second)
	if raised.Interface != "cap0" {
		t.Errorf("capture_down raised for %q, want cap0", raised.Interface)
	}
	time.Sleep(time.Second)
	recreated := time.Now()
	macvlan(t, c, "cap0", false)
	waitLogRecord(t, w, map[string]string{"msg": "capture resumed", "interface": "cap0"}, 10*time.Second)
	waitJSONFinding(t, w, "capture_down", "resolved", 10*time.Second)
	waitFor(t, "adverts on the re-created cap0", 10*time.Second, func() bool { return advertsAfter(t, w, recreated) > 0 })
	if v, _ := metricValue(t, c, metrics, `vrrpguard_capture_up{interface="cap0"}`); v != 1 {
		t.Errorf("vrrpguard_capture_up = %v after cap0 came back, want 1", v)
	}
	if v, _ := metricValue(t, c, metrics, `vrrpguard_capture_restarts_total{interface="cap0"}`); v != 1 {
		t.Errorf("vrrpguard_capture_restarts_total = %v, want 1", v)
	}
	if v, _ := metricValue(t, c, metrics, `vrrpguard_capture_down_seconds_total{interface="cap0"}`); v < 5 {
		t.Errorf("vrrpguard_capture_down_seconds_total = %v, want the gap (> 5 s)", v)
	}

	// Down and up: no finding (back within 5 s), capture resumes.
	c.Run(t, "ip", "link", "set", "cap0", "down")
	waitFor(t, "the capture to stop again", 10*time.Second, func() bool {
		return strings.Count(w.Output(), `msg="capture stopped; it resumes when the interface is back" interface=cap0`) == 2
	})
	time.Sleep(500 * time.Millisecond)
	up := time.Now()
	c.Run(t, "ip", "link", "set", "cap0", "up")
	waitFor(t, "adverts on cap0 after down and up", 10*time.Second, func() bool { return advertsAfter(t, w, up) > 0 })
	if v, _ := metricValue(t, c, metrics, `vrrpguard_capture_restarts_total{interface="cap0"}`); v != 2 {
		t.Errorf("vrrpguard_capture_restarts_total = %v, want 2", v)
	}
	// The segment's master never stopped: the silence while cap0 was gone
	// was the watcher's own blindness, not a no_master.
	time.Sleep(time.Second)
	if f, ok := procJSON(t, w).finding("no_master", "raised"); ok {
		t.Errorf("no_master raised while the capture was down: %+v", f)
	}
	if err := w.Stop(); err != nil {
		t.Errorf("watch: %v\n%s", err, w.Output())
	}
}

// TestWatchWaitsForItsInterface: `watch --interface X` started before X
// exists waits (a log line) and captures once X appears.
func TestWatchWaitsForItsInterface(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	lab, a, _ := labPair(t, f)
	c := lab.AddHost("c", f.subnet+"3"+f.plen)
	a.StartKeepalived(t, f.conf(150))
	w := c.Start(t, binary(t), "watch", "--interface", "late0", "--adverts", "--format", "json", "--listen", "off", "--no-probe")
	waitLogRecord(t, w, map[string]string{"msg": "waiting for the interface to capture on", "interface": "late0"}, 10*time.Second)
	time.Sleep(time.Second)
	if !w.Running() {
		t.Fatalf("watch exited:\n%s", w.Output())
	}
	created := time.Now()
	macvlan(t, c, "late0", false)
	waitLogRecord(t, w, map[string]string{"msg": "capture resumed", "interface": "late0"}, 10*time.Second)
	waitFor(t, "adverts on late0", 10*time.Second, func() bool { return advertsAfter(t, w, created) > 0 })
	if err := w.Stop(); err != nil {
		t.Errorf("watch: %v\n%s", err, w.Output())
	}
}

// TestRunMissingInterfaceLikeKeepalived: an instance on an interface that
// does not exist is a configuration error for keepalived 2.2.7 (without
// dynamic_interfaces: "Non-existent interface specified in configuration",
// its VRRP child exits with a permanent CONFIG error and keepalived stops)
// and for `run` (an error naming the interface, exit 1).
func TestRunMissingInterfaceLikeKeepalived(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	_, a, _ := labPair(t, f)
	conf := writeFile(t, "keepalived.conf", netlab.Conf(netlab.Instance{Interface: "late0", VRID: 61, Priority: 150, Version: 3,
		AdvertInt: f.interval, VIPs: []string{f.vip + f.plen}}))
	dir := t.TempDir()
	k := a.Start(t, "keepalived", "-n", "-l", "-D", "--vrrp", "-f", conf, "-p", dir+"/pid", "-r", dir+"/vrrp.pid")
	select {
	case <-k.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("keepalived still runs with a missing interface:\n%s", k.Output())
	}
	for _, want := range []string{"Non-existent interface specified in configuration", "exited with permanent error CONFIG"} {
		if !strings.Contains(k.Output(), want) {
			t.Errorf("keepalived's log lacks %q:\n%s", want, k.Output())
		}
	}
	r := a.Start(t, binary(t), "run", "--config", conf, "--listen", "off")
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("run still runs with a missing interface:\n%s", r.Output())
	}
	if r.Err() == nil || !strings.Contains(r.Output(), "late0") {
		t.Errorf("run with a missing interface: %v, want exit 1 naming late0:\n%s", r.Err(), r.Output())
	}
}

// runMasterOverKeepalived starts `vrrpguard run` at priority 150 on a and a
// keepalived at 100 on b, and waits until run holds the VIP and keepalived
// is BACKUP.
func runMasterOverKeepalived(t *testing.T, a, b *netlab.Host, f runFlavour) (*runNode, *netlab.Keepalived) {
	t.Helper()
	n := startRun(t, a, f.conf(150))
	kb := b.StartKeepalived(t, f.conf(100))
	a.WaitAddr(t, f.vip, 15*time.Second)
	kb.WaitLog(t, "Entering BACKUP STATE", 15*time.Second)
	return n, kb
}
