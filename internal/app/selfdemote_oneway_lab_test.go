package app

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// owConf is the keepalived.conf of one node of the pairs below: VRRPv2,
// one-second adverts, the same password on both nodes (their adverts are
// valid to each other), one VIP subnet+"100".
func owConf(subnet string, vrid, prio int) string {
	return netlab.Conf(netlab.Instance{Name: "VI_OW", VRID: vrid, Priority: prio, Version: 2, AdvertInt: time.Second,
		AuthPass: "samepass", VIPs: []string{subnet + "100/24"}})
}

// writeYAML writes a vrrpguard YAML file and returns its path.
func writeYAML(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vrrpguard.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// demotionStatus is the part of `run`'s /api/v1/status these tests read.
type demotionStatus struct {
	Demotion []struct {
		Instance string `json:"instance"`
		Mode     string `json:"mode"`
		Rivals   []struct {
			Address string `json:"address"`
			Claim   string `json:"claim"`
		} `json:"rivals"`
	} `json:"demotion"`
}

func readDemotion(t *testing.T, h *netlab.Host) demotionStatus {
	t.Helper()
	out := h.Run(t, "curl", "-sf", "http://"+defaultRunListen+statusPath)
	var st demotionStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status of %s: %v\n%s", h, err, out)
	}
	return st
}

// TestSelfDemoteOneWayLoss: a firewall on the vrrpguard node drops VRRP
// from the keepalived peer after capture (an nftables input rule; the
// packet socket still sees the adverts), the one-way loss of DESIGN.md.
//   - vrrpguard lower (100) than keepalived (150): vrrpguard never hears
//     the master, becomes master next to it, sees keepalived's valid,
//     higher adverts keep arriving while it is MASTER and yields; then the
//     VIP stays on keepalived alone, with no oscillation, for 20 s.
//   - vrrpguard higher (150): keepalived hears it and goes (and stays)
//     backup; keepalived is silent, so vrrpguard has no rival: it holds
//     the VIP alone for 20 s (twice the default hold) and never demotes.
func TestSelfDemoteOneWayLoss(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	const stable = 20 * time.Second
	t.Run("vrrpguard-lower", func(t *testing.T) {
		t.Parallel()
		const subnet, vip = "10.101.0.", "10.101.0.100"
		lab := netlab.New(t)
		a := lab.AddHost("a", subnet+"1/24")
		b := lab.AddHost("b", subnet+"2/24")
		k := a.StartKeepalived(t, owConf(subnet, 101, 150))
		a.WaitAddr(t, vip, 10*time.Second)
		b.DropVRRPFrom(t, subnet+"1")
		g := startSelfDemote(t, b, owConf(subnet, 101, 100))

		g.WaitOutput(t, "entering MASTER state", 10*time.Second)
		master := time.Now()
		f := waitFinding(t, g, "self_demoted", "raised", 10*time.Second)
		took := time.Since(master)
		t.Logf("vrrpguard yielded %v after becoming master next to keepalived", took)
		// Two of keepalived's adverts after the promotion confirm it.
		if took > 3*time.Second {
			t.Errorf("vrrpguard yielded %v after becoming master, want within 2 advert intervals (+1 s)", took)
		}
		msg, _ := f["message"].(string)
		for _, want := range []string{subnet + "1", "outranks this node", "firewall"} {
			if !strings.Contains(msg, want) {
				t.Errorf("self_demoted message lacks %q: %s", want, msg)
			}
		}
		if out := g.Output(); !strings.Contains(out, "reason=outranked") || !strings.Contains(out, "claim=unheard_adverts") {
			t.Errorf("no demotion logged as outranked by unheard adverts:\n%s", out)
		}
		waitHolder(t, lab, a, vip, 2*time.Second)
		onlyHolder(t, lab, a, vip, stable)

		if n := strings.Count(g.Output(), "entering MASTER state"); n != 1 {
			t.Errorf("vrrpguard entered MASTER %d times, want 1:\n%s", n, g.Output())
		}
		if n := strings.Count(k.Log(), "Entering MASTER STATE"); n != 1 {
			t.Errorf("keepalived entered MASTER %d times, want 1:\n%s", n, k.Log())
		}
		if fs := findingLines(t, g, "self_demoted", "resolved"); len(fs) != 0 {
			t.Errorf("self_demoted resolved while keepalived is live: %v", fs)
		}
		st := readDemotion(t, b)
		if len(st.Demotion) != 1 || st.Demotion[0].Mode != "demoted" {
			t.Errorf("status demotion = %+v, want VI_OW demoted", st.Demotion)
		}
	})
	t.Run("vrrpguard-higher", func(t *testing.T) {
		t.Parallel()
		const subnet, vip = "10.102.0.", "10.102.0.100"
		lab := netlab.New(t)
		a := lab.AddHost("a", subnet+"1/24")
		b := lab.AddHost("b", subnet+"2/24")
		// keepalived first, so it is master when vrrpguard starts: the
		// drop matters (vrrpguard takes over by Master_Down_Interval, not
		// by preemption) and keepalived's last adverts are captured.
		k := a.StartKeepalived(t, owConf(subnet, 102, 100))
		a.WaitAddr(t, vip, 10*time.Second)
		b.DropVRRPFrom(t, subnet+"1")
		g := startSelfDemote(t, b, owConf(subnet, 102, 150))

		took := waitHolder(t, lab, b, vip, 10*time.Second)
		t.Logf("vrrpguard holds the VIP alone %v after its start", took)
		k.WaitLogN(t, "Entering BACKUP STATE", 2, 2*time.Second) // init, and yielding to vrrpguard
		onlyHolder(t, lab, b, vip, stable)

		if fs := findingLines(t, g, "self_demoted", "raised"); len(fs) != 0 {
			t.Errorf("vrrpguard demoted itself: %v", fs)
		}
		if out := g.Output(); strings.Contains(out, "giving up the virtual addresses") {
			t.Errorf("vrrpguard gave up its addresses:\n%s", out)
		}
		if n := strings.Count(g.Output(), "entering MASTER state"); n != 1 {
			t.Errorf("vrrpguard entered MASTER %d times, want 1:\n%s", n, g.Output())
		}
		if n := strings.Count(k.Log(), "Entering MASTER STATE"); n != 1 {
			t.Errorf("keepalived entered MASTER %d times, want 1 (before vrrpguard started):\n%s", n, k.Log())
		}
		if st := readDemotion(t, b); len(st.Demotion) != 1 || st.Demotion[0].Mode != "normal" {
			t.Errorf("status demotion = %+v, want VI_OW normal", st.Demotion)
		}
	})
}

