package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// routesFlavour is the virtual_routes test's network: VRRPv3 over IPv4,
// 100 ms adverts.
var routesFlavour = runFlavour{name: "v3-routes", version: 3, interval: 100 * time.Millisecond, subnet: "10.118.0.", plen: "/24", vip: "10.118.0.100"}

// routesConf is the instance of both nodes: two routes (one via a gateway
// on the segment, one blackhole) and a rule for the VIP as source.
func routesConf(f runFlavour, prio int) string {
	return netlab.Conf(netlab.Instance{Name: "VI_ROUTES", VRID: 118, Priority: prio, Version: f.version, AdvertInt: f.interval,
		VIPs: []string{f.vip + f.plen}, Extra: []string{
			"virtual_routes {",
			"    10.218.0.0/16 via 10.118.0.254 dev eth0 metric 7",
			"    blackhole 10.219.0.0/16 no_track",
			"    10.220.0.0/16 dev eth0 table 118",
			"    fd18:218::/48 dev eth0 metric 5",
			"}",
			"virtual_rules {",
			"    from " + f.vip + "/32 table 118 priority 118",
			"    to 10.221.0.0/16 table 118 priority 119",
			"    from fd18:100::/64 not fwmark 0x7/0xff lookup 118 priority 120",
			"}",
		}})
}

// keepalivedState lists the routes and rules with protocol keepalived on
// h, as `ip` prints them.
func keepalivedState(t *testing.T, h *netlab.Host) string {
	t.Helper()
	var lines []string
	for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-4", "rule", "show"},
		{"-6", "route", "show", "table", "all"}, {"-6", "rule", "show"}} {
		for _, l := range strings.Split(h.Run(t, "ip", args...), "\n") {
			if strings.Contains(l, "proto keepalived") {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// waitState waits until keepalivedState of h is want.
func waitState(t *testing.T, h *netlab.Host, want string, timeout time.Duration) {
	t.Helper()
	var got string
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = keepalivedState(t, h); got == want {
			return
		}
	}
	t.Fatalf("%s: routes and rules with proto keepalived:\n%s\nwant:\n%s", h, got, want)
}

// TestRunVirtualRoutes runs vrrpguard (priority 150) against keepalived
// (100), both with the same virtual_routes and virtual_rules: they are on
// the master only, move to keepalived when vrrpguard stops and back when
// it starts again (preemption), and what keepalived adds as master is
// exactly what vrrpguard adds (`ip route`/`ip rule` output compared).
func TestRunVirtualRoutes(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := routesFlavour
	lab, a, b := labPair(t, f)
	ka := b.StartKeepalived(t, routesConf(f, 100))
	g := startRun(t, a, routesConf(f, 150))
	waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)

	// Seven lines: four routes, three rules, on the master only.
	var mine string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if mine = keepalivedState(t, a); strings.Count(mine, "\n") == 6 {
			break
		}
	}
	for _, want := range []string{
		"10.218.0.0/16 via 10.118.0.254 dev eth0 proto keepalived metric 7",
		"blackhole 10.219.0.0/16 proto keepalived",
		"10.220.0.0/16 dev eth0 table 118 proto keepalived",
		"118:\tfrom 10.118.0.100 lookup 118 proto keepalived",
		"119:\tfrom all to 10.221.0.0/16 lookup 118 proto keepalived",
		"fd18:218::/48 dev eth0 proto keepalived metric 5 pref medium",
		"120:\tnot from fd18:100::/64 fwmark 0x7/0xff lookup 118 proto keepalived",
	} {
		if !strings.Contains(mine, want) {
			t.Errorf("vrrpguard master: no %q in\n%s", want, mine)
		}
	}
	waitState(t, b, "", time.Second)

	// vrrpguard stops (resigns): keepalived takes over with the same
	// routes and rules, and vrrpguard's are gone.
	if err := g.proc.Stop(); err != nil {
		t.Fatalf("vrrpguard exit: %v\n%s", err, g.proc.Output())
	}
	waitHolder(t, lab, b, f.vip, 5*time.Second)
	waitState(t, a, "", time.Second)
	waitState(t, b, mine, 5*time.Second)
	t.Logf("keepalived as master adds exactly what vrrpguard added:\n%s", mine)

	// vrrpguard again: it preempts, the routes and rules move back.
	g.start(t)
	waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
	waitState(t, a, mine, 5*time.Second)
	waitState(t, b, "", 5*time.Second)
	checkKeepalivedLog(t, ka)
}

