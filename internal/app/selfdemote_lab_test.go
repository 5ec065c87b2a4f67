package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// sdScenario is one way two routers of a pair stop accepting each other's
// advertisements: keepalived runs kconf, vrrpguard gconf.
type sdScenario struct {
	name         string
	subnet, vip  string
	kconf, gconf func(prio int) string
	interval     time.Duration
}

func sdScenarios() []sdScenario {
	inst := func(vrid, version int, pass string, iv time.Duration, vip string) func(int) string {
		return func(prio int) string {
			return netlab.Conf(netlab.Instance{Name: "VI_SD", VRID: vrid, Priority: prio, Version: version,
				AdvertInt: iv, AuthPass: pass, VIPs: []string{vip + "/24"}})
		}
	}
	return []sdScenario{
		{name: "password", subnet: "10.91.0.", vip: "10.91.0.100", interval: time.Second,
			kconf: inst(71, 2, "keepalv1", time.Second, "10.91.0.100"), gconf: inst(71, 2, "typo-pw2", time.Second, "10.91.0.100")},
		{name: "vrid", subnet: "10.92.0.", vip: "10.92.0.100", interval: time.Second,
			kconf: inst(72, 2, "", time.Second, "10.92.0.100"), gconf: inst(73, 2, "", time.Second, "10.92.0.100")},
		{name: "v2-v3", subnet: "10.93.0.", vip: "10.93.0.100", interval: time.Second,
			kconf: inst(74, 2, "", time.Second, "10.93.0.100"), gconf: inst(74, 3, "", time.Second, "10.93.0.100")},
	}
}

// startSelfDemote runs `vrrpguard run --self-demote` with conf, JSON output.
func startSelfDemote(t *testing.T, h *netlab.Host, conf string, extra ...string) *netlab.Proc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run", "--config", path, "--listen", defaultRunListen, "--format", "json", "--self-demote"}, extra...)
	p := h.Start(t, binary(t), args...)
	p.WaitOutput(t, "self-demotion on", 10*time.Second)
	return p
}

// findingLines returns the JSON findings of kind in state printed by p.
func findingLines(t *testing.T, p *netlab.Proc, kind, state string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(p.Output(), "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		if m["type"] == "finding" && m["kind"] == kind && m["state"] == state {
			out = append(out, m)
		}
	}
	return out
}

// waitFinding waits until p printed a finding of kind in state.
func waitFinding(t *testing.T, p *netlab.Proc, kind, state string, timeout time.Duration) map[string]any {
	t.Helper()
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if fs := findingLines(t, p, kind, state); len(fs) > 0 {
			return fs[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s %s finding within %v:\n%s", kind, state, timeout, p.Output())
	return nil
}

// TestSelfDemoteOutranked: keepalived (150) and vrrpguard run --self-demote
// (100) stop accepting each other's advertisements (a password typo, a
// VRID typo, a v2/v3 mix): both become master; vrrpguard, outranked, yields
// within one advertisement interval of the detection and stays backup
// although keepalived's advertisements stay invalid to it. Then keepalived
// dies with its node (SIGKILL, interface down): vrrpguard takes over within
// Master_Down_Interval + one interval.
func TestSelfDemoteOutranked(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, sc := range sdScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			a := lab.AddHost("a", sc.subnet+"1/24")
			b := lab.AddHost("b", sc.subnet+"2/24")
			k := a.StartKeepalived(t, sc.kconf(150)) // the side that must win first
			a.WaitAddr(t, sc.vip, 10*time.Second)
			g := startSelfDemote(t, b, sc.gconf(100))
			f := waitFinding(t, g, "self_demoted", "raised", 30*time.Second)
			detected := time.Now()
			if msg, _ := f["message"].(string); !strings.Contains(msg, sc.subnet+"1") {
				t.Errorf("self_demoted does not name the rival: %q", msg)
			}
			waitHolder(t, lab, a, sc.vip, sc.interval+500*time.Millisecond)
			t.Logf("only keepalived holds %s %v after the finding", sc.vip, time.Since(detected))
			onlyHolder(t, lab, a, sc.vip, 3*sc.interval+5*time.Second)

			// keepalived's node goes away.
			k.Crash()
			a.SetLink(t, false)
			gone := time.Now()
			mdi := 3*sc.interval + time.Duration(256-100)*sc.interval/256
			took := waitAddr(t, b, sc.vip, mdi+sc.interval+5*time.Second)
			if took > mdi+sc.interval {
				t.Errorf("vrrpguard took over %v after keepalived's node went away, want within %v", took, mdi+sc.interval)
			}
			t.Logf("vrrpguard took over %v after keepalived's node went away", time.Since(gone))
			waitFinding(t, g, "self_demoted", "resolved", 30*time.Second)
		})
	}
}

// waitAddr waits until h has ip and returns how long that took.
func waitAddr(t *testing.T, h *netlab.Host, ip string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if h.HasAddr(ip) {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s does not hold %s after %v", h, ip, timeout)
	return 0
}