// TestSelfDemoteWireLossNoDemotion: VRRP is lost on the wire between the
// two nodes (the bridge drops it between their ports, both ways), so
// neither vrrpguard's capture nor its socket ever sees keepalived's
// adverts. vrrpguard (100) is outranked by keepalived (150) but has no
// evidence of it: it must not demote and keeps its VIP (a split brain it
// cannot see, only ARP for the VIP from keepalived's MAC reaches it),
// while `vrrpguard watch` on a third host, which sees both, raises
// duplicate_master.
func TestSelfDemoteWireLossNoDemotion(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	const subnet, vip = "10.103.0.", "10.103.0.100"
	lab := netlab.New(t)
	a := lab.AddHost("a", subnet+"1/24")
	b := lab.AddHost("b", subnet+"2/24")
	c := lab.AddHost("c", subnet+"3/24")
	w := c.Start(t, binary(t), "watch", "--interface", "eth0", "--format", "json", "--listen", "off")
	w.WaitOutput(t, "watching", 10*time.Second)
	k := a.StartKeepalived(t, owConf(subnet, 103, 150))
	a.WaitAddr(t, vip, 10*time.Second)
	lab.DropVRRPOnWire(t, a, b)
	lab.DropVRRPOnWire(t, b, a)
	g := startSelfDemote(t, b, owConf(subnet, 103, 100))

	b.WaitAddr(t, vip, 10*time.Second) // Master_Down_Interval: b hears no master
	split := time.Now()
	f := waitFinding(t, w, "duplicate_master", "raised", 10*time.Second)
	if raised, err := time.Parse(time.RFC3339Nano, fmt.Sprint(f["time"])); err == nil {
		t.Logf("watch on c raised duplicate_master %v from vrrpguard's VIP being seen (polled every 20 ms)", raised.Sub(split))
	}
	srcs := fmt.Sprint(f["sources"])
	if !strings.Contains(srcs, subnet+"1") || !strings.Contains(srcs, subnet+"2") {
		t.Errorf("duplicate_master sources %s, want both nodes", srcs)
	}
	// Both keep the VIP, past the default hold and several
	// Master_Down_Intervals.
	for end := split.Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if hs := lab.Holders(vip); len(hs) != 2 {
			t.Fatalf("%s held by %v %v after the split brain, want both a and b", vip, hs, time.Since(split))
		}
	}
	if fs := findingLines(t, g, "self_demoted", "raised"); len(fs) != 0 {
		t.Errorf("vrrpguard demoted itself without seeing keepalived: %v", fs)
	}
	if out := g.Output(); strings.Contains(out, "giving up the virtual addresses") {
		t.Errorf("vrrpguard gave up its addresses:\n%s", out)
	}
	st := readDemotion(t, b)
	if len(st.Demotion) != 1 || st.Demotion[0].Mode != "normal" || len(st.Demotion[0].Rivals) != 0 {
		t.Errorf("status demotion = %+v, want VI_OW normal with no rival tracked (nothing of keepalived seen)", st.Demotion)
	}
	if n := strings.Count(k.Log(), "Entering BACKUP STATE"); n != 1 {
		t.Errorf("keepalived entered BACKUP %d times, want 1 (init):\n%s", n, k.Log())
	}
	if n := lab.WireDrops(t); n == 0 {
		t.Errorf("the wire drop dropped nothing")
	}
}

