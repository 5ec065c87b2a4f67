package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

func TestLoadYAML(t *testing.T) {
	got, err := LoadYAML("testdata/vrrpguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	want := &File{
		Path: "testdata/vrrpguard.yaml",
		Watch: Watch{
			Interfaces: []string{"eth0", "eth1"}, Listen: "[::1]:9812", Format: "json", Promiscuous: false, ProbeInterval: def.Watch.ProbeInterval,
		},
		Rules: rules.Params{
			FlapWindow: 2 * time.Minute, FlapThreshold: 6, NoMasterMargin: 500 * time.Millisecond,
			ResolveHold: 10 * time.Second, QuietPeriod: def.Rules.QuietPeriod, RouterTimeout: def.Rules.RouterTimeout,
			MaxSegments: 100, MaxRouters: def.Rules.MaxRouters, MaxRoutersPerSegment: def.Rules.MaxRoutersPerSegment,
			MaxVIPs: def.Rules.MaxVIPs,
		},
		Expect: []rules.Expected{
			{Names: []string{"web"}, Interface: "eth0", VRID: 51, Family: vrrp.IPv4, Version: 2, Interval: time.Second,
				VIPs: addrs("10.0.0.100", "10.0.0.101"), VIPsKnown: true,
				HasAuth: true, AuthType: vrrp.AuthSimple, AuthDigest: vrrp.AuthDigest(vrrp.PasswordAuthData("secret")),
				Peers: addrs("10.0.0.1", "10.0.0.2"), Sources: []string{"testdata/vrrpguard.yaml:14"}},
			{Names: []string{"v6"}, Interface: "eth0", VRID: 51, Family: vrrp.IPv6, Version: 3, Interval: 100 * time.Millisecond,
				VIPs: addrs("2001:db8::51", "fe80::51"), VIPsKnown: true, Sources: []string{"testdata/vrrpguard.yaml:22"}},
			{VRID: 7, Family: vrrp.IPv4, HasAuth: true, AuthType: vrrp.AuthSimple, AuthDigest: "a1b2c3d4",
				Sources: []string{"testdata/vrrpguard.yaml:28"}},
		},
		Keepalived: []string{"testdata/nginx-master.conf", "/etc/keepalived/keepalived.conf"},
		Alerts: Alerts{
			StateDir: "testdata/state",
			Webhooks: []Webhook{
				{URL: "https://hooks.example.com/vrrp", SecretFile: "/etc/vrrpguard/hook.secret", Headers: map[string]string{"X-Team": "net"},
					Timeout: 5 * time.Second, MinSeverity: "warning", Kinds: []string{"duplicate_master", "vip_on_backup"}},
				{URL: "http://127.0.0.1:8080/", Timeout: 2 * time.Second, MinSeverity: "critical"},
			},
			Alertmanagers: []Alertmanager{{URL: "http://alertmanager:9093", Timeout: 5 * time.Second, MinSeverity: "warning"}},
			Email: &Email{SMTP: "mail.example.com:587", From: "vrrpguard@example.com",
				To: []string{"ops@example.com", "On Call <oncall@example.com>"}, StartTLS: "always", Username: "vrrpguard",
				PasswordFile: "testdata/smtp.pass", Timeout: 30 * time.Second, MinSeverity: "info"},
			RepeatInterval: time.Hour,
			GroupWait:      time.Second,
		},
		SelfDemote: def.SelfDemote,
	}
	if d := diff(want, got); d != "" {
		t.Errorf("LoadYAML (-want +got):\n%s", d)
	}
}

