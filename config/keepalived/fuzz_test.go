package keepalived

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseKeepalived checks that no input makes the keepalived parser
// panic or hang, that errors carry a position, and that what it accepts is
// valid VRRP configuration.
func FuzzParseKeepalived(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.conf")
	more, _ := filepath.Glob("testdata/include/*/*")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.1 }\n}\n",
		"$A=x \\\n$A\n\n$A\n",
		"$A=${A}${A}\nrouter_id $A\n",
		"@lb1 include inc.conf\ninclude {a,b{c,d}}*\n",
		"a { b { c { d } } }\n}\n{\n",
		"\"unterminated\n'single\nx \\\n",
		"vrrp_instance B{interface eth0\nvirtual_router_id 2\nversion 3\nadvert_int 0.015\nunicast_peer{fe80::1}}\n",
		"vrrp_instance R{interface eth0\nvirtual_router_id 3\nvirtual_ipaddress{10.0.0.1}\nvirtual_routes{to blackhole default mtu lock 9 via inet 10.0.0.9 table 7\n}\nvirtual_rules{not from all fwmark 0x1/0x3 goto 9 priority 3\nsport 1-2 dport 3 uidrange 4-5 type prohibit\n}}\nstatic_routes{default6 nexthop via ::1\n}\nstatic_rules{inet6 to ::/0 lookup main sup_pl 1\n}\n",
		"vrrp_script s {\n script \"/bin/echo \\x41 \\101 \\cA\"\n weight -254\n}\n",
	} {
		f.Add(s)
	}
	files := memFS{"inc.conf": "global_defs {\n router_id inc\n}\n", "a/x.conf": "include inc.conf\n", "loop.conf": "include loop.conf\n"}
	f.Fuzz(func(t *testing.T, src string) {
		k, _, err := Options{ReadFile: files.read, Glob: files.glob, ConfigID: "lb1"}.Parse("keepalived.conf", []byte(src))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File == "" || e.Line <= 0 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		for _, in := range k.Instances {
			if in.VRID == 0 || in.Priority == 0 || (in.Version != 2 && in.Version != 3) || in.AdvertInt <= 0 ||
				(in.State != "MASTER" && in.State != "BACKUP") || in.Interface == "" && !in.Unicast() {
				t.Fatalf("invalid instance accepted: %+v", in)
			}
			for _, v := range in.VIPs {
				if !v.Prefix.IsValid() {
					t.Fatalf("invalid VIP accepted: %+v", v)
				}
			}
		}
	})
}