// neighEntry is c's neighbour entry for an address at a time.
type neighEntry struct {
	at         time.Time
	mac, state string
}

// neigh reads h's neighbour entry for ip on eth0 ("" when there is none).
func neigh(t *testing.T, h *netlab.Host, ip string) neighEntry {
	t.Helper()
	out := h.Run(t, "ip", "neigh", "show", ip, "dev", "eth0")
	e := neighEntry{at: time.Now()}
	f := strings.Fields(out)
	for i, w := range f {
		if w == "lladdr" && i+1 < len(f) {
			e.mac = f[i+1]
		}
	}
	if len(f) > 0 {
		e.state = f[len(f)-1]
	}
	return e
}

// frame is one captured frame the re-announcement test cares about.
type frame struct {
	at     time.Time
	srcMAC string
	advert bool       // a VRRP advert (else an ARP packet)
	src    netip.Addr // IP source, or ARP sender address
	prio   uint8      // advert priority
}

// readFrames returns the VRRP adverts and ARP packets of a pcap file.
func readFrames(t *testing.T, path string) []frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if eth == nil {
			continue
		}
		fr := frame{at: ci.Timestamp, srcMAC: eth.SrcMAC.String()}
		if arp, _ := p.Layer(layers.LayerTypeARP).(*layers.ARP); arp != nil {
			fr.src, _ = netip.AddrFromSlice(arp.SourceProtAddress)
			out = append(out, fr)
			continue
		}
		if ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ip != nil && ip.Protocol == 112 && len(ip.Payload) >= 3 {
			fr.advert, fr.prio = true, ip.Payload[2]
			fr.src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			out = append(out, fr)
		}
	}
	return out
}