func TestDefault(t *testing.T) {
	d := Default()
	if d.Watch.Listen != "127.0.0.1:9812" || d.Watch.Format != "text" || !d.Watch.Promiscuous || len(d.Watch.Interfaces) != 0 {
		t.Errorf("watch defaults: %+v", d.Watch)
	}
	if d.Alerts.RepeatInterval != 4*time.Hour || d.Alerts.GroupWait != 200*time.Millisecond || d.Alerts.StateDir != "/var/lib/vrrpguard" || d.Alerts.Email != nil {
		t.Errorf("alert defaults: %+v", d.Alerts)
	}
	// Each call is a new value.
	d.Watch.Interfaces = append(d.Watch.Interfaces, "x")
	d.Rules.FlapThreshold = 99
	if e := Default(); len(e.Watch.Interfaces) != 0 || e.Rules.FlapThreshold == 99 {
		t.Error("Default() returned shared state")
	}
	// An empty file is the default configuration.
	f, err := ParseYAML("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Path = "empty.yaml"
	if d := diff(want, f); d != "" {
		t.Errorf("empty file (-want +got):\n%s", d)
	}
	// Settings a file leaves out keep their defaults, also inside a
	// section it changes.
	f, err = ParseYAML("x.yaml", []byte("rules:\n  flap_threshold: 9\nwatch:\n"))
	if err != nil {
		t.Fatal(err)
	}
	want.Path, want.Rules.FlapThreshold = "x.yaml", 9
	if d := diff(want, f); d != "" {
		t.Errorf("partial file (-want +got):\n%s", d)
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown top-level key", "watch: {}\nrulez:\n  a: 1\n",
			`x.yaml:2: unknown key "rulez" in the top level (expected one of watch, rules, expect, keepalived, alerts, self_demote)`},
		{"unknown key in rules", "rules:\n  flap_window: 1m\n  foo: 1\n",
			`x.yaml:3: unknown key "foo" in rules (expected one of flap_window, flap_threshold, no_master_margin, resolve_hold, quiet_period, router_timeout, max_segments, max_routers, max_routers_per_segment, max_vips)`},
		{"unknown key in a list entry", "expect:\n  - vrid: 1\n  - vrid: 2\n    vip: [10.0.0.1]\n",
			`x.yaml:4: unknown key "vip" in expect[1] (expected one of name, interface, vrid, family, version, advert_int, vips, auth_type, auth_pass, auth_digest, peers)`},
		{"duplicate key", "watch:\n  format: text\n  format: json\n", `x.yaml:3: duplicate key "format" in watch (first at line 2)`},
		{"several errors", "watch:\n  formt: json\nrules:\n  flap_window: soon\n",
			"x.yaml:2: unknown key \"formt\" in watch (expected one of interfaces, listen, format, promiscuous, probe_interval)\nx.yaml:4: rules.flap_window: expected a duration like 1s or 100ms, got \"soon\""},
		{"duration without unit", "rules:\n  flap_window: 60\n", `x.yaml:2: rules.flap_window: expected a duration like 1s or 100ms, got "60"`},
		{"negative duration", "alerts:\n  group_wait: -1s\n", `x.yaml:2: alerts.group_wait: expected a duration like 1s or 100ms, got "-1s"`},
		{"quoted number", "rules:\n  max_vips: \"10\"\n", `x.yaml:2: rules.max_vips: expected a whole number, got "10"`},
		{"bool as word", "watch:\n  promiscuous: yes\n", `x.yaml:2: watch.promiscuous: expected true or false, got "yes"`},
		{"list expected", "watch:\n  interfaces: eth0\n", `x.yaml:2: watch.interfaces: expected a list, got "eth0"`},
		{"mapping expected", "alerts: [1]\n", `x.yaml:1: alerts: expected a mapping, got a list`},
		{"not a mapping", "- watch\n", `x.yaml:1: the top level: expected a mapping, got a list`},
		{"syntax error", "watch:\n\tformat: json\n", `x.yaml:2: invalid YAML: found character that cannot start any token`},
		{"two documents", "watch: {}\n---\nrules: {}\n", `x.yaml:2: more than one YAML document`},
		{"format", "watch:\n  format: xml\n", `x.yaml:2: watch.format: expected text or json, got "xml"`},
		{"listen", "watch:\n  listen: localhost\n", `x.yaml:2: watch.listen: expected host:port (e.g. 127.0.0.1:9812), got "localhost"`},
		{"flap threshold", "rules:\n  flap_threshold: 1\n", `x.yaml:2: rules.flap_threshold: must be at least 2, got 1`},
		{"bad vrid", "expect:\n  - interface: eth0\n    vrid: 300\n", `x.yaml:3: expect[0].vrid: expected a virtual router id 1-255, got 300`},
		{"missing vrid", "expect:\n  - interface: eth0\n", `x.yaml:2: expect[0]: vrid is required`},
		{"bad VIP", "expect:\n  - vrid: 1\n    vips: [10.0.0.1, 10.0.0.256/24]\n", `x.yaml:3: expect[0].vips[1]: expected an address or address/prefixlen, got "10.0.0.256/24"`},
		{"bad peer", "expect:\n  - vrid: 1\n    peers:\n      - 10.0.0.1/24\n", `x.yaml:4: expect[0].peers[0]: expected an IP address, got "10.0.0.1/24"`},
		{"mixed families", "expect:\n  - vrid: 1\n    vips: [10.0.0.1]\n    peers: ['fe80::1']\n", `x.yaml:4: expect[0].peers[0]: fe80::1 is not ipv4 like the entry's other addresses`},
		{"v2 fractional interval", "expect:\n  - vrid: 1\n    version: 2\n    advert_int: 500ms\n", `x.yaml:4: expect[0].advert_int: VRRP version 2 needs whole seconds 1s-255s, got 500ms`},
		{"version", "expect:\n  - vrid: 1\n    version: 1\n", `x.yaml:3: expect[0].version: expected 2 or 3, got 1`},
		{"auth with v3", "expect:\n  - vrid: 1\n    version: 3\n    auth_pass: x\n", `x.yaml:4: expect[0].auth_pass: authentication exists in VRRP version 2 over IPv4 only`},
		{"auth digest", "expect:\n  - vrid: 1\n    auth_digest: xyz\n", `x.yaml:3: expect[0].auth_digest: expected 8 hex digits, got "xyz"`},
		{"pass and digest", "expect:\n  - vrid: 1\n    auth_pass: a\n    auth_digest: 00000000\n", `x.yaml:4: expect[0].auth_digest: give auth_pass or auth_digest, not both`},
		{"duplicate expectation", "expect:\n  - {vrid: 1, interface: eth0}\n  - {vrid: 1, interface: eth0}\n", `x.yaml:3: expect[1]: another entry (line 2) expects the same interface, vrid and family`},
		{"webhook url", "alerts:\n  webhooks:\n    - url: hooks.example.com\n", `x.yaml:3: alerts.webhooks[0].url: expected an http:// or https:// URL, got "hooks.example.com"`},
		{"webhook without url", "alerts:\n  webhooks:\n    - timeout: 1s\n", `x.yaml:3: alerts.webhooks[0].url: expected an http:// or https:// URL, got ""`},
		{"severity", "alerts:\n  alertmanagers:\n    - url: http://am:9093\n      min_severity: high\n", `x.yaml:4: alerts.alertmanagers[0].min_severity: expected one of info, warning, critical, got "high"`},
		{"self_demote hold", "self_demote:\n  hold: 0s\n", `x.yaml:2: self_demote.hold: must be positive`},
		{"kind", "alerts:\n  webhooks:\n    - url: http://x/\n      kinds: [split_brain]\n", `x.yaml:4: alerts.webhooks[0].kinds[0]: unknown finding kind "split_brain" (expected one of duplicate_master, vip_on_backup, auth_mismatch, vrid_mismatch, vrid_conflict, version_mismatch, interval_mismatch, owner_conflict, master_flapping, no_master, ttl_invalid, checksum_invalid, malformed_packet, unexpected_router, table_full, stale_announcement, self_demoted, alerts_dropped, outbox_unwritable, capture_down)`},
		{"zero timeout", "alerts:\n  webhooks:\n    - url: http://x/\n      timeout: 0s\n", `x.yaml:4: alerts.webhooks[0].timeout: must be positive`},
		{"header name", "alerts:\n  webhooks:\n    - url: http://x/\n      headers: {\"a b\": c}\n", `x.yaml:4: alerts.webhooks[0].headers.a b: invalid header name "a b"`},
		{"email", "alerts:\n  email:\n    smtp: mail\n    from: nobody\n    to: []\n    starttls: maybe\n    password_env: P\n    password_file: f\n",
			"x.yaml:3: alerts.email.smtp: expected host:port, got \"mail\"\n" +
				"x.yaml:4: alerts.email.from: expected an email address, got \"nobody\"\n" +
				"x.yaml:5: alerts.email.to: at least one recipient is needed\n" +
				"x.yaml:6: alerts.email.starttls: expected auto, always or never, got \"maybe\"\n" +
				"x.yaml:7: alerts.email.password_env: give password_file or password_env, not both\n" +
				"x.yaml:2: alerts.email.username: a password needs a username"},
		{"interface name", "watch:\n  interfaces: [eth0, eth0]\n", `x.yaml:2: watch.interfaces[1]: interface "eth0" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseYAML("x.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error: %+v", f)
			}
			if d := diff(tt.want, err.Error()); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "x.yaml" {
				t.Errorf("error %T is not an *Error for x.yaml", err)
			}
		})
	}
}

func TestYAMLAnchors(t *testing.T) {
	src := "alerts:\n  webhooks:\n    - &hook {url: 'http://a/', timeout: 3s}\n    - *hook\n"
	f, err := ParseYAML("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Alerts.Webhooks) != 2 || f.Alerts.Webhooks[1].Timeout != 3*time.Second {
		t.Errorf("webhooks %+v", f.Alerts.Webhooks)
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		path    string
		want    Kind
		wantErr string
	}{
		{"keepalived/testdata/nginx-master.conf", KindKeepalived, ""},
		{"keepalived/testdata/lvs.conf", KindKeepalived, ""},
		{"keepalived/testdata/include/common/web-vips.inc", KindUnknown, "cannot tell"},
		{"keepalived/testdata/include/common/globals.conf", KindKeepalived, ""},
		{"testdata/vrrpguard.yaml", KindYAML, ""},
		// Content wins over the extension.
		{write("vrrpguard.conf", "watch:\n  format: json\n"), KindYAML, ""},
		{write("keepalived.yaml", "# keepalived\nvrrp_instance VI_1 {\n}\n"), KindKeepalived, ""},
		{write("one-line.cfg", "vrrp_instance X { interface eth0 }\n"), KindKeepalived, ""},
		{write("included.cfg", "  include /etc/keepalived/conf.d/*.conf\n"), KindKeepalived, ""},
		// A YAML mapping with only unknown keys is decided by the extension.
		{write("typo.yml", "wacth: {}\n"), KindYAML, ""},
		{write("empty.yaml", ""), KindYAML, ""},
		{write("empty.conf", "! nothing\n"), KindKeepalived, ""},
		{write("README", "hello\n"), KindUnknown, "cannot tell"},
		{filepath.Join(dir, "missing.conf"), KindUnknown, "no such file"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := Detect(tt.path)
			if got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
			if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
