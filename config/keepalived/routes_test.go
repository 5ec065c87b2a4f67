package keepalived

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// routesConf puts block (virtual_routes or virtual_rules, with line) in an
// instance: line is on line 6 of the file.
func routesConf(block, line string) string {
	return "vrrp_instance VI {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress { 10.0.0.1/24 }\n " + block + " {\n" + line + "\n }\n}\n"
}

func TestParseRoutes(t *testing.T) {
	pf := netip.MustParsePrefix
	ad := netip.MustParseAddr
	base := func(r Route) Route {
		r.File, r.Line = "keepalived.conf", 6
		if r.Type == 0 {
			r.Type = 1
		}
		if r.Table == 0 {
			r.Table = 254
		}
		if r.Family == vrrp.FamilyUnknown {
			r.Family = vrrp.IPv4
		}
		if r.Protocol == 0 {
			r.Protocol = ProtoKeepalived
		}
		return r
	}
	tests := []struct {
		line  string
		want  []Route
		warns []string
		err   string
	}{
		{line: "10.9.0.0/16 via 10.0.0.254", want: []Route{{Dst: pf("10.9.0.0/16"), Via: ad("10.0.0.254")}}},
		{line: "to 10.9.1.7/16 src 10.0.0.1 via 10.0.0.254 dev eth0 scope link table 100 metric 5 onlink",
			want: []Route{{Dst: pf("10.9.0.0/16"), Src: ad("10.0.0.1"), Via: ad("10.0.0.254"), Dev: "eth0", Scope: 253, Table: 100, Metric: 5, HasMetric: true, OnLink: true}}},
		{line: "blackhole 10.201.0.0/16", want: []Route{{Dst: pf("10.201.0.0/16"), Type: 6}}},
		{line: "blackhole 10.201.0.0/16 no_track", want: []Route{{Dst: pf("10.201.0.0/16"), Type: 6, NoTrack: true}}},
		{line: "unreachable 10.202.0.0/16 table main", want: []Route{{Dst: pf("10.202.0.0/16"), Type: 7}}},
		{line: "prohibit 2001:db8:1::/48", want: []Route{{Family: vrrp.IPv6, Dst: pf("2001:db8:1::/48"), Type: 8}}},
		{line: "type unicast 10.9.0.0/16 dev eth0", err: `unknown option or destination "type"`},
		{line: "default via 10.0.0.254 table 7", want: []Route{{Dst: pf("0.0.0.0/0"), Via: ad("10.0.0.254"), Table: 7}}},
		{line: "inet6 default via fe80::1 dev eth0", err: `via "fe80::1"`}, // fe80::1 parses; check below it does
		{line: "2001:db8::/64 from 2001:db8:5::/64 via 2001:db8::1 dev eth0 preference 9",
			warns: []string{`keepalived.conf:6: virtual_routes "2001:db8::/64 from 2001:db8:5::/64 via 2001:db8::1 dev eth0 preference 9": option 'from 2001:db8:5::/64' (a source-specific IPv6 route) is not supported by vrrpguard; the route is not added`}},
		{line: "2001:db8::/64 via 2001:db8::1 dev eth0 preference 9",
			want: []Route{{Family: vrrp.IPv6, Dst: pf("2001:db8::/64"), Via: ad("2001:db8::1"), Dev: "eth0", Metric: 9, HasMetric: true}}},
		{line: "10.9.0.0/16 via 10.0.0.254 protocol static no_track", want: []Route{{Dst: pf("10.9.0.0/16"), Via: ad("10.0.0.254"), Protocol: 4, NoTrack: true}}},
		{line: "10.9.0.0/16 via 10.0.0.254 protocol static", want: []Route{{Dst: pf("10.9.0.0/16"), Via: ad("10.0.0.254")}},
			warns: []string{"keepalived.conf:6: virtual_routes \"10.9.0.0/16 via 10.0.0.254 protocol static\": a tracked route's protocol is keepalived (18); keepalived resets protocol 4 (add no_track to keep it)"}},
		{line: "10.9.0.0/16 gw 10.0.0.254 mtu lock 1400 initcwnd 10", want: []Route{{Dst: pf("10.9.0.0/16"), Via: ad("10.0.0.254")}},
			warns: []string{
				"keepalived.conf:6: virtual_routes \"10.9.0.0/16 gw 10.0.0.254 mtu lock 1400 initcwnd 10\": 'gw' is deprecated, keepalived asks for 'via'",
				"keepalived.conf:6: virtual_routes \"10.9.0.0/16 gw 10.0.0.254 mtu lock 1400 initcwnd 10\": option 'mtu lock 1400' is not used by vrrpguard; added without it",
				"keepalived.conf:6: virtual_routes \"10.9.0.0/16 gw 10.0.0.254 mtu lock 1400 initcwnd 10\": option 'initcwnd 10' is not used by vrrpguard; added without it",
			}},
		{line: "10.9.0.0/16 nexthop via 10.0.0.1 nexthop via 10.0.0.2",
			warns: []string{"keepalived.conf:6: virtual_routes \"10.9.0.0/16 nexthop via 10.0.0.1 nexthop via 10.0.0.2\": option 'nexthop' (multipath, encapsulation, VRF or MPLS) is not supported by vrrpguard; the route is not added"}},
		{line: "via 10.0.0.254", err: `keepalived.conf:6: virtual_routes "via 10.0.0.254": a route needs a destination (ADDRESS[/PREFIXLEN] or default)`},
		{line: "inet 2001:db8::/64", err: `'destination 2001:db8::' mixes IPv4 and IPv6 (expected an IPv4 address)`},
		{line: "10.9.0.0/16 inet6", err: `keepalived.conf:6: virtual_routes "10.9.0.0/16 inet6": inet6 given for an IPv4 route`},
		{line: "10.9.0.0/16 via", err: `keepalived.conf:6: virtual_routes "10.9.0.0/16 via": 'via' needs an IP address`},
		{line: "10.9.0.0/16 via 2001:db8::1", err: `'via 2001:db8::1' mixes IPv4 and IPv6 (expected an IPv4 address)`},
		{line: "10.9.0.0/16 bogus 3", err: `keepalived.conf:6: virtual_routes "10.9.0.0/16 bogus 3": unexpected "bogus": the destination is already "10.9.0.0/16"`},
		{line: "10.9.0.0/16 table rt_isp", err: `table "rt_isp": expected a table number or main, local, default`},
		{line: "10.9.0.0/16 metric x", err: `metric "x": expected a number 0-4294967295`},
		{line: "10.9.0.0/16 scope galaxy", err: `scope "galaxy": expected global, site, link, host, nowhere or a number`},
		{line: "10.9.0.0/16 from 10.1.0.0/16", err: `expected an IPv6 prefix (keepalived supports route 'from' only with IPv6)`},
		{line: "10.9.0.0/16 dev averyveryverylongname", err: "interface names are at most 15 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			k, w, err := parse(t, routesConf("virtual_routes", tt.line), nil)
			if tt.line == "inet6 default via fe80::1 dev eth0" {
				// A link-local gateway is fine: the route is IPv6 default.
				if err != nil {
					t.Fatal(err)
				}
				want := []Route{base(Route{Family: vrrp.IPv6, Dst: pf("::/0"), Via: ad("fe80::1"), Dev: "eth0"})}
				want[0].Raw = tt.line
				if d := diff(want, k.Instances[0].Routes); d != "" {
					t.Errorf("routes (-want +got):\n%s", d)
				}
				return
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "keepalived.conf:6: ") {
					t.Errorf("error %q does not say file:line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []Route
			for _, r := range tt.want {
				r = base(r)
				r.Raw = tt.line
				want = append(want, r)
			}
			if d := diff(want, k.Instances[0].Routes); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if tt.warns == nil {
				tt.warns = []string{}
			}
			if d := diff(tt.warns, nonNil(w)); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestParseRules(t *testing.T) {
	pf := netip.MustParsePrefix
	base := func(r Rule) Rule {
		r.File, r.Line = "keepalived.conf", 6
		if r.Family == vrrp.FamilyUnknown {
			r.Family = vrrp.IPv4
		}
		if r.Protocol == 0 {
			r.Protocol = ProtoKeepalived
		}
		if r.SuppressPrefixLen == 0 {
			r.SuppressPrefixLen = -1
		}
		return r
	}
	tests := []struct {
		line  string
		want  []Rule
		warns []string
		err   string
	}{
		{line: "from 10.0.0.1 table 100 priority 100", want: []Rule{{From: pf("10.0.0.1/32"), Action: 1, Table: 100, Priority: 100}}},
		{line: "to 10.203.0.0/16 lookup 100",
			want:  []Rule{{To: pf("10.203.0.0/16"), Action: 1, Table: 100, Priority: 16384}},
			warns: []string{`keepalived.conf:6: virtual_rules "to 10.203.0.0/16 lookup 100": no preference; keepalived uses 16384 (probably not what you want)`}},
		{line: "not from all iif eth0 oif eth1 fwmark 0x10/0xff tos 8 table main preference 50",
			want: []Rule{{From: pf("0.0.0.0/0"), Invert: true, IIf: "eth0", OIf: "eth1", Fwmark: 16, Fwmask: 255, HasFwmark: true, HasFwmask: true, Tos: 8, Action: 1, Table: 254, Priority: 50}}},
		{line: "from 2001:db8::/64 type prohibit priority 7", want: []Rule{{Family: vrrp.IPv6, From: pf("2001:db8::/64"), Action: 8, Priority: 7}}},
		{line: "inet6 blackhole priority 7", want: []Rule{{Family: vrrp.IPv6, Action: 6, Priority: 7}}},
		{line: "from 10.0.0.0/8 goto 300 priority 200", want: []Rule{{From: pf("10.0.0.0/8"), Action: 2, Goto: 300, Priority: 200}}},
		{line: "ipproto tcp dport 80-90 sport 1000 uidrange 100-200 table 5 sup_pl 3 priority 9",
			want: []Rule{{IPProto: 6, Dport: [2]uint16{80, 90}, Sport: [2]uint16{1000, 1000}, UIDRange: [2]uint32{100, 200}, HasUIDRange: true, Action: 1, Table: 5, SuppressPrefixLen: 3, Priority: 9}}},
		{line: "from 10.0.0.1 table 100 priority 100 realms 3",
			want:  []Rule{{From: pf("10.0.0.1/32"), Action: 1, Table: 100, Priority: 100}},
			warns: []string{`keepalived.conf:6: virtual_rules "from 10.0.0.1 table 100 priority 100 realms 3": option 'realms 3' is not used by vrrpguard; added without it`}},
		{line: "from 10.0.0.1 priority 100", err: `keepalived.conf:6: virtual_rules "from 10.0.0.1 priority 100": a rule needs an action (table N, goto N, nop, blackhole, unreachable or prohibit)`},
		{line: "from 10.0.0.1 table 1 nop priority 5", err: "more than one of table, goto, nop, blackhole, prohibit, unreachable"},
		{line: "goto 100 priority 200", err: "goto 100 needs a preference lower than its target"},
		{line: "from 10.0.0.1 to 2001:db8::1 table 5", err: `'to 2001:db8::1' mixes IPv4 and IPv6 (expected an IPv4 address)`},
		{line: "fwmark 12/zz table 5", err: `fwmark "12/zz": expected MARK[/MASK]`},
		{line: "from 10.0.0.1 table 0", err: "table 0 is not valid"},
		{line: "from 10.0.0.1 lookup 5 frobnicate", err: `unknown rule option "frobnicate"`},
		{line: "dport 90-80 table 5", err: `dport "90-80": expected PORT or PORT-PORT`},
		{line: "from", err: `'from' needs a prefix`},
		{line: "from 10.0.0.1 inet6 table 5", err: "inet6 given for an IPv4 rule"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			k, w, err := parse(t, routesConf("virtual_rules", tt.line), nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "keepalived.conf:6: ") {
					t.Errorf("error %q does not say file:line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []Rule
			for _, r := range tt.want {
				r = base(r)
				r.Raw = tt.line
				want = append(want, r)
			}
			if d := diff(want, k.Instances[0].Rules); d != "" {
				t.Errorf("rules (-want +got):\n%s", d)
			}
			if tt.warns == nil {
				tt.warns = []string{}
			}
			if d := diff(tt.warns, nonNil(w)); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}

// TestRulePreferencesCountDown checks keepalived's numbering of rules
// without a preference: per family, down from 16384, across blocks.
func TestRulePreferencesCountDown(t *testing.T) {
	src := routesConf("virtual_rules", "  from 10.0.0.1 table 5\n  from 2001:db8::1 table 5\n  from 10.0.0.2 table 5") +
		"static_rules {\n from 10.0.0.3 table 6\n}\n"
	k, _, err := parse(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, r := range append(append([]Rule(nil), k.Instances[0].Rules...), k.StaticRules...) {
		got = append(got, r.Priority)
	}
	if d := diff([]uint32{16384, 16384, 16383, 16382}, got); d != "" {
		t.Errorf("preferences (-want +got):\n%s", d)
	}
}

func TestStaticBlocks(t *testing.T) {
	src := "static_ipaddress {\n 192.0.2.5/24 dev eth1 label eth1:st\n}\nstatic_routes {\n 10.8.0.0/16 via 192.0.2.1 dev eth1\n}\n"
	k, w, err := parse(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	if len(k.StaticAddresses) != 1 || k.StaticAddresses[0].Prefix != netip.MustParsePrefix("192.0.2.5/24") || k.StaticAddresses[0].Dev != "eth1" || k.StaticAddresses[0].Line != 2 {
		t.Errorf("static addresses: %+v", k.StaticAddresses)
	}
	if len(k.StaticRoutes) != 1 || k.StaticRoutes[0].Via != netip.MustParseAddr("192.0.2.1") || k.StaticRoutes[0].Line != 5 {
		t.Errorf("static routes: %+v", k.StaticRoutes)
	}
}

func TestAcceptMode(t *testing.T) {
	inst := func(extra string) string {
		return "vrrp_instance VI {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress { 10.0.0.1/24 }\n" + extra + "}\n"
	}
	tests := []struct {
		name, src  string
		accept     bool
		drops      bool
		wantWarned bool
	}{
		{"default", inst(" priority 100\n"), true, false, false},
		{"no_accept", inst(" priority 100\n no_accept\n"), false, true, false},
		{"no_accept owner", inst(" priority 255\n no_accept\n"), false, false, false},
		{"strict implies no_accept", "global_defs {\n vrrp_strict\n}\n" + inst(" priority 100\n version 3\n"), false, true, false},
		{"strict with accept (v3)", "global_defs {\n vrrp_strict\n}\n" + inst(" priority 100\n version 3\n accept\n"), true, false, false},
		{"strict v2 accept reset", "global_defs {\n vrrp_strict\n}\n" + inst(" priority 100\n version 2\n accept\n"), false, true, true},
		{"strict owner", "global_defs {\n vrrp_strict\n}\n" + inst(" priority 255\n version 3\n"), true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, w, err := parse(t, tt.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := k.Instances[0]
			if in.AcceptMode != tt.accept || in.DropsVIPTraffic() != tt.drops {
				t.Errorf("AcceptMode %v, DropsVIPTraffic %v; want %v, %v", in.AcceptMode, in.DropsVIPTraffic(), tt.accept, tt.drops)
			}
			warned := strings.Contains(strings.Join(w, "\n"), "does not comply with RFC 3768")
			if warned != tt.wantWarned {
				t.Errorf("RFC 3768 warning %v, want %v: %q", warned, tt.wantWarned, w)
			}
		})
	}
}