// TestSelfDemoteReannounce: after a split brain ends in vrrpguard's favour,
// hosts on the segment reach vrrpguard again at once. vrrpguard
// (--self-demote, 150, hold 20 s) is master; keepalived (100) cannot hear
// it (its input drops vrrpguard's adverts), becomes master too and
// announces the VIP, so host c's neighbour entry for the VIP points at
// keepalived's MAC. vrrpguard sees keepalived's adverts, outranks it and
// holds. The drop is cleared within the hold: keepalived hears vrrpguard
// and steps down without a word (no priority-0 advert, no announcement),
// and c's entry, which c itself does not refresh, would stay on
// keepalived's MAC. vrrpguard re-announces, once, and c's entry points at
// vrrpguard's MAC within one second of keepalived's last advert and of its
// release of the VIP. The control runs vrrpguard without --self-demote:
// c's entry then stays on keepalived's MAC.
func TestSelfDemoteReannounce(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, tc := range []struct {
		name       string
		selfDemote bool
		subnet     string
		vrid       int
	}{
		{name: "self-demote", selfDemote: true, subnet: "10.104.0.", vrid: 104},
		{name: "control-without-self-demote", subnet: "10.106.0.", vrid: 106},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testReannounce(t, tc.selfDemote, tc.subnet, tc.vrid)
		})
	}
}

