package keepalived

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

func addrs4(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

func TestNginxPair(t *testing.T) {
	master := &Instance{
		Name: "VI_1", File: "testdata/nginx-master.conf", Line: 28,
		State: "MASTER", Interface: "eth0", VRID: 51, Priority: 150, AdvertInt: time.Second, Version: 2,
		// "auth_pass Kp!9secret": keepalived reads the '!' as a comment.
		Auth: Auth{Type: "PASS", Pass: "Kp"},
		VIPs: []VIP{{
			Prefix: netip.MustParsePrefix("192.168.1.100/24"), Dev: "eth0", Label: "eth0:vip",
			Raw: "192.168.1.100/24 dev eth0 label eth0:vip", File: "testdata/nginx-master.conf", Line: 43,
		}},
		UnicastSrcIP:    netip.MustParseAddr("192.168.1.1"),
		UnicastPeers:    addrs4("192.168.1.2"),
		TrackInterfaces: []Track{{Name: "eth1", Weight: -50}},
		TrackScripts:    []Track{{Name: "chk_nginx", Weight: -20}},
		NotifyMaster:    "/bin/sh -c 'logger -t keepalived MASTER'",
		NotifyBackup:    "/bin/sh -c 'logger -t keepalived BACKUP'",
		NotifyFault:     "/bin/sh -c 'logger -t keepalived FAULT'",
		Notify:          "/bin/true",
		NotifyLines: map[string]ScriptLine{
			"notify_master": {Cmd: "/bin/sh -c 'logger -t keepalived MASTER'", File: "testdata/nginx-master.conf", Line: 51},
			"notify_backup": {Cmd: "/bin/sh -c 'logger -t keepalived BACKUP'", File: "testdata/nginx-master.conf", Line: 52},
			"notify_fault":  {Cmd: "/bin/sh -c 'logger -t keepalived FAULT'", File: "testdata/nginx-master.conf", Line: 53},
			"notify":        {Cmd: "/bin/true", File: "testdata/nginx-master.conf", Line: 54},
		},
		GarpMasterDelay:         5 * time.Second,
		GarpMasterRepeat:        5,
		GarpMasterRefreshRepeat: 1,
		AcceptMode:              true,
		Other:                   map[string][]string{},
	}
	backup := *master
	backup.File = "testdata/nginx-backup.conf"
	backup.State, backup.Priority, backup.Nopreempt = "BACKUP", 100, true
	backup.Line = 28
	backup.VIPs = slices.Clone(master.VIPs)
	backup.VIPs[0].File, backup.VIPs[0].Line = backup.File, 44
	backup.UnicastSrcIP = netip.MustParseAddr("192.168.1.2")
	backup.UnicastPeers = addrs4("192.168.1.1")
	backup.NotifyLines = map[string]ScriptLine{}
	for kw, l := range master.NotifyLines {
		l.File, l.Line = backup.File, l.Line+1
		backup.NotifyLines[kw] = l
	}

	for _, want := range []*Instance{master, &backup} {
		t.Run(want.File, func(t *testing.T) {
			k, w, err := Options{ConfigID: "lb1"}.Load(want.File)
			if err != nil {
				t.Fatal(err)
			}
			// The global_defs keywords vrrpguard does not act on are warned
			// about, with what keepalived would do.
			wantWarn := []string{
				want.File + ":13: 'vrrp_skip_check_adv_addr' in global_defs is not used by vrrpguard; keepalived would not check the addresses in adverts from the current master",
				want.File + ":14: 'vrrp_garp_interval 0.001' in global_defs is not used by vrrpguard; keepalived would pace gratuitous ARPs on an interface this far apart",
			}
			if d := diff(wantWarn, warningStrings(w)); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if len(k.Instances) != 1 {
				t.Fatalf("got %d instances, want 1", len(k.Instances))
			}
			if d := diff(want, k.Instances[0]); d != "" {
				t.Errorf("instance (-want +got):\n%s", d)
			}
			if f := k.Instances[0].Family(); f != vrrp.IPv4 {
				t.Errorf("Family() = %v, want ipv4", f)
			}
			wantScript := &Script{Name: "chk_nginx", File: want.File, Line: 19, Script: "/usr/bin/pgrep -x nginx",
				Interval: 2 * time.Second, Timeout: 3 * time.Second, Weight: -20, Rise: 2, Fall: 2}
			if d := diff([]*Script{wantScript}, k.Scripts); d != "" {
				t.Errorf("scripts (-want +got):\n%s", d)
			}
			g := k.Global
			if g.RouterID == "" || g.SMTPServer != "10.0.0.25" || g.SMTPPort != 25 || g.SMTPConnectTimeout != 30*time.Second ||
				g.GarpInterval != time.Millisecond || !slices.Equal(g.NotificationEmail, []string{"ops@example.com", "oncall@example.com"}) {
				t.Errorf("global_defs: %+v", g)
			}
			if g.ScriptUser != (RunAs{User: "root"}) || !g.ScriptSecurity {
				t.Errorf("script_user %+v, enable_script_security %v; want root, true", g.ScriptUser, g.ScriptSecurity)
			}
			if d := diff(map[string][]string{"vrrp_skip_check_adv_addr": {}}, g.Other); d != "" {
				t.Errorf("global other (-want +got):\n%s", d)
			}
			args, err := SplitScript(k.Instances[0].NotifyMaster)
			if err != nil || !slices.Equal(args, []string{"/bin/sh", "-c", "logger -t keepalived MASTER"}) {
				t.Errorf("SplitScript(NotifyMaster) = %q, %v", args, err)
			}
		})
	}
}

func TestLVSConfig(t *testing.T) {
	k, w, err := Options{ConfigID: "lb1"}.Load("testdata/lvs.conf")
	if err != nil {
		t.Fatal(err)
	}
	wantWarn := []string{
		"testdata/lvs.conf:4: 'lvs_flush' in global_defs is not used by vrrpguard; keepalived would flush the IPVS table at start-up",
		"testdata/lvs.conf:43: block 'virtual_server_group web' is not used by vrrpguard; skipped (keepalived would group services for IPVS load balancing)",
		"testdata/lvs.conf:47: block 'virtual_server 10.10.10.100 80' is not used by vrrpguard; skipped (keepalived would load-balance this service with IPVS and health-check its real servers)",
		"testdata/lvs.conf:76: block 'virtual_server 10.10.10.100 443' is not used by vrrpguard; skipped (keepalived would load-balance this service with IPVS and health-check its real servers)",
	}
	if d := diff(wantWarn, warningStrings(w)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	var got []string
	for _, in := range k.Instances {
		got = append(got, in.String())
	}
	if d := diff([]string{"VI_WEB (eth0 VRID 60 ipv4)", "VI_GW (eth1 VRID 61 ipv4)"}, got); d != "" {
		t.Errorf("instances (-want +got):\n%s", d)
	}
	wantSG := []*SyncGroup{{Name: "VG_1", File: "testdata/lvs.conf", Line: 9, Instances: []string{"VI_WEB", "VI_GW"},
		NotifyMaster: "/bin/true master", Other: map[string][]string{},
		NotifyLines: map[string]ScriptLine{"notify_master": {Cmd: "/bin/true master", File: "testdata/lvs.conf", Line: 14}}}}
	if d := diff(wantSG, k.SyncGroups); d != "" {
		t.Errorf("sync groups (-want +got):\n%s", d)
	}
	if v := k.Instance("VI_WEB").VIPs[0].Prefix; v != netip.MustParsePrefix("10.10.10.100/32") {
		t.Errorf("VIP without prefix length = %v, want /32", v)
	}
}

func TestIPv6Version3(t *testing.T) {
	k, w, err := Options{ConfigID: "lb1"}.Load("testdata/ipv6-v3.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 0 {
		t.Errorf("warnings: %q", warningStrings(w))
	}
	type summary struct {
		Name      string
		Family    string
		Version   int
		AdvertInt time.Duration
		VIPs      []string
		Excluded  []string
	}
	var got []summary
	for _, in := range k.Instances {
		s := summary{Name: in.Name, Family: in.Family().String(), Version: in.Version, AdvertInt: in.AdvertInt}
		for _, v := range in.VIPs {
			s.VIPs = append(s.VIPs, v.Prefix.String())
		}
		for _, v := range in.ExcludedVIPs {
			s.Excluded = append(s.Excluded, v.Prefix.String())
		}
		got = append(got, s)
	}
	want := []summary{
		{Name: "V6", Family: "ipv6", Version: 3, AdvertInt: 100 * time.Millisecond,
			VIPs: []string{"fe80::42/64", "2001:db8:42::1/64"}, Excluded: []string{"2001:db8:42::2/64"}},
		// The global vrrp_version 3 applies to IPv4 instances too.
		{Name: "V4_ON_V3", Family: "ipv4", Version: 3, AdvertInt: 250 * time.Millisecond, VIPs: []string{"192.0.2.43/24"}},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("instances (-want +got):\n%s", d)
	}
	v := k.Instance("V4_ON_V3").VIPs[0]
	if v.Brd != "192.0.2.255" || v.Scope != "global" {
		t.Errorf("VIP options: %+v", v)
	}
}

func TestIncludeTree(t *testing.T) {
	k, w, err := Options{ConfigID: "lb1"}.Load("testdata/include/keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 0 {
		t.Errorf("warnings: %q", warningStrings(w))
	}
	wantFiles := []string{
		"testdata/include/keepalived.conf",
		"testdata/include/common/globals.conf",
		"testdata/include/common/smtp.inc",
		"testdata/include/conf.d/10-web.conf",
		"testdata/include/common/web-vips.inc",
		"testdata/include/conf.d/20-db.conf",
		"testdata/include/nodes/lb1.conf",
		"testdata/include/nodes/lb2.conf",
	}
	if d := diff(wantFiles, k.Files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	var got []string
	for _, in := range k.Instances {
		got = append(got, in.String()+" "+in.Pos())
	}
	wantIns := []string{
		"WEB (eth0 VRID 10 ipv4) testdata/include/conf.d/10-web.conf:1",
		"DB (eth0 VRID 20 ipv4) testdata/include/conf.d/20-db.conf:1",
		"NODE1 (eth1 VRID 31 ipv4) testdata/include/nodes/lb1.conf:1",
		"NODE2 (eth1 VRID 32 ipv4) testdata/include/nodes/lb2.conf:1",
	}
	if d := diff(wantIns, got); d != "" {
		t.Errorf("instances (-want +got):\n%s", d)
	}
	web := k.Instance("WEB")
	if len(web.VIPs) != 2 || web.VIPs[1].File != "testdata/include/common/web-vips.inc" || web.VIPs[1].Line != 2 {
		t.Errorf("VIPs included inside a block: %+v", web.VIPs)
	}
	if g := k.Global; g.RouterID != "INC" || g.SMTPServer != "127.0.0.1" || g.SMTPPort != 2525 || g.File != "testdata/include/common/globals.conf" {
		t.Errorf("global_defs: %+v", g)
	}
}

// TestKeepalivedErrors checks every fatal error path and its exact message.
func TestKeepalivedErrors(t *testing.T) {
	const vi = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"
	tests := []struct {
		name  string
		src   string
		files memFS
		want  string
	}{
		{"unclosed block", "global_defs {\n router_id a\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n",
			nil, "keepalived.conf:6: unclosed block 'vrrp_instance VI_1' (opened at line 4)"},
		{"unclosed inner block", "vrrp_instance VI_1 {\n interface eth0\n authentication {\n  auth_pass x\n}\n",
			nil, "keepalived.conf:5: unclosed block 'vrrp_instance VI_1' (opened at line 1)"},
		{"comment eats the closing brace", "vrrp_instance VI_1 {\n authentication { auth_pass abc!def }\n}\n",
			nil, "keepalived.conf:3: unclosed block 'vrrp_instance VI_1' (opened at line 1)"},
		{"unclosed in included file", "include inc.conf\n", memFS{"inc.conf": "vrrp_instance X {\n"},
			"keepalived.conf:1: unclosed block 'vrrp_instance X' (opened at inc.conf:1)"},
		{"extra close", vi + "}\n", nil, "keepalived.conf:8: unexpected '}' (no block is open)"},
		{"brace without keyword", "{\n}\n", nil, "keepalived.conf:1: unexpected '{' (a block must follow a keyword)"},
		{"double brace", "vrrp_instance VI_1 {\n{\n", nil, "keepalived.conf:2: unexpected '{' (a block must follow a keyword)"},
		{"vrid not a number", strings.Replace(vi, "virtual_router_id 51", "virtual_router_id abc", 1),
			nil, `keepalived.conf:3: virtual_router_id: expected a number 1-255, got "abc"`},
		{"vrid 0", strings.Replace(vi, "virtual_router_id 51", "virtual_router_id 0", 1),
			nil, `keepalived.conf:3: virtual_router_id: expected a number 1-255, got "0"`},
		{"vrid 256", strings.Replace(vi, "virtual_router_id 51", "virtual_router_id 256", 1),
			nil, `keepalived.conf:3: virtual_router_id: expected a number 1-255, got "256"`},
		{"vrid missing value", strings.Replace(vi, "virtual_router_id 51", "virtual_router_id", 1),
			nil, `keepalived.conf:3: virtual_router_id: missing value`},
		{"priority 0", strings.Replace(vi, "interface eth0", "interface eth0\n priority 0", 1),
			nil, `keepalived.conf:3: priority: expected a number 1-255, got "0"`},
		{"priority negative", strings.Replace(vi, "interface eth0", "interface eth0\n priority -5", 1),
			nil, `keepalived.conf:3: priority: expected a number 1-255, got "-5"`},
		{"advert_int text", strings.Replace(vi, "interface eth0", "interface eth0\n advert_int fast", 1),
			nil, `keepalived.conf:3: advert_int: expected seconds 0.01-255 (e.g. 1 or 0.5), got "fast"`},
		{"advert_int too small", strings.Replace(vi, "interface eth0", "interface eth0\n advert_int 0.001", 1),
			nil, `keepalived.conf:3: advert_int: expected seconds 0.01-255 (e.g. 1 or 0.5), got "0.001"`},
		{"advert_int too long", strings.Replace(vi, "interface eth0", "interface eth0\n advert_int 256", 1),
			nil, `keepalived.conf:3: advert_int: expected seconds 0.01-255 (e.g. 1 or 0.5), got "256"`},
		{"version 4", strings.Replace(vi, "interface eth0", "interface eth0\n version 4", 1),
			nil, `keepalived.conf:3: version: expected 2 or 3, got "4"`},
		{"global vrrp_version 1", "global_defs {\n vrrp_version 1\n}\n" + vi,
			nil, `keepalived.conf:2: vrrp_version: expected 2 or 3, got "1"`},
		{"missing interface", strings.Replace(vi, " interface eth0\n", "", 1),
			nil, "keepalived.conf:1: vrrp_instance VI_1: missing interface (keepalived refuses the instance; only a unicast instance with unicast_src_ip may omit it)"},
		{"missing vrid", strings.Replace(vi, " virtual_router_id 51\n", "", 1),
			nil, "keepalived.conf:1: vrrp_instance VI_1: missing virtual_router_id (keepalived refuses the instance)"},
		{"interface name too long", strings.Replace(vi, "interface eth0", "interface averyveryverylongname", 1),
			nil, `keepalived.conf:2: interface: name "averyveryverylongname" is longer than 15 characters`},
		{"instance without name", "vrrp_instance {\n}\n", nil, `keepalived.conf:1: vrrp_instance: expected one name, got ""`},
		{"instance with two names", "vrrp_instance A B {\n}\n", nil, `keepalived.conf:1: vrrp_instance: expected one name, got "A B"`},
		{"instance without block", "vrrp_instance VI_1\n", nil, `keepalived.conf:1: vrrp_instance: expected a '{' block`},
		{"duplicate instance", vi + strings.Replace(vi, "51", "52", 1),
			nil, `keepalived.conf:8: duplicate vrrp_instance "VI_1" (first defined at keepalived.conf:1)`},
		{"duplicate interface+vrid+family", vi + strings.Replace(vi, "VI_1", "VI_2", 1),
			nil, "keepalived.conf:8: vrrp_instance VI_2 uses interface eth0, VRID 51 and ipv4 like vrrp_instance VI_1 (keepalived.conf:1)"},
		{"duplicate vrrp_script", "vrrp_script a {\n script /bin/true\n}\nvrrp_script a {\n script /bin/true\n}\n",
			nil, `keepalived.conf:4: duplicate vrrp_script "a" (first defined at keepalived.conf:1)`},
		{"bad VIP", strings.Replace(vi, "10.0.0.1", "10.0.0.300/24", 1),
			nil, `keepalived.conf:5: invalid address "10.0.0.300/24": expected ADDRESS[/PREFIXLEN]`},
		{"bad VIP prefix length", strings.Replace(vi, "10.0.0.1", "10.0.0.1/33", 1),
			nil, `keepalived.conf:5: invalid address "10.0.0.1/33": expected ADDRESS[/PREFIXLEN]`},
		{"VIP option without value", strings.Replace(vi, "10.0.0.1", "10.0.0.1 dev", 1),
			nil, `keepalived.conf:5: address 10.0.0.1: "dev" needs a value`},
		{"VIP with IPv6 broadcast", strings.Replace(vi, "10.0.0.1", "fe80::1 brd fe80::ff", 1),
			nil, `keepalived.conf:5: address fe80::1: broadcast for an IPv6 address`},
		{"virtual_ipaddress without block", strings.Replace(vi, "virtual_ipaddress {\n  10.0.0.1\n }", "virtual_ipaddress 10.0.0.1", 1),
			nil, `keepalived.conf:4: virtual_ipaddress: expected a '{' block`},
		{"bad unicast peer", strings.Replace(vi, "interface eth0", "interface eth0\n unicast_peer {\n  10.0.0.999\n }", 1),
			nil, `keepalived.conf:4: unicast_peer: expected an IP address, got "10.0.0.999"`},
		{"bad unicast_src_ip", strings.Replace(vi, "interface eth0", "interface eth0\n unicast_src_ip me", 1),
			nil, `keepalived.conf:3: unicast_src_ip: expected an IP address, got "me"`},
		{"unterminated quote", "global_defs {\n router_id \"abc\n}\n", nil, "keepalived.conf:2: unterminated quote"},
		{"unmatched quote after escape", "global_defs {\n router_id a\\\"b\n}\n", nil, "keepalived.conf:2: unmatched quote"},
		{"auth_pass without value", strings.Replace(vi, "interface eth0", "interface eth0\n authentication {\n  auth_pass\n }", 1),
			nil, `keepalived.conf:4: auth_pass: missing value`},
		{"include cycle", "include a.conf\n", memFS{"a.conf": "include b.conf\n", "b.conf": "\ninclude a.conf\n"},
			"b.conf:2: include cycle: a.conf -> b.conf -> a.conf"},
		{"include self", "include keepalived.conf\n", memFS{"keepalived.conf": "x\n"},
			"keepalived.conf:1: include cycle: keepalived.conf -> keepalived.conf"},
		{"includea without match", "includea conf.d/*.conf\n", memFS{}, "keepalived.conf:1: includea conf.d/*.conf: no file matches"},
		{"includem missing file", "includem other.conf\n", memFS{}, "keepalived.conf:1: includem other.conf: no such file"},
		{"error in included file", "include a.conf\n", memFS{"a.conf": "! comment\nvrrp_instance X {\n virtual_router_id x\n}\n"},
			`a.conf:3: virtual_router_id: expected a number 1-255, got "x"`},
		{"recursive parameter", "$A=${A}${A}\nglobal_defs {\n router_id $A\n}\n", nil,
			"keepalived.conf:3: parameter substitution does not terminate (recursive definition?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, _, err := parse(t, tt.src, tt.files)
			if err == nil {
				t.Fatalf("no error; parsed %d instances", len(k.Instances))
			}
			if d := diff(tt.want, err.Error()); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("error %T has no position", err)
			}
		})
	}
}

// TestKeepalivedWarnings checks that problems keepalived tolerates load,
// with the warnings expected.
func TestKeepalivedWarnings(t *testing.T) {
	const head = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n"
	const vips = " virtual_ipaddress {\n  10.0.0.1\n }\n"
	tests := []struct {
		name  string
		src   string
		files memFS
		want  []string
		check func(t *testing.T, k *Config)
	}{
		{name: "auth_pass longer than 8",
			src:  head + vips + " authentication {\n  auth_type PASS\n  auth_pass 0123456789abc\n }\n}\n",
			want: []string{"keepalived.conf:9: auth_pass is 13 characters long; only the first 8 are used"},
			check: func(t *testing.T, k *Config) {
				a := k.Instances[0].Auth
				if a.Pass != "0123456789abc" || a.AuthData() != [8]byte{'0', '1', '2', '3', '4', '5', '6', '7'} {
					t.Errorf("auth %+v, AuthData %q", a, a.AuthData())
				}
			}},
		{name: "v2 advert_int fraction is rounded",
			src:  head + vips + " advert_int 0.5\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: advert_int 0.5 is not whole seconds, which VRRP version 2 needs; keepalived rounds it to 1"},
			check: func(t *testing.T, k *Config) {
				if a := k.Instances[0].AdvertInt; a != time.Second {
					t.Errorf("AdvertInt = %v, want 1s", a)
				}
			}},
		{name: "v2 advert_int 2.5 rounds up",
			src:  head + vips + " advert_int 2.5\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: advert_int 2.5 is not whole seconds, which VRRP version 2 needs; keepalived rounds it to 3"},
			check: func(t *testing.T, k *Config) {
				if a := k.Instances[0].AdvertInt; a != 3*time.Second {
					t.Errorf("AdvertInt = %v, want 3s", a)
				}
			}},
		{name: "v3 advert_int fraction kept",
			src: head + vips + " version 3\n advert_int 0.1\n}\n",
			check: func(t *testing.T, k *Config) {
				if a := k.Instances[0].AdvertInt; a != 100*time.Millisecond {
					t.Errorf("AdvertInt = %v, want 100ms", a)
				}
			}},
		{name: "v3 advert_int below centiseconds rounds",
			src:  head + vips + " version 3\n advert_int 0.015\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: advert_int 0.015 is not in units of 10ms, which VRRP version 3 needs; keepalived rounds it to 0.02"}},
		{name: "authentication ignored with version 3",
			src:  head + vips + " version 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: VRRP version 3 does not support authentication; keepalived ignores the authentication"},
			check: func(t *testing.T, k *Config) {
				if a := k.Instances[0].Auth; a.Type != "" || a.AuthData() != [8]byte{} {
					t.Errorf("auth %+v", a)
				}
			}},
		{name: "authentication ignored in strict mode",
			src:  "global_defs {\n vrrp_strict\n}\n" + head + vips + " priority 100\n authentication {\n  auth_type AH\n  auth_pass x\n }\n}\n",
			want: []string{"keepalived.conf:4: vrrp_instance VI_1: strict mode does not support authentication; keepalived ignores the authentication"}},
		{name: "auth_pass without auth_type",
			src:  head + vips + " authentication {\n  auth_pass x\n }\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: auth_pass without auth_type; no authentication is used"}},
		{name: "unknown auth_type",
			src:  head + vips + " authentication {\n  auth_type pass\n  auth_pass x\n }\n}\n",
			want: []string{`keepalived.conf:8: auth_type: unknown type "pass" (PASS or AH); keepalived ignores it`, "keepalived.conf:1: vrrp_instance VI_1: auth_pass without auth_type; no authentication is used"}},
		{name: "track_script naming an undefined script",
			src:  head + vips + " track_script {\n  chk_missing\n }\n}\n",
			want: []string{"keepalived.conf:8: track_script chk_missing: no vrrp_script chk_missing is defined; keepalived ignores this entry"},
			check: func(t *testing.T, k *Config) {
				if n := len(k.Instances[0].TrackScripts); n != 0 {
					t.Errorf("%d track scripts kept", n)
				}
			}},
		{name: "track_script naming a later script",
			src:  head + vips + " track_script {\n  chk\n }\n}\nvrrp_script chk {\n script /bin/true\n}\n",
			want: []string{"keepalived.conf:8: track_script chk: vrrp_script chk is defined after this instance (keepalived.conf:11); keepalived 2.2.7 only finds scripts defined before, and ignores this entry"}},
		{name: "track_script weights",
			src: "vrrp_script a {\n script /bin/true\n weight 10 reverse\n}\nvrrp_script b {\n script /bin/false\n}\n" +
				head + vips + " track_script {\n  a\n  b weight -30\n }\n}\n",
			check: func(t *testing.T, k *Config) {
				want := []Track{{Name: "a", Weight: 10, Reverse: true}, {Name: "b", Weight: -30}}
				if d := diff(want, k.Instances[0].TrackScripts); d != "" {
					t.Errorf("tracks (-want +got):\n%s", d)
				}
			}},
		{name: "unquoted script with arguments",
			src:  "vrrp_script a {\n script /usr/bin/killall -0 nginx\n}\n",
			want: []string{`keepalived.conf:2: script: keepalived runs only "/usr/bin/killall"; quote the whole command line to pass arguments`}},
		{name: "unknown keywords everywhere",
			src: "global_defs {\n router_id a\n log_unknown_vrids\n bogus_global 1\n}\nvrrp_strict\nbogus_block {\n a { b }\n}\n" +
				head + vips + " bogus_instance x\n authentication {\n  auth_bogus\n }\n}\n",
			want: []string{
				"keepalived.conf:3: 'log_unknown_vrids' in global_defs is not used by vrrpguard; keepalived would log adverts for virtual router IDs it does not run",
				"keepalived.conf:4: unknown keyword 'bogus_global' in global_defs; ignored",
				"keepalived.conf:6: unknown keyword 'vrrp_strict'; ignored",
				"keepalived.conf:7: unknown keyword 'bogus_block'; block skipped",
				"keepalived.conf:16: unknown keyword 'bogus_instance' in vrrp_instance VI_1; ignored",
				"keepalived.conf:18: unknown keyword 'auth_bogus' in authentication; ignored",
			},
			check: func(t *testing.T, k *Config) {
				if k.Global.Strict {
					t.Error("vrrp_strict outside global_defs applied")
				}
				if _, ok := k.Global.Other["log_unknown_vrids"]; !ok {
					t.Error("log_unknown_vrids not kept in Global.Other")
				}
			}},
		{name: "LVS blocks skipped, static ones read",
			src: "static_ipaddress {\n 1.2.3.4/24 dev eth0\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  TCP_CHECK {\n  }\n }\n}\n" +
				"net_namespace blue\n" + head + vips + "}\n",
			want: []string{
				"keepalived.conf:4: block 'virtual_server 10.0.0.1 80' is not used by vrrpguard; skipped (keepalived would load-balance this service with IPVS and health-check its real servers)",
				`keepalived.conf:10: keepalived runs in network namespace "blue": its interfaces are those of that namespace`,
			}},
		{name: "mixed families in virtual_ipaddress",
			src:  head + " virtual_ipaddress {\n  10.0.0.1\n  2001:db8::1\n }\n virtual_ipaddress_excluded {\n  2001:db8::2\n }\n}\n",
			want: []string{"keepalived.conf:6: virtual_ipaddress 2001:db8::1/128: address family differs from the instance's (ipv4); keepalived ignores it"},
			check: func(t *testing.T, k *Config) {
				in := k.Instances[0]
				if len(in.VIPs) != 1 || len(in.ExcludedVIPs) != 1 || in.Family() != vrrp.IPv4 {
					t.Errorf("VIPs %v excluded %v family %v", in.VIPs, in.ExcludedVIPs, in.Family())
				}
			}},
		{name: "family from the unicast source before the VIPs",
			src: head + " unicast_src_ip fd00::1\n unicast_peer {\n  fd00::2 min_ttl 1\n  10.0.0.9\n }\n" + vips + "}\n",
			want: []string{
				"keepalived.conf:7: unicast_peer 10.0.0.9: address family differs from the instance's (ipv6); keepalived ignores it",
				"keepalived.conf:10: virtual_ipaddress 10.0.0.1/32: address family differs from the instance's (ipv6); keepalived ignores it",
				"keepalived.conf:1: vrrp_instance VI_1: no virtual_ipaddress; keepalived refuses the instance",
			},
			check: func(t *testing.T, k *Config) {
				in := k.Instances[0]
				if in.Family() != vrrp.IPv6 || in.Version != 3 || !slices.Equal(in.UnicastPeers, addrs4("fd00::2")) {
					t.Errorf("family %v version %d peers %v", in.Family(), in.Version, in.UnicastPeers)
				}
			}},
		{name: "state MASTER without priority is the owner",
			src:  head + vips + " state MASTER\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: state MASTER without a priority; keepalived uses priority 255 (address owner)"},
			check: func(t *testing.T, k *Config) {
				if in := k.Instances[0]; in.Priority != 255 || in.State != "MASTER" {
					t.Errorf("priority %d state %s", in.Priority, in.State)
				}
			}},
		{name: "priority 255 without state is MASTER",
			src: head + vips + " priority 255\n}\n",
			check: func(t *testing.T, k *Config) {
				if in := k.Instances[0]; in.State != "MASTER" {
					t.Errorf("state %s", in.State)
				}
			}},
		{name: "lower-case state",
			src:  head + vips + " state master\n priority 100\n}\n",
			want: []string{`keepalived.conf:7: state: unknown state "master" (MASTER or BACKUP, upper case); keepalived uses BACKUP`}},
		{name: "one-line blocks",
			src: "vrrp_instance VI_1 { interface eth0\n virtual_router_id 51 }\n",
			// The '}' ends the instance: keepalived splits braces off.
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: no virtual_ipaddress"}},
		{name: "several settings on one line",
			src: head + vips + " authentication { auth_type PASS auth_pass secret }\n}\n",
			want: []string{
				`keepalived.conf:7: auth_type: extra words "auth_pass secret" ignored (keepalived reads one setting per line)`,
				"keepalived.conf:1: vrrp_instance VI_1: authentication without auth_pass; keepalived ignores the authentication",
			}},
		{name: "two VIPs on one line",
			src:  head + " virtual_ipaddress { 10.0.0.1 10.0.0.2 }\n}\n",
			want: []string{`keepalived.conf:4: address 10.0.0.1: unknown option "10.0.0.2"; keepalived ignores it`}},
		{name: "block brace on the next line",
			src: "vrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 51\n virtual_ipaddress\n {\n  10.0.0.1\n }\n}\n",
			check: func(t *testing.T, k *Config) {
				if len(k.Instances) != 1 || len(k.Instances[0].VIPs) != 1 {
					t.Errorf("instances %+v", k.Instances)
				}
			}},
		{name: "conditional after a brace",
			src:  "vrrp_instance VI_1 {@lb1 priority 60\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {@lb2 10.0.0.2\n  10.0.0.1 }\n}\n",
			want: []string{`keepalived.conf:1: conditional configuration ('@') evaluated for config-id "lb1" (keepalived -i); other nodes see a different configuration`},
			check: func(t *testing.T, k *Config) {
				in := k.Instances[0]
				if in.Priority != 60 || len(in.VIPs) != 1 || in.VIPs[0].Prefix.Addr() != netip.MustParseAddr("10.0.0.1") {
					t.Errorf("priority %d VIPs %v", in.Priority, in.VIPs)
				}
			}},
		{name: "missing include",
			src:  "include missing.conf\n" + head + vips + "}\n",
			want: []string{"keepalived.conf:1: include missing.conf: no such file"}},
		{name: "include pattern is the rest of the line",
			src:   head + vips + " include extra.conf }\n}\n",
			files: memFS{"extra.conf }": "nopreempt\n"},
			check: func(t *testing.T, k *Config) {
				if !k.Instances[0].Nopreempt {
					t.Error("file \"extra.conf }\" not included")
				}
			}},
		{name: "include with braces and glob",
			src:   "include {a,b}/*.conf\n",
			files: memFS{"a/1.conf": head + vips + "}\n", "b/2.conf": strings.Replace(head, "VI_1", "VI_2", 1) + " virtual_router_id 52\n" + vips + "}\n", "c/3.conf": "bogus\n"},
			check: func(t *testing.T, k *Config) {
				if d := diff([]string{"keepalived.conf", "a/1.conf", "b/2.conf"}, k.Files); d != "" {
					t.Errorf("files (-want +got):\n%s", d)
				}
			}},
		{name: "track_interface of the own interface",
			src:  head + vips + " track_interface {\n  eth0\n  eth1 weight 10\n }\n}\n",
			want: []string{"keepalived.conf:1: vrrp_instance VI_1: track_interface eth0 is the instance's own interface; keepalived ignores it"},
			check: func(t *testing.T, k *Config) {
				if d := diff([]Track{{Name: "eth1", Weight: 10}}, k.Instances[0].TrackInterfaces); d != "" {
					t.Errorf("tracks (-want +got):\n%s", d)
				}
			}},
		{name: "unicast instance without interface",
			src: "vrrp_instance U {\n virtual_router_id 9\n unicast_src_ip 10.0.0.1\n unicast_peer {\n  10.0.0.2\n }\n" + vips + "}\n",
			check: func(t *testing.T, k *Config) {
				if in := k.Instances[0]; in.Interface != "" || !in.Unicast() {
					t.Errorf("instance %+v", in)
				}
			}},
		{name: "same VRID on different interfaces or families is fine",
			src: head + vips + "}\n" + strings.Replace(head, "VI_1", "VI_2", 1) + " virtual_ipaddress {\n  fe80::1\n }\n}\n" +
				strings.Replace(strings.Replace(head, "VI_1", "VI_3", 1), "eth0", "eth1", 1) + vips + "}\n"},
		{name: "same VRID with disjoint unicast peers is fine",
			src: head + " unicast_peer {\n  10.0.0.2\n }\n" + vips + "}\n" + strings.Replace(head, "VI_1", "VI_2", 1) + " unicast_peer {\n  10.0.0.3\n }\n" + vips + "}\n"},
		{name: "global settings keepalived ignores",
			src: "global_defs {\n vrrp_gna_interval 0\n vrrp_garp_master_delay soon\n smtp_server 10.0.0.1 99999\n vrrp_garp_master_repeat 0\n}\n",
			want: []string{
				`keepalived.conf:2: vrrp_gna_interval: expected seconds 0.000001-4294.967295 (e.g. 1 or 0.5), got "0"; keepalived ignores it`,
				"keepalived.conf:2: 'vrrp_gna_interval 0' in global_defs is not used by vrrpguard; keepalived would pace unsolicited neighbour adverts on an interface this far apart",
				`keepalived.conf:3: vrrp_garp_master_delay: expected whole seconds 0-4293, got "soon"; keepalived ignores it`,
				`keepalived.conf:4: smtp_server: expected a port 1-65535, got "99999"; keepalived ignores it`,
				"keepalived.conf:5: vrrp_garp_master_repeat must be greater than 0; keepalived uses 1",
			},
			check: func(t *testing.T, k *Config) {
				if g := k.Global; g.GarpMasterDelay != 5*time.Second || g.SMTPServer != "" || g.GarpMasterRepeat != 1 {
					t.Errorf("global %+v", g)
				}
			}},
		{name: "garp settings inherited from global_defs",
			src: "global_defs {\n vrrp_garp_master_delay 10\n vrrp_garp_master_refresh 60\n}\n" + head + vips + " garp_master_repeat 2\n}\n",
			check: func(t *testing.T, k *Config) {
				in := k.Instances[0]
				if in.GarpMasterDelay != 10*time.Second || in.GarpMasterRefresh != time.Minute || in.GarpMasterRepeat != 2 || in.GarpMasterRefreshRepeat != 1 {
					t.Errorf("garp %v %v %v %v", in.GarpMasterDelay, in.GarpMasterRefresh, in.GarpMasterRepeat, in.GarpMasterRefreshRepeat)
				}
			}},
		{name: "accept, preempt_delay, use_vmac",
			src: head + vips + " no_accept\n preempt_delay 2.5\n use_vmac vrrp.51 00:00:5e:00:01\n dont_track_primary\n}\n",
			want: []string{
				"keepalived.conf:9: 'use_vmac vrrp.51 00:00:5e:00:01' in vrrp_instance is not used by vrrpguard; keepalived would run the instance on a macvlan interface with the virtual MAC 00:00:5e:00:01:VRID; this kernel has no macvlan, so vrrpguard runs the instance on the interface itself with its own MAC",
			},
			check: func(t *testing.T, k *Config) {
				in := k.Instances[0]
				if in.Accept == nil || *in.Accept || in.PreemptDelay != 2500*time.Millisecond || !in.UseVMAC || in.VMACInterface != "vrrp.51" || !in.DontTrackPrimary {
					t.Errorf("instance %+v", in)
				}
			}},
		{name: "sync group naming a missing instance",
			src: head + vips + "}\nvrrp_sync_group G {\n group {\n  VI_1 VI_9\n }\n}\n",
			want: []string{
				"keepalived.conf:8: vrrp_sync_group G: no vrrp_instance VI_9",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, w, err := parse(t, tt.src, tt.files)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(tt.want, w); len(tt.want)+len(w) > 0 && d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if tt.check != nil {
				tt.check(t, k)
			}
		})
	}
}

