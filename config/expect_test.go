package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

func load(t *testing.T, path string) *keepalived.Config {
	t.Helper()
	k, _, err := keepalived.Options{ConfigID: "lb1"}.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func parseNamed(t *testing.T, name, src string) *keepalived.Config {
	t.Helper()
	k, _, err := keepalived.Options{ConfigID: "lb1"}.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestExpectationsMergePair(t *testing.T) {
	master, backup := load(t, "keepalived/testdata/nginx-master.conf"), load(t, "keepalived/testdata/nginx-backup.conf")
	got, w := Expectations([]*keepalived.Config{master, backup}, nil)
	if len(w) != 0 {
		t.Errorf("warnings: %q", warningStrings(w))
	}
	want := []rules.Expected{{
		Names: []string{"VI_1"}, Interface: "eth0", VRID: 51, Family: vrrp.IPv4, Version: 2, Interval: time.Second,
		VIPs: addrs("192.168.1.100"), VIPsKnown: true,
		AuthType: vrrp.AuthSimple, AuthDigest: vrrp.AuthDigest(vrrp.PasswordAuthData("Kp")), HasAuth: true,
		Peers: addrs("192.168.1.1", "192.168.1.2"),
		Priorities: []rules.Priority{
			{Source: "keepalived/testdata/nginx-master.conf:28", RouterID: "LB1", Priority: 150, State: "MASTER"},
			{Source: "keepalived/testdata/nginx-backup.conf:28", RouterID: "LB2", Priority: 100, State: "BACKUP"},
		},
		Sources: []string{"keepalived/testdata/nginx-master.conf:28", "keepalived/testdata/nginx-backup.conf:28"},
	}}
	if d := diff(want, got); d != "" {
		t.Errorf("Expectations (-want +got):\n%s", d)
	}
	if k := got[0].Key(); k != "eth0/ipv4/51" {
		t.Errorf("Key() = %q", k)
	}
	// The same file twice is one source.
	again, w := Expectations([]*keepalived.Config{master, master}, nil)
	if len(w) != 0 || len(again) != 1 || len(again[0].Sources) != 1 {
		t.Errorf("same file twice: %+v %q", again, warningStrings(w))
	}
}

func TestExpectationsDisagreement(t *testing.T) {
	a := parseNamed(t, "lb1.conf", `global_defs {
  router_id lb1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 200
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
  }
  authentication {
    auth_type PASS
    auth_pass secret1
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance OTHER {
  interface eth1
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    10.9.0.1
  }
}
`)
	b := parseNamed(t, "lb2.conf", `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  advert_int 2
  priority 100
  unicast_src_ip 10.0.0.2
  unicast_peer {
    10.0.0.1
  }
  authentication {
    auth_type PASS
    auth_pass secret2
  }
  virtual_ipaddress {
    10.0.0.100/24
    10.0.0.101/24
  }
}
vrrp_instance OTHER {
  interface eth1
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    10.9.0.1/24
  }
}
`)
	got, w := Expectations([]*keepalived.Config{a, b}, nil)
	d1 := vrrp.AuthDigest(vrrp.PasswordAuthData("secret1"))
	d2 := vrrp.AuthDigest(vrrp.PasswordAuthData("secret2"))
	wantWarn := []string{
		"lb2.conf:1: segment eth0/ipv4/51: lb2.conf:1 and lb1.conf:4 disagree on advert_int (2s vs 1s), " +
			"VIPs (10.0.0.100 10.0.0.101 vs 10.0.0.100), authentication (PASS digest " + d2 + " vs PASS digest " + d1 + ")",
		"lb2.conf:19: segment eth1/ipv4/9: lb2.conf:19 and lb1.conf:20 have the same priority 100 (the higher address then wins the election)",
	}
	if d := diff(wantWarn, warningStrings(w)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	type summary struct {
		Key     string
		Sources []string
		Peers   []netip.Addr
		Advert  time.Duration
		Digest  string
	}
	var sum []summary
	for _, e := range got {
		sum = append(sum, summary{e.Key(), e.Sources, e.Peers, e.Interval, e.AuthDigest})
	}
	want := []summary{
		// Both views of the disagreeing segment are kept; peers are united.
		{"eth0/ipv4/51", []string{"lb1.conf:4"}, addrs("10.0.0.1", "10.0.0.2"), time.Second, d1},
		{"eth0/ipv4/51", []string{"lb2.conf:1"}, addrs("10.0.0.1", "10.0.0.2"), 2 * time.Second, d2},
		// VIP prefix lengths do not matter on the wire.
		{"eth1/ipv4/9", []string{"lb1.conf:20", "lb2.conf:19"}, nil, time.Second, ""},
	}
	if d := diff(want, sum); d != "" {
		t.Errorf("Expectations (-want +got):\n%s", d)
	}
}

func TestExpectationsWithYAML(t *testing.T) {
	f, err := ParseYAML("vrrpguard.yaml", []byte(`keepalived: [keepalived/testdata/nginx-master.conf, keepalived/testdata/nginx-backup.conf]
expect:
  - name: web
    interface: eth0
    vrid: 51
    version: 2
    peers: [192.168.1.3]
    auth_pass: other
  - name: v6
    interface: eth0
    vrid: 51
    vips: ["fe80::1"]
  - name: db
    interface: eth1
    vrid: 51
  - vrid: 60
    auth_type: none
`))
	if err != nil {
		t.Fatal(err)
	}
	got, w, err := f.Expectations(keepalived.Options{ConfigID: "lb1"})
	if err != nil {
		t.Fatal(err)
	}
	// The nginx files' global_defs keywords vrrpguard does not act on are
	// warned about first.
	var wantWarn []string
	for _, conf := range []string{"keepalived/testdata/nginx-master.conf", "keepalived/testdata/nginx-backup.conf"} {
		wantWarn = append(wantWarn,
			conf+":13: 'vrrp_skip_check_adv_addr' in global_defs is not used by vrrpguard; keepalived would not check the addresses in adverts from the current master",
			conf+":14: 'vrrp_garp_interval 0.001' in global_defs is not used by vrrpguard; keepalived would pace gratuitous ARPs on an interface this far apart")
	}
	wantWarn = append(wantWarn,
		"vrrpguard.yaml:3: segment eth0/ipv4/51: vrrpguard.yaml:3 and keepalived/testdata/nginx-master.conf:28 disagree on authentication (PASS digest "+
			vrrp.AuthDigest(vrrp.PasswordAuthData("other"))+" vs PASS digest "+vrrp.AuthDigest(vrrp.PasswordAuthData("Kp"))+")")
	if d := diff(wantWarn, warningStrings(w)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key()+" "+strings.Join(e.Names, ",")+" "+strings.Join(e.Sources, ","))
	}
	wantKeys := []string{
		"*/ipv4/60  vrrpguard.yaml:16",
		"eth0/ipv4/51 VI_1 keepalived/testdata/nginx-master.conf:28,keepalived/testdata/nginx-backup.conf:28",
		"eth0/ipv4/51 web vrrpguard.yaml:3",
		"eth0/ipv6/51 v6 vrrpguard.yaml:9",
		"eth1/ipv4/51 db vrrpguard.yaml:13",
	}
	if d := diff(wantKeys, keys); d != "" {
		t.Errorf("segments (-want +got):\n%s", d)
	}
	for _, e := range got[1:3] {
		if len(e.Peers) != 3 {
			t.Errorf("%s peers %v, want the YAML peer united with the keepalived ones", e.Names, e.Peers)
		}
	}
	if e := got[4]; e.Version != 0 || e.Interval != 0 || e.VIPsKnown || e.HasAuth {
		t.Errorf("unspecified fields filled: %+v", e)
	}
	if e := got[0]; !e.HasAuth || e.AuthType != vrrp.AuthNone || e.VIPsKnown || e.Version != 0 {
		t.Errorf("partial expectation %+v", e)
	}

	f.Keepalived = []string{"testdata/missing.conf"}
	if _, _, err := f.Expectations(keepalived.Options{}); err == nil {
		t.Error("no error for a missing keepalived file")
	}
}

func TestExpectationsOwners(t *testing.T) {
	src := "vrrp_instance V {\n interface eth0\n virtual_router_id 5\n state MASTER\n priority 255\n virtual_ipaddress {\n  10.0.0.5\n }\n}\n"
	a, b := parseNamed(t, "a.conf", src), parseNamed(t, "b.conf", src)
	_, w := Expectations([]*keepalived.Config{a, b}, nil)
	want := []string{"b.conf:1: segment eth0/ipv4/5: b.conf:1 and a.conf:1 have priority 255: two address owners"}
	if d := diff(want, warningStrings(w)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

// TestForWatcher checks that only expectations made of YAML expect entries
// alone keep their interface: a keepalived.conf names the node's NIC.
func TestForWatcher(t *testing.T) {
	f, err := ParseYAML("vrrpguard.yaml", []byte(`keepalived: [keepalived/testdata/nginx-master.conf]
expect:
  - {name: yaml-only, interface: eth1, vrid: 9}
  - {name: merged, interface: eth0, vrid: 51}
`))
	if err != nil {
		t.Fatal(err)
	}
	exp, _, err := f.Expectations(keepalived.Options{ConfigID: "lb1"})
	if err != nil {
		t.Fatal(err)
	}
	got := f.ForWatcher(exp)
	var ifaces []string
	for _, e := range got {
		ifaces = append(ifaces, strings.Join(e.Names, ",")+" "+e.Key())
	}
	want := []string{"VI_1,merged */ipv4/51", "yaml-only eth1/ipv4/9"}
	if d := diff(want, ifaces); d != "" {
		t.Errorf("ForWatcher (-want +got):\n%s", d)
	}
	if exp[0].Interface != "eth0" {
		t.Errorf("ForWatcher modified its argument: %+v", exp[0])
	}
	// Without YAML entries, every keepalived interface goes, except those
	// of the watcher's own node.
	k := load(t, "keepalived/testdata/nginx-master.conf")
	exp, _ = Expectations([]*keepalived.Config{k}, nil)
	if got := Default().ForWatcher(exp); len(got) != 1 || got[0].Interface != "" {
		t.Errorf("keepalived-only expectation on the watcher: %+v", got)
	}
	if got := Default().ForWatcher(exp, nil, k); len(got) != 1 || got[0].Interface != "eth0" {
		t.Errorf("own keepalived expectation on the watcher: %+v", got)
	}
	other := load(t, "keepalived/testdata/nginx-backup.conf")
	exp, _ = Expectations([]*keepalived.Config{k, other}, nil)
	if got := Default().ForWatcher(exp, other); len(got) != 1 || got[0].Interface != "" {
		t.Errorf("expectation merged from the own and another node's file keeps its interface: %+v", got)
	}
}
