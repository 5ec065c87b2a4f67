package keepalived

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// goodFiles are the testdata configurations real keepalived accepts.
var goodFiles = []string{
	"testdata/nginx-master.conf",
	"testdata/nginx-backup.conf",
	"testdata/lvs.conf",
	"testdata/ipv6-v3.conf",
	"testdata/include/keepalived.conf",
	"testdata/grammar.conf",
}

// netnsScript runs a command in a fresh network namespace that has the
// interfaces the testdata names (eth0 and eth1, a veth pair, with an IPv4
// address on eth0): keepalived refuses configurations naming interfaces
// that do not exist.
const netnsScript = `set -e
ip link set lo up
ip link add eth0 type veth peer name eth1
ip link set eth0 up
ip link set eth1 up
ip addr add 192.168.1.1/24 dev eth0
exec "$@"
`

// requireKeepalived skips unless keepalived with --config-test can run in
// a network namespace of its own.
func requireKeepalived(t *testing.T) {
	t.Helper()
	testenv.RequireTools(t, "keepalived", "unshare", "ip")
	testenv.RequireRoot(t)
	out, _ := exec.Command("keepalived", "--help").CombinedOutput()
	if !bytes.Contains(out, []byte("--config-test")) {
		t.Skipf("this keepalived has no --config-test option:\n%s", out)
	}
}

// inNetns runs args in a new network namespace.
func inNetns(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "unshare", append([]string{"-n", "sh", "-c", netnsScript, "sh"}, args...)...)
}

// TestKeepalivedConfigTest proves the good testdata files are valid for
// real keepalived: `keepalived -t` (config test mode) exits 0.
func TestKeepalivedConfigTest(t *testing.T) {
	requireKeepalived(t)
	for _, f := range goodFiles {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := inNetns(ctx, "keepalived", "--config-test", "--log-console", "--config-id", "lb1", "--use-file", abs).CombinedOutput()
			if err != nil {
				t.Errorf("keepalived -t %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestKeepalivedAlsoRejects checks that keepalived -t refuses what
// vrrpguard reports as fatal errors.
func TestKeepalivedAlsoRejects(t *testing.T) {
	requireKeepalived(t)
	const vi = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"
	tests := map[string]string{
		"unclosed block":   "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n",
		"extra close":      vi + "}\n",
		"vrid not number":  strings.Replace(vi, "virtual_router_id 51", "virtual_router_id abc", 1),
		"vrid 0":           strings.Replace(vi, "virtual_router_id 51", "virtual_router_id 0", 1),
		"priority 0":       strings.Replace(vi, "interface eth0", "interface eth0\n priority 0", 1),
		"advert_int text":  strings.Replace(vi, "interface eth0", "interface eth0\n advert_int fast", 1),
		"version 4":        strings.Replace(vi, "interface eth0", "interface eth0\n version 4", 1),
		"missing vrid":     strings.Replace(vi, " virtual_router_id 51\n", "", 1),
		"missing iface":    strings.Replace(vi, " interface eth0\n", "", 1),
		"duplicate name":   vi + strings.Replace(vi, "51", "52", 1),
		"duplicate vrid":   vi + strings.Replace(vi, "VI_1", "VI_2", 1),
		"bad VIP":          strings.Replace(vi, "10.0.0.1", "10.0.0.300/24", 1),
		"unterminated":     "global_defs {\n router_id \"abc\n}\n" + vi,
		"unmatched escape": "global_defs {\n router_id a\\\"b\n}\n" + vi,
	}
	dir := t.TempDir()
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := parse(t, src, nil); err == nil {
				t.Fatal("vrrpguard accepts it")
			}
			f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".conf")
			if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := inNetns(ctx, "keepalived", "--config-test", "--log-console", "--use-file", f).CombinedOutput()
			if err == nil {
				t.Errorf("keepalived -t accepts it:\n%s", out)
			}
		})
	}
}

// dumpedInstance is what keepalived's configuration dump (-d) shows of an
// instance, and what vrrpguard read.
type dumpedInstance struct {
	Name      string
	Version   string
	State     string
	Interface string
	VRID      string
	Priority  string
	Advert    string
	Preempt   string
	AuthType  string
	Password  string
	VIPs      []string
	Excluded  []string
	Peers     []string
}

