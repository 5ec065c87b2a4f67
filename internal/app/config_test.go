package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var capV2Pass = filepath.Join("..", "..", "testdata", "captures", "v2pass.pcap")

// The recording has VRID 51 for 10.99.0.100 from 10.99.0.1 and 10.99.0.2,
// v2, 1s, auth_pass s3cretpw.
func TestReplayWithKeepalivedConfNamesTheNode(t *testing.T) {
	conf := writeFile(t, "keepalived.conf", `! node a
global_defs {
    router_id a
    enable_script_security
}
vrrp_script chk_nginx {
    script "/usr/bin/pgrep nginx"
    interval 2
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 50
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass otherpw
    }
    virtual_ipaddress {
        10.99.0.100/24
    }
    track_script {
        chk_nginx
    }
}
virtual_server 10.99.0.100 80 {
    lb_algo rr
}
`)
	st, out, errs := run(t, "replay", "--format", "json", "--config", conf, capV2Pass)
	if st != ExitFindings {
		t.Fatalf("exit %d: %s", st, errs)
	}
	o := decodeJSONLines(t, out, false, false)
	want := "10.99.0.1 advertises VRID 51 for 10.99.0.100, the config (" + conf + ":10) expects 50"
	if f, ok := o.finding("vrid_mismatch", "raised"); !ok || !strings.Contains(f.Message, want) {
		t.Errorf("no vrid_mismatch naming the node %q:\n%s", want, out)
	}
	nm, ok := o.finding("no_master", "raised")
	if !ok || nm.Severity != "critical" || nm.Interface != "" || nm.Family != "ipv4" || nm.VRID != 50 {
		t.Errorf("configured VRID 50 never seen should raise no_master (critical, ipv4, no interface), got %+v:\n%s", nm, out)
	}
	// Unknown keywords are warnings with file:line, never fatal.
	if !strings.Contains(errs, conf+":27") || !strings.Contains(errs, "warning") {
		t.Errorf("no file:line warning for virtual_server: %q", errs)
	}
}

func TestReplayConfigAuthMismatch(t *testing.T) {
	conf := writeFile(t, "keepalived.conf", `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass wrongpw
    }
    virtual_ipaddress {
        10.99.0.100/24
    }
    unicast_src_ip 10.99.0.1
    unicast_peer {
        10.99.0.3
    }
}
`)
	st, out, errs := run(t, "replay", "--format", "json", "--config", conf, capV2Pass)
	if st != ExitFindings {
		t.Fatalf("exit %d: %s", st, errs)
	}
	o := decodeJSONLines(t, out, false, false)
	for _, kind := range []string{"auth_mismatch", "unexpected_router"} {
		if _, ok := o.finding(kind, "raised"); !ok {
			t.Errorf("%s not raised:\n%s\n%s", kind, out, errs)
		}
	}
	if strings.Contains(out, "s3cretpw") || strings.Contains(out, "wrongpw") {
		t.Error("password printed")
	}
	// 10.99.0.1 is a configured peer, 10.99.0.2 is not.
	if f, _ := o.finding("unexpected_router", "raised"); !strings.Contains(f.Message, `10.99.0.2 (02:00:00:00:00:02) advertises VRID 51 on v2pass.pcap but the config`) ||
		!slices.Equal(f.Sources, []string{"10.99.0.2"}) {
		t.Errorf("unexpected_router does not name 10.99.0.2 (alone): %+v", f)
	}
}

func TestReplayConfigErrors(t *testing.T) {
	bad := writeFile(t, "keepalived.conf", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id abc\n}\n")
	st, out, errs := run(t, "replay", "--config", bad, capV2Pass)
	if st != ExitError || out != "" || !strings.Contains(errs, bad+":3") || !strings.Contains(errs, "virtual_router_id") {
		t.Errorf("syntax error: exit %d stderr %q", st, errs)
	}
	unclosed := writeFile(t, "keepalived.conf", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 5\n")
	if st, _, errs := run(t, "replay", "--config", unclosed, capV2Pass); st != ExitError || !strings.Contains(errs, unclosed+":") || !strings.Contains(errs, "opened at line 1") {
		t.Errorf("unclosed block: exit %d stderr %q", st, errs)
	}
	y := writeFile(t, "vrrpguard.yaml", "watch:\n  format: json\nrules:\n  flap_windw: 10s\n")
	if st, _, errs := run(t, "replay", "--config", y, capV2Pass); st != ExitError || !strings.Contains(errs, y+":4") || !strings.Contains(errs, "flap_windw") {
		t.Errorf("unknown YAML key: exit %d stderr %q", st, errs)
	}
	y2 := writeFile(t, "vrrpguard.yaml", "rules:\n  flap_threshold: 1\n")
	if st, _, errs := run(t, "replay", "--config", y2, capV2Pass); st != ExitError || !strings.Contains(errs, "flap") {
		t.Errorf("bad threshold: exit %d stderr %q", st, errs)
	}
}

func TestReplayYAMLExpectAndThresholds(t *testing.T) {
	y := writeFile(t, "vrrpguard.yaml", `rules:
  no_master_margin: 30s
expect:
  - name: web
    vrid: 51
    version: 3
    vips: [10.99.0.100/24]
`)
	st, out, errs := run(t, "replay", "--format", "json", "--config", y, capV2Pass)
	if st != ExitFindings {
		t.Fatalf("exit %d %s", st, errs)
	}
	o := decodeJSONLines(t, out, false, false)
	if f, ok := o.finding("version_mismatch", "raised"); !ok || !strings.Contains(f.Message, y+":4") {
		t.Errorf("version mismatch against YAML expect not raised with file:line:\n%s", out)
	}
	// A 30s margin: the silence at the end of the recording is too short.
	if n := o.kinds("raised")["no_master"] + o.kinds("resolved")["no_master"]; n > 0 {
		t.Errorf("no_master_margin ignored:\n%s", out)
	}
}

// TestConfigWarningsReachRunWatchReplay checks that keepalived.conf
// keywords vrrpguard does not act on are printed with file:line by every
// command that loads the file. run stops at auth_type AH after loading;
// watch and replay are given a few seconds.
func TestConfigWarningsReachRunWatchReplay(t *testing.T) {
	conf := writeFile(t, "keepalived.conf", `global_defs {
    router_id a
    vrrp_skip_check_adv_addr
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 50
    priority 150
    use_vmac
    authentication {
        auth_type AH
    }
    virtual_ipaddress {
        10.99.0.100/24 no_track
    }
}
`)
	want := []string{
		conf + ":3: 'vrrp_skip_check_adv_addr' in global_defs is not used by vrrpguard; keepalived would not check the addresses in adverts from the current master",
		conf + ":9: 'use_vmac' in vrrp_instance is not used by vrrpguard; keepalived would run the instance on a macvlan interface",
		conf + ":14: address 10.99.0.100/24: option 'no_track' is not used by vrrpguard; keepalived would stay master when the address is deleted",
	}
	for _, args := range [][]string{
		{"run", "--config", conf, "--listen", "off"},
		{"watch", "--config", conf, "--interface", "vrrpguard-none0", "--listen", "off", "--no-probe"},
		{"replay", "--config", conf, capV2Pass},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var out, errb bytes.Buffer
		Run(ctx, "test", args, &out, &errb)
		cancel()
		errs := errb.String()
		for _, w := range want {
			if !strings.Contains(errs, "vrrpguard "+args[0]+": warning: "+w) {
				t.Errorf("%s: stderr lacks %q:\n%s", args[0], w, errs)
			}
		}
	}
}