// TestCommentsAndQuotes checks keepalived's comment and quoting rules on
// the password, where they matter most.
func TestCommentsAndQuotes(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{`auth_pass s3cret!xyz`, "s3cret"},
		{`auth_pass s3cret#xyz`, "s3cret"},
		{`auth_pass s3cret ! a comment`, "s3cret"},
		{`auth_pass "s3cret!xyz"`, "s3cret!xyz"},
		{`auth_pass "s3c ret"`, "s3c ret"},
		{`auth_pass s3cret\!xyz`, "s3cret!xyz"},
		{`auth_pass s3cret\#xyz`, "s3cret#xyz"},
		{`auth_pass 's3cret!xyz'`, "'s3cret"},
		{`auth_pass a"b c"d`, "a"},
		{`	  auth_pass	  tabs	`, "tabs"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			src := "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n authentication {\n  auth_type PASS\n  " + tt.line + "\n }\n}\n"
			k, _, err := parse(t, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.Instances[0].Auth.Pass; got != tt.want {
				t.Errorf("password %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecomment(t *testing.T) {
	tests := []struct {
		in, want     string
		unterminated bool
	}{
		{"  priority 100  ", "priority 100", false},
		{"priority 100 # comment", "priority 100", false},
		{"priority 100! comment", "priority 100", false},
		{"! whole line", "", false},
		{`script "/bin/echo #1 !2"  # c`, `script "/bin/echo #1 !2"`, false},
		{`a \# b \! c`, "a # b ! c", false},
		{`"a \# b"`, `"a \# b"`, false},
		{`a \"b`, `a \"b`, false},
		{`a "b`, `a "b`, true},
		{`a # "b`, "a", false},
		{`a \`, `a\`, false},
		{`a # b \`, `a\`, false},
	}
	for _, tt := range tests {
		got, un := decomment(tt.in)
		if got != tt.want || un != tt.unterminated {
			t.Errorf("decomment(%q) = %q, %v; want %q, %v", tt.in, got, un, tt.want, tt.unterminated)
		}
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a b\tc", []string{"a", "b", "c"}, true},
		{`a "b c" d`, []string{"a", "b c", "d"}, true},
		{`"" x`, []string{"", "x"}, true},
		{`ab"c d"`, []string{"ab", "c d"}, true},
		{`"a"b`, []string{"a", "b"}, true},
		{`a "b`, []string{"a"}, false},
	}
	for _, tt := range tests {
		got, ok := splitWords(tt.in)
		if d := diff(tt.want, got); d != "" || ok != tt.ok {
			t.Errorf("splitWords(%q) ok=%v (-want +got):\n%s", tt.in, ok, d)
		}
	}
}

func TestSplitScript(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"/bin/true", []string{"/bin/true"}, false},
		{"/bin/echo 'a b' c", []string{"/bin/echo", "a b", "c"}, false},
		{`/bin/echo "a 'b'" ab"c d"e`, []string{"/bin/echo", "a 'b'", "abc de"}, false},
		{`x \t\x41\101\cA\\ \q`, []string{"x", "\tAA\x01\\", "q"}, false},
		{`x 'a`, nil, true},
		{`x \`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitScript(tt.in)
		if d := diff(tt.want, got); d != "" || (err != nil) != tt.err {
			t.Errorf("SplitScript(%q) err=%v (-want +got):\n%s", tt.in, err, d)
		}
	}
}

func TestConditionalsAndParameters(t *testing.T) {
	src := `$IF=eth0
$VIP_BASE=10.0.${NET}
$NET=5
@lb1 $PRIO=150
@^lb1 $PRIO=100
$INSTANCE= \
vrrp_instance VI_${ID} { \
  interface $IF \
  virtual_router_id ${ID} \
  priority $PRIO \
  virtual_ipaddress { \
    ${VIP_BASE}.${ID}/24 \
  } \
}

$ID=1
$INSTANCE
$ID=2
$INSTANCE
global_defs {
  @lb1 router_id lb1
  @lb2 router_id lb2
  notification_email_from a${_HASH}b
}
`
	tests := []struct {
		id       string
		wantPrio uint8
		wantRID  string
	}{{"lb1", 150, "lb1"}, {"lb2", 100, "lb2"}, {"other", 100, ""}}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			k, w, err := Options{ConfigID: tt.id}.Parse("keepalived.conf", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{`keepalived.conf:4: conditional configuration ('@') evaluated for config-id "` + tt.id + `" (keepalived -i); other nodes see a different configuration`}
			if d := diff(want, warningStrings(w)); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			var got []string
			for _, in := range k.Instances {
				got = append(got, in.String()+" prio "+strconv.Itoa(int(in.Priority))+" "+in.VIPs[0].Prefix.String()+" line "+strconv.Itoa(in.Line))
			}
			p := strconv.Itoa(int(tt.wantPrio))
			wantIns := []string{"VI_1 (eth0 VRID 1 ipv4) prio " + p + " 10.0.5.1/24 line 17", "VI_2 (eth0 VRID 2 ipv4) prio " + p + " 10.0.5.2/24 line 19"}
			if d := diff(wantIns, got); d != "" {
				t.Errorf("instances (-want +got):\n%s", d)
			}
			if k.Global.RouterID != tt.wantRID {
				t.Errorf("router_id %q, want %q", k.Global.RouterID, tt.wantRID)
			}
			// keepalived re-reads comments after substitution, so ${_HASH}
			// starts one.
			if k.Global.NotificationEmailFrom != "a" {
				t.Errorf("notification_email_from %q, want %q", k.Global.NotificationEmailFrom, "a")
			}
		})
	}
}

func TestExpandBraces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a.conf", []string{"a.conf"}},
		{"{a,b}.conf", []string{"a.conf", "b.conf"}},
		{"x/{a,b{1,2}}/y", []string{"x/a/y", "x/b1/y", "x/b2/y"}},
		{"{a}", []string{"{a}"}},
		{"{,a}b", []string{"b", "ab"}},
		{"{a,b", []string{"{a,b"}},
	}
	for _, tt := range tests {
		if d := diff(tt.want, expandBraces(tt.in)); d != "" {
			t.Errorf("expandBraces(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestParseReadFile(t *testing.T) {
	files := memFS{"conf.d/a.conf": "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.7\n }\n}\n"}
	k, _, err := Parse("keepalived.conf", []byte("include conf.d/a.conf\n"), files.read)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Instances) != 1 || k.Instances[0].File != "conf.d/a.conf" {
		t.Errorf("instances %+v", k.Instances)
	}
	if _, _, err := Load("testdata/does-not-exist.conf"); !errors.Is(err, errNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestIncludeSkipsDirsAndExecutables(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "conf.d", "sub.conf"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("global_defs {\n router_id a\n}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "conf.d", "b.conf"), []byte("global_defs {\n router_id b\n}\n"), 0o755))
	main := filepath.Join(dir, "keepalived.conf")
	must(os.WriteFile(main, []byte("include conf.d/*.conf\n"), 0o644))
	k, w, err := Load(main)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		main + ":1: include: " + filepath.Join(dir, "conf.d/b.conf") + " is not a regular non-executable file; keepalived skips it",
		main + ":1: include: " + filepath.Join(dir, "conf.d/sub.conf") + " is not a regular non-executable file; keepalived skips it",
	}
	if d := diff(want, warningStrings(w)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	if k.Global.RouterID != "a" {
		t.Errorf("router_id %q", k.Global.RouterID)
	}
}