// TestKeepalivedDumpAgrees runs keepalived on each good file and compares
// the configuration it dumps with what vrrpguard reads: the grammar
// (comments, quotes, braces, includes, parameters, conditionals) and the
// defaults must come out the same.
func TestKeepalivedDumpAgrees(t *testing.T) {
	requireKeepalived(t)
	for _, f := range goodFiles {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// keepalived runs (in its own namespace) until timeout stops it
			// with SIGTERM; the dump is written at startup.
			cmd := inNetns(ctx, "timeout", "-s", "TERM", "3", "keepalived", "--vrrp", "--dont-fork", "--log-console",
				"--dump-conf", "--config-id", "lb1", "--use-file", abs,
				"--pid", filepath.Join(dir, "keepalived.pid"), "--vrrp_pid", filepath.Join(dir, "vrrp.pid"))
			out, _ := cmd.CombinedOutput()
			got := parseDump(string(out))
			if len(got) == 0 {
				t.Fatalf("no instances in keepalived's dump:\n%s", out)
			}
			k, _, err := Options{ConfigID: "lb1"}.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []dumpedInstance
			for _, in := range k.Instances {
				want = append(want, dumpOf(in))
			}
			if d := diff(want, got); d != "" {
				t.Errorf("vrrpguard (-) and keepalived (+) disagree:\n%s", d)
			}
		})
	}
}

// dumpOf renders an instance like keepalived's dump.
func dumpOf(in *Instance) dumpedInstance {
	d := dumpedInstance{
		Name: in.Name, Version: strconv.Itoa(in.Version), State: in.State, Interface: in.Interface,
		VRID: strconv.Itoa(int(in.VRID)), Priority: strconv.Itoa(int(in.Priority)), Preempt: "enabled",
	}
	if in.Version == 2 {
		d.Advert = strconv.Itoa(int(in.AdvertInt/time.Second)) + " sec"
	} else {
		d.Advert = strconv.Itoa(int(in.AdvertInt/time.Millisecond)) + " milli-sec"
	}
	if in.Nopreempt {
		d.Preempt = "disabled"
	}
	switch in.Auth.Type {
	case "PASS":
		d.AuthType = "SIMPLE_PASSWORD"
		data := in.Auth.AuthData()
		d.Password = string(bytes.TrimRight(data[:], "\x00"))
	case "AH":
		d.AuthType = "IPSEC_AH"
	default:
		if in.Version == 2 {
			d.AuthType = "none"
		}
	}
	pfx := func(v VIP) string {
		if v.Prefix.IsSingleIP() {
			return v.Prefix.Addr().String()
		}
		return v.Prefix.String()
	}
	for _, v := range in.VIPs {
		d.VIPs = append(d.VIPs, pfx(v))
	}
	for _, v := range in.ExcludedVIPs {
		d.Excluded = append(d.Excluded, pfx(v))
	}
	for _, p := range in.UnicastPeers {
		d.Peers = append(d.Peers, p.String())
	}
	return d
}

// parseDump extracts the instances from keepalived's -d output.
func parseDump(out string) []dumpedInstance {
	var res []dumpedInstance
	var cur *dumpedInstance
	var list *[]string
	in := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		// Strip the log timestamp ("Mon Jan  2 15:04:05 2006: ").
		if i := strings.Index(line, ": "); i > 0 && strings.Count(line[:i], ":") == 2 {
			line = line[i+2:]
		}
		switch {
		case strings.HasPrefix(line, "------< VRRP Topology"):
			in = true
			continue
		case strings.HasPrefix(line, "------<"):
			in = false
		}
		if !in {
			continue
		}
		if name, ok := strings.CutPrefix(line, " VRRP Instance = "); ok {
			res = append(res, dumpedInstance{Name: name})
			cur, list = &res[len(res)-1], nil
			continue
		}
		if cur == nil {
			continue
		}
		if strings.HasPrefix(line, "     ") && list != nil {
			*list = append(*list, strings.Fields(line)[0])
			continue
		}
		list = nil
		key, val, _ := strings.Cut(strings.TrimSpace(line), " = ")
		switch {
		case key == "VRRP Version":
			cur.Version = val
		case key == "Wantstate":
			cur.State = val
		case key == "Interface":
			cur.Interface = val
		case key == "Virtual Router ID":
			cur.VRID = val
		case key == "Priority":
			cur.Priority = val
		case key == "Advert interval":
			cur.Advert = val
		case key == "Preempt":
			cur.Preempt = val
		case key == "Authentication type":
			cur.AuthType = val
		case key == "Password":
			cur.Password = val
		case strings.HasPrefix(key, "Virtual IP ("):
			list = &cur.VIPs
		case strings.HasPrefix(key, "Virtual IP Excluded"):
			list = &cur.Excluded
		case strings.HasPrefix(key, "Unicast Peer"):
			list = &cur.Peers
		}
	}
	return res
}