// TestRunNoAccept checks accept mode on a master that is not the address
// owner (priority 100), for vrrpguard and, as the reference, keepalived:
// with no_accept, or vrrp_strict without accept, another host's ping to the
// VIP gets no answer (the master's own address answers), with accept it
// does. keepalived 2.2.7
// needs nothing in global_defs for that (it falls back to nftables, table
// ip keepalived); vrrpguard uses its own table inet vrrpguard, which it
// deletes at exit, and a stale one left by a crash is deleted at start.
func TestRunNoAccept(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	type tc struct {
		impl   string
		accept bool
		subnet string // IPv4 "10.N.0." or IPv6 "fdNN::"
		strict bool   // vrrp_strict and neither accept nor no_accept
	}
	var cases []tc
	for i, impl := range []string{"vrrpguard", "keepalived"} {
		for j, accept := range []bool{false, true} {
			cases = append(cases, tc{impl, accept, fmt.Sprintf("10.%d.0.", 124+2*i+j), false})
		}
		cases = append(cases, tc{impl, false, fmt.Sprintf("fd%d::", 24+i), false},
			tc{impl, false, fmt.Sprintf("10.%d.0.", 132+i), true})
	}
	for _, c := range cases {
		v6 := strings.Contains(c.subnet, ":")
		t.Run(fmt.Sprintf("%s/accept=%v/ipv6=%v/strict=%v", c.impl, c.accept, v6, c.strict), func(t *testing.T) {
			t.Parallel()
			plen := "/24"
			if v6 {
				plen = "/64"
			}
			f := runFlavour{name: "v3-accept", version: 3, interval: 100 * time.Millisecond, subnet: c.subnet, plen: plen, vip: c.subnet + "100"}
			mode := "no_accept"
			if c.accept {
				mode = "accept"
			}
			extra := []string{mode}
			if c.strict {
				// vrrp_strict without accept: no accept mode.
				extra = nil
			}
			conf := netlab.Conf(netlab.Instance{Name: "VI_ACCEPT", VRID: 124, Priority: 100, Version: 3,
				AdvertInt: f.interval, VIPs: []string{f.vip + f.plen}, Extra: extra})
			if c.strict {
				conf = "global_defs {\n    vrrp_strict\n}\n" + conf
			}
			lab, a, b := labPair(t, f)
			if c.impl == "vrrpguard" {
				// What a crashed run would leave behind.
				a.Run(t, "nft", "add table inet vrrpguard")
				a.Run(t, "nft", "add chain inet vrrpguard in { type filter hook input priority -1 ; ip daddr 10.0.0.1 drop ; }")
			}
			n := startNode(t, a, c.impl == "vrrpguard", conf)
			waitHolder(t, lab, a, f.vip, f.mdi(100)+5*time.Second)
			if err := b.Reach(f.subnet+"1", 5*time.Second); err != nil {
				t.Fatalf("the master's own address does not answer: %v\n%s", err, a.Run(t, "nft", "list", "ruleset"))
			}
			err := b.Reach(f.vip, 2*time.Second)
			switch {
			case c.accept && err != nil:
				t.Errorf("accept: ping %s: %v\n%s", f.vip, err, a.Run(t, "nft", "list", "ruleset"))
			case !c.accept && err == nil:
				t.Errorf("no_accept: %s answered a ping\n%s", f.vip, a.Run(t, "nft", "list", "ruleset"))
			}
			if v6 {
				// Neighbour discovery still works: the master answers
				// solicitations for the VIP, from the VIP.
				if neigh := b.Run(t, "ip", "-6", "neigh", "show", f.vip); !strings.Contains(neigh, "lladdr") {
					t.Errorf("no neighbour entry for %s after pinging it: %q", f.vip, neigh)
				}
			}
			rules := a.Run(t, "nft", "list", "ruleset")
			t.Logf("%s, %s, master: nft list ruleset:\n%s", c.impl, mode, rules)
			if c.accept && strings.TrimSpace(rules) != "" {
				t.Errorf("accept: nftables ruleset not empty (a stale table is not removed?):\n%s", rules)
			}
			if n.guard != nil {
				if err := n.guard.proc.Stop(); err != nil {
					t.Fatalf("vrrpguard exit: %v\n%s", err, n.guard.proc.Output())
				}
			} else if err := n.ka.Stop(); err != nil {
				t.Fatalf("keepalived exit: %v", err)
			}
			if left := a.Run(t, "nft", "list", "ruleset"); strings.TrimSpace(left) != "" {
				t.Errorf("%s left nftables rules after exit:\n%s", c.impl, left)
			}
		})
	}
}