func testReannounce(t *testing.T, selfDemote bool, subnet string, vrid int) {
	vip := subnet + "100"
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{Name: "VI_RA", VRID: vrid, Priority: prio, Version: 3,
			AdvertInt: 100 * time.Millisecond, VIPs: []string{vip + "/24"}})
	}
	lab := netlab.New(t)
	a := lab.AddHost("a", subnet+"1/24")
	b := lab.AddHost("b", subnet+"2/24")
	c := lab.AddHost("c", subnet+"3/24")
	capt := c.StartCapture(t, "eth0", "vrrp or arp")
	var g *netlab.Proc
	if selfDemote {
		g = startSelfDemote(t, a, conf(150), "--config", writeYAML(t, "self_demote:\n  enabled: true\n  hold: 20s\n"))
	} else {
		g = startRun(t, a, conf(150)).proc
	}
	a.WaitAddr(t, vip, 5*time.Second)
	c.Ping(t, vip)
	if e := neigh(t, c, vip); e.mac != a.MAC().String() {
		t.Fatalf("c's entry for %s: %+v, want vrrpguard's MAC %s", vip, e, a.MAC())
	}
	holding := func() bool {
		st := readDemotion(t, a)
		return len(st.Demotion) == 1 && st.Demotion[0].Mode == "holding"
	}

	b.DropVRRPFrom(t, subnet+"1")
	k := b.StartKeepalived(t, conf(100))
	k.WaitLog(t, "Entering MASTER STATE", 5*time.Second)
	if selfDemote {
		waitFor(t, "vrrpguard holding against keepalived", 5*time.Second, holding)
	}
	// keepalived's announcements (5 GARPs at once, 5 more after
	// garp_master_delay, 5 s) move c's entry; c's ping makes c confirm it
	// (DELAY, PROBE, REACHABLE), then c stays quiet.
	waitFor(t, "keepalived's second GARP burst", 8*time.Second, func() bool {
		return strings.Count(k.Log(), "Sending/queueing gratuitous ARPs") >= 2
	})
	c.Ping(t, vip)
	waitFor(t, "c's entry for the VIP REACHABLE", 10*time.Second, func() bool { return neigh(t, c, vip).state == "REACHABLE" })
	if e := neigh(t, c, vip); e.mac != b.MAC().String() {
		t.Fatalf("c's entry for %s during the split brain: %+v, want keepalived's MAC %s", vip, e, b.MAC())
	}
	if selfDemote && !holding() {
		t.Fatalf("vrrpguard no longer holding before the drop is cleared: %+v", readDemotion(t, a).Demotion)
	}

	// End the split brain within the hold; watch c's entry.
	cleared := time.Now()
	b.ClearDrops(t)
	var released, stale time.Time // keepalived released the VIP; c's entry last seen on keepalived's MAC after that
	var hist []neighEntry
	for end := cleared.Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if released.IsZero() && !b.HasAddr(vip) {
			released = time.Now()
		}
		e := neigh(t, c, vip)
		if len(hist) == 0 || hist[len(hist)-1].mac != e.mac || hist[len(hist)-1].state != e.state {
			hist = append(hist, e)
		}
		if !released.IsZero() && e.mac == b.MAC().String() {
			stale = e.at
		}
		if !released.IsZero() && e.mac == a.MAC().String() {
			break
		}
	}
	for _, e := range hist {
		t.Logf("c's entry for %s at +%v: %s %s", vip, e.at.Sub(cleared).Round(time.Millisecond), e.mac, e.state)
	}
	if released.IsZero() {
		t.Fatalf("keepalived kept %s after the drop was cleared:\n%s", vip, k.Log())
	}
	k.WaitLog(t, "Entering BACKUP STATE", time.Second)
	t.Logf("keepalived released %s %v after the drop was cleared", vip, released.Sub(cleared).Round(time.Millisecond))
	last := hist[len(hist)-1]
	if !selfDemote {
		// Control: nothing moves c's entry off keepalived's MAC.
		for _, e := range hist {
			if e.mac != b.MAC().String() {
				t.Fatalf("without self-demotion c's entry moved to %s", e.mac)
			}
		}
		t.Logf("without self-demotion c's entry still on keepalived's MAC %v after keepalived released the VIP",
			stale.Sub(released).Round(time.Millisecond))
		if out := g.Output(); strings.Contains(out, "re-announcing") {
			t.Errorf("vrrpguard run without --self-demote re-announced:\n%s", out)
		}
		return
	}
	if last.mac != a.MAC().String() {
		t.Fatalf("c's entry for %s still %s 5 s after the drop was cleared, want vrrpguard's %s", vip, last.mac, a.MAC())
	}
	flip := last.at
	for _, e := range hist[:len(hist)-1] {
		if e.mac != b.MAC().String() {
			t.Errorf("c's entry for %s was %s before vrrpguard's re-announcement, want keepalived's %s", vip, e.mac, b.MAC())
		}
	}
	// After keepalived released the VIP, c's entry still pointed at it
	// until vrrpguard re-announced: nothing else moved it (see the control).
	if stale.IsZero() {
		t.Errorf("c's entry never seen on keepalived's MAC after keepalived released the VIP: the test shows nothing")
	} else {
		t.Logf("c's entry last seen on keepalived's MAC %v after keepalived released the VIP", stale.Sub(released).Round(time.Millisecond))
	}
	g.WaitOutput(t, "re-announcing the virtual addresses after a split brain", time.Second)

	// Wire times: keepalived's last advert and vrrpguard's first GARP
	// after it.
	onlyHolder(t, lab, a, vip, 2*time.Second) // past keepalived's answer window: one re-announcement only
	var lastAdvert, garp time.Time
	frames := readFrames(t, capt.Stop())
	for _, fr := range frames {
		if fr.advert && fr.srcMAC == b.MAC().String() && fr.prio > 0 {
			lastAdvert = fr.at
		}
	}
	for _, fr := range frames {
		if !fr.advert && fr.srcMAC == a.MAC().String() && fr.src.String() == vip && fr.at.After(lastAdvert) {
			garp = fr.at
			break
		}
	}
	if lastAdvert.IsZero() || garp.IsZero() {
		t.Fatalf("capture on c lacks keepalived's adverts (%v) or vrrpguard's GARP after them (%v)", lastAdvert, garp)
	}
	t.Logf("vrrpguard re-announced (first GARP on the wire) %v after keepalived's last advert (%v after the drop was cleared); c's entry moved %v after keepalived released the VIP",
		garp.Sub(lastAdvert).Round(time.Millisecond), lastAdvert.Sub(cleared).Round(time.Millisecond), flip.Sub(released).Round(time.Millisecond))
	if d := flip.Sub(released); d > time.Second {
		t.Errorf("c's entry pointed at vrrpguard %v after keepalived released the VIP, want within 1 s", d)
	}
	if d := garp.Sub(lastAdvert); d > time.Second {
		t.Errorf("vrrpguard re-announced %v after keepalived's last advert, want within 1 s", d)
	}
	if n := strings.Count(g.Output(), "re-announcing the virtual addresses after a split brain"); n != 1 {
		t.Errorf("vrrpguard re-announced %d times, want once:\n%s", n, g.Output())
	}
	if fs := findingLines(t, g, "self_demoted", "raised"); len(fs) != 0 {
		t.Errorf("vrrpguard demoted itself (keepalived yielded within the hold): %v", fs)
	}
}

