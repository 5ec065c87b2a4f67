package participant

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestRoutesAndRulesLab adds every kind of route and rule the parser
// accepts to a lab namespace's kernel, compares `ip route`/`ip rule` with
// what iproute2 prints for them, and removes them again.
func TestRoutesAndRulesLab(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.141.0.1/24")
	a.Run(t, "ip", "-6", "addr", "add", "fd41::1/64", "dev", "eth0", "nodad")
	conf := `vrrp_instance VI {
 interface eth0
 virtual_router_id 41
 virtual_ipaddress { 10.141.0.100/24 }
 virtual_routes {
  10.241.0.0/16 src 10.141.0.1 via 10.141.0.254 dev eth0 metric 3
  10.242.0.0/16 via 10.141.0.254 dev eth0 onlink table 141
  unreachable 10.243.0.0/16
  prohibit 10.244.0.0/16 table 141
  throw 10.245.0.0/16 table 141
  10.246.0.0/16 dev eth0 scope link protocol static no_track
  fd41:1::/48 via fd41::fe dev eth0 metric 9
  blackhole default table 142
 }
 virtual_rules {
  from 10.141.0.100 to 10.250.0.0/16 tos 8 table 141 priority 100
  not fwmark 0x10/0xf0 iif eth0 lookup 141 priority 101
  from all goto 200 priority 102
  to 10.251.0.0/16 nop priority 103
  oif eth0 type prohibit priority 104
  ipproto tcp sport 1000-2000 dport 443 table 141 priority 105
  uidrange 1000-1999 table 141 suppress_prefixlength 0 priority 106
  from fd41::/64 blackhole priority 107
  to 10.252.0.0/16 table 141 priority 108 no_track
 }
}
`
	k, w, err := keepalived.Parse("k.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
	in := k.Instances[0]
	show := func() []string {
		var out []string
		for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-6", "route", "show", "table", "all"},
			{"-4", "rule", "show"}, {"-6", "rule", "show"}} {
			for _, l := range strings.Split(a.Run(t, "ip", args...), "\n") {
				if strings.Contains(l, "10.24") || strings.Contains(l, "fd41:1::") || strings.Contains(l, "table 142") ||
					(args[1] == "rule" && !strings.Contains(l, "lookup local") && !strings.Contains(l, "lookup main") &&
						!strings.Contains(l, "lookup default") && strings.TrimSpace(l) != "") {
					out = append(out, strings.TrimSpace(l))
				}
			}
		}
		return out
	}
	if err := a.Do(func() error { return addRoutes(in.Routes, owned{}) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Do(func() error { return addRules(in.Rules, owned{}) }); err != nil {
		t.Fatal(err)
	}
	// As iproute2 prints them (a goto target without a rule is
	// "[unresolved]").
	want := []string{
		"blackhole default table 142 proto keepalived",
		"10.241.0.0/16 via 10.141.0.254 dev eth0 proto keepalived src 10.141.0.1 metric 3",
		"unreachable 10.243.0.0/16 proto keepalived",
		"10.246.0.0/16 dev eth0 proto static scope link",
		"10.242.0.0/16 via 10.141.0.254 dev eth0 table 141 proto keepalived onlink",
		"prohibit 10.244.0.0/16 table 141 proto keepalived",
		"throw 10.245.0.0/16 table 141 proto keepalived",
		"fd41:1::/48 via fd41::fe dev eth0 proto keepalived metric 9 pref medium",
		"100:\tfrom 10.141.0.100 to 10.250.0.0/16 tos 0x08 lookup 141 proto keepalived",
		"101:\tnot from all fwmark 0x10/0xf0 iif eth0 lookup 141 proto keepalived",
		"102:\tfrom all goto 200 [unresolved] proto keepalived",
		"103:\tfrom all to 10.251.0.0/16 nop proto keepalived",
		"104:\tfrom all oif eth0 prohibit proto keepalived",
		"105:\tfrom all ipproto tcp sport 1000-2000 dport 443 lookup 141 proto keepalived",
		"106:\tfrom all uidrange 1000-1999 lookup 141 suppress_prefixlength 0 proto keepalived",
		"108:\tfrom all to 10.252.0.0/16 lookup 141",
		"107:\tfrom fd41::/64 blackhole proto keepalived",
	}
	got := show()
	slices.Sort(want) // the kernel's order of tables varies
	slices.Sort(got)
	if d := jsondiff.Diff(want, got); d != "" {
		t.Errorf("kernel state (-want +got):\n%s", d)
	}
	if err := a.Do(func() error { return delRules(in.Rules, nil) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Do(func() error { return delRoutes(in.Routes, nil) }); err != nil {
		t.Fatal(err)
	}
	if left := show(); len(left) != 0 {
		t.Errorf("left after removal: %q", left)
	}
	// Removing again is fine (absent ones are skipped).
	if err := a.Do(func() error { return errors.Join(delRules(in.Rules, nil), delRoutes(in.Routes, nil)) }); err != nil {
		t.Errorf("second removal: %v", err)
	}
}

// TestRoutesPresentBeforeAreNotOwned: a route and a rule that were on the
// host before vrrpguard added the same ones are not its to remove: after
// an add (EEXIST: not owned) and a removal with ownership, they are still
// there, as keepalived leaves what it did not add; one it added is gone.
func TestRoutesPresentBeforeAreNotOwned(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.142.0.1/24")
	a.Run(t, "ip", "route", "add", "10.243.0.0/16", "via", "10.142.0.254", "dev", "eth0", "proto", "18")
	a.Run(t, "ip", "rule", "add", "from", "10.142.0.100", "table", "142", "priority", "100")
	conf := `vrrp_instance VI {
 interface eth0
 virtual_router_id 42
 virtual_ipaddress { 10.142.0.100/24 }
 virtual_routes {
  10.243.0.0/16 via 10.142.0.254 dev eth0
  10.244.0.0/16 via 10.142.0.254 dev eth0
 }
 virtual_rules {
  from 10.142.0.100 table 142 priority 100
 }
}
`
	k, _, err := keepalived.Parse("k.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := k.Instances[0]
	own := owned{}
	if err := a.Do(func() error { return errors.Join(addRoutes(in.Routes, own), addRules(in.Rules, own)) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Do(func() error { return errors.Join(delRules(in.Rules, own), delRoutes(in.Routes, own)) }); err != nil {
		t.Fatal(err)
	}
	routes := a.Run(t, "ip", "route", "show")
	if !strings.Contains(routes, "10.243.0.0/16") {
		t.Errorf("the host's own route was removed:\n%s", routes)
	}
	if strings.Contains(routes, "10.244.0.0/16") {
		t.Errorf("the route vrrpguard added is still there:\n%s", routes)
	}
	if rules := a.Run(t, "ip", "rule", "show"); !strings.Contains(rules, "from 10.142.0.100 lookup 142") {
		t.Errorf("the host's own rule was removed:\n%s", rules)
	}
}