// TestRunStatic checks static_ipaddress, static_routes and static_rules:
// configured at start, removed at exit, by vrrpguard as by keepalived 2.2.7
// (measured: keepalived removes them when it stops).
func TestRunStatic(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	var states [2]string
	for i, impl := range []string{"keepalived", "vrrpguard"} {
		t.Run(impl, func(t *testing.T) {
			subnet := fmt.Sprintf("10.%d.0.", 128+i)
			lab := netlab.New(t)
			a := lab.AddHost("a", subnet+"1/24")
			static := fmt.Sprintf("static_ipaddress {\n    192.0.2.%d/24 dev eth0\n}\n", 10+i) +
				"static_routes {\n    10.230.0.0/16 via " + subnet + "254 dev eth0\n    blackhole 10.231.0.0/16 no_track\n}\n" +
				"static_rules {\n    from 192.0.2.0/24 table 130 priority 130\n}\n"
			conf := static + netlab.Conf(netlab.Instance{Name: "VI_STATIC", VRID: 130, Priority: 100, Version: 3,
				AdvertInt: 100 * time.Millisecond, VIPs: []string{subnet + "100/24"}})
			n := startNode(t, a, impl == "vrrpguard", conf)
			a.WaitAddr(t, fmt.Sprintf("192.0.2.%d", 10+i), 5*time.Second)
			var got string
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if got = keepalivedState(t, a); strings.Count(got, "\n") == 2 {
					break
				}
			}
			states[i] = strings.ReplaceAll(got, subnet, "SUBNET.")
			for _, want := range []string{
				"10.230.0.0/16 via " + subnet + "254 dev eth0 proto keepalived",
				"blackhole 10.231.0.0/16 proto keepalived",
				"130:\tfrom 192.0.2.0/24 lookup 130 proto keepalived",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("%s: no %q in\n%s", impl, want, got)
				}
			}
			if n.guard != nil {
				if err := n.guard.proc.Stop(); err != nil {
					t.Fatalf("vrrpguard exit: %v\n%s", err, n.guard.proc.Output())
				}
			} else if err := n.ka.Stop(); err != nil {
				t.Fatalf("keepalived exit: %v", err)
			}
			a.WaitAddrGone(t, fmt.Sprintf("192.0.2.%d", 10+i), 5*time.Second)
			waitState(t, a, "", 5*time.Second)
		})
	}
	if states[0] != states[1] {
		t.Errorf("static routes and rules differ:\nkeepalived:\n%s\nvrrpguard:\n%s", states[0], states[1])
	}
}