// TestRunGuardRemovesHandAddedVIP: `vrrpguard run --self-demote` as BACKUP
// (keepalived master at 150, vrrpguard 100, the same password): the VIP
// added by hand on vrrpguard's node is removed at once and reported as
// vip_on_backup (JSON). The delay from `ip addr add` returning to the
// address being gone is measured over 7 repetitions (BENCHMARKS.md; target
// under 100 ms), over IPv4 (VRRPv2) and IPv6 (VRRPv3).
func TestRunGuardRemovesHandAddedVIP(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, tc := range []struct {
		name, a, b, vip, plen string
		version               int
		pass                  string
	}{
		{name: "ipv4", a: "10.105.0.1/24", b: "10.105.0.2/24", vip: "10.105.0.100", plen: "/24", version: 2, pass: "samepass"},
		{name: "ipv6", a: "fd10:105::1/64", b: "fd10:105::2/64", vip: "fd10:105::100", plen: "/64", version: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conf := func(prio int) string {
				return netlab.Conf(netlab.Instance{Name: "VI_GUARD", VRID: 105, Priority: prio, Version: tc.version,
					AdvertInt: time.Second, AuthPass: tc.pass, VIPs: []string{tc.vip + tc.plen}})
			}
			lab := netlab.New(t)
			a := lab.AddHost("a", tc.a)
			b := lab.AddHost("b", tc.b)
			a.StartKeepalived(t, conf(150))
			a.WaitAddr(t, tc.vip, 10*time.Second)
			g := startSelfDemote(t, b, conf(100))
			g.WaitOutput(t, "entering BACKUP state", 5*time.Second)
			onlyHolder(t, lab, a, tc.vip, time.Second)

			const reps = 7
			var delays []time.Duration
			for i := range reps {
				b.AddAddr(t, tc.vip+tc.plen)
				added := time.Now()
				for b.HasAddr(tc.vip) {
					if time.Since(added) > 5*time.Second {
						t.Fatalf("repetition %d: %s still on vrrpguard's node 5 s after ip addr add:\n%s", i, tc.vip, g.Output())
					}
					time.Sleep(200 * time.Microsecond)
				}
				delays = append(delays, time.Since(added))
				if i == 0 {
					var f map[string]any
					for f == nil && time.Since(added) < 2*time.Second {
						if fs := findingLines(t, g, "vip_on_backup", "raised"); len(fs) > 0 {
							f = fs[0]
						} else {
							time.Sleep(time.Millisecond)
						}
					}
					if f == nil {
						t.Fatalf("no vip_on_backup raised within 2 s of ip addr add:\n%s", g.Output())
					}
					printed := time.Since(added)
					if vips := fmt.Sprint(f["vips"]); !strings.Contains(vips, tc.vip) {
						t.Errorf("vip_on_backup vips %s, want %s", vips, tc.vip)
					}
					at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(f["time"]))
					if err != nil {
						t.Errorf("vip_on_backup time: %v", err)
					}
					t.Logf("vip_on_backup printed %v after ip addr add returned (finding time %v from it)", printed, at.Sub(added))
					if printed > 100*time.Millisecond {
						t.Errorf("vip_on_backup printed %v after ip addr add, want at once (under 100 ms)", printed)
					}
				}
				time.Sleep(300 * time.Millisecond)
			}
			if n := strings.Count(g.Output(), "VIP guard removed an address"); n != reps {
				t.Errorf("guard logged %d removals, want %d", n, reps)
			}
			t.Logf("vip_on_backup: %d raised, %d resolved lines", len(findingLines(t, g, "vip_on_backup", "raised")),
				len(findingLines(t, g, "vip_on_backup", "resolved")))
			sorted := slices.Clone(delays)
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			median, worst := sorted[len(sorted)/2], sorted[len(sorted)-1]
			t.Logf("guard removal delay after ip addr add returned, %d repetitions: median %v, max %v (all %v)", reps, median, worst, delays)
			if worst >= 100*time.Millisecond {
				t.Errorf("guard removed a hand-added VIP after %v at worst, want under 100 ms", worst)
			}
			onlyHolder(t, lab, a, tc.vip, time.Second)
		})
	}
}
