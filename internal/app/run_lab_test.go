package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/status"
)

// runFlavour is one kind of VRRP the participant must interoperate with
// keepalived on.
type runFlavour struct {
	name     string
	version  int
	interval time.Duration
	auth     string
	subnet   string // host addresses are subnet+"1", +"2"
	plen     string
	vip      string
}

var runFlavours = []runFlavour{
	{name: "v2-pass", version: 2, interval: time.Second, auth: "s3cr3tpw", subnet: "10.81.0.", plen: "/24", vip: "10.81.0.100"},
	{name: "v3-ipv4", version: 3, interval: 100 * time.Millisecond, subnet: "10.82.0.", plen: "/24", vip: "10.82.0.100"},
	{name: "v3-ipv6", version: 3, interval: 100 * time.Millisecond, subnet: "fd83::", plen: "/64", vip: "fd83::100"},
}

// conf renders the flavour's keepalived.conf for one node: the same text
// for both nodes but the priority (and the unicast lines, which name the
// node's own and its peer's address).
func (f runFlavour) conf(prio int, extra ...string) string {
	return netlab.Conf(netlab.Instance{
		Name: "VI_" + strings.ToUpper(strings.ReplaceAll(f.name, "-", "_")), VRID: 61, Priority: prio, Version: f.version,
		AdvertInt: f.interval, AuthPass: f.auth, VIPs: []string{f.vip + f.plen}, Extra: extra,
	})
}

// mdi is Master_Down_Interval for a priority.
func (f runFlavour) mdi(prio int) time.Duration {
	skew := time.Duration(256-prio) * f.interval / 256
	if f.version == 2 {
		skew = time.Duration(256-prio) * time.Second / 256
	}
	return 3*f.interval + skew
}

// runNode is a vrrpguard run process.
type runNode struct {
	host *netlab.Host
	conf string
	proc *netlab.Proc
}

func startRun(t *testing.T, h *netlab.Host, conf string) *runNode {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &runNode{host: h, conf: path}
	n.start(t)
	return n
}

func (n *runNode) start(t *testing.T) {
	t.Helper()
	n.proc = n.host.Start(t, binary(t), "run", "--config", n.conf, "--listen", defaultRunListen)
	n.proc.WaitOutput(t, "msg=starting", 10*time.Second)
}

// labPair builds a lab with hosts a and b for the flavour.
func labPair(t *testing.T, f runFlavour) (*netlab.Lab, *netlab.Host, *netlab.Host) {
	lab := netlab.New(t)
	a := lab.AddHost("a", f.subnet+"1"+f.plen)
	b := lab.AddHost("b", f.subnet+"2"+f.plen)
	return lab, a, b
}

// keepalivedErrors are log words that mean keepalived disliked a packet.
var keepalivedErrors = regexp.MustCompile(`(?i)\b(bad|invalid|mismatch|error)`)

func checkKeepalivedLog(t *testing.T, k *netlab.Keepalived) {
	t.Helper()
	for _, l := range strings.Split(k.Log(), "\n") {
		if keepalivedErrors.MatchString(l) {
			t.Errorf("keepalived complains: %s", l)
		}
	}
}

// onlyHolder checks that exactly h holds vip, for a while.
func onlyHolder(t *testing.T, lab *netlab.Lab, h *netlab.Host, vip string, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		hs := lab.Holders(vip)
		if len(hs) != 1 || hs[0] != h {
			t.Fatalf("%s held by %v, want only %s", vip, hs, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitHolder waits until h holds vip and nobody else does, and returns how
// long that took.
func waitHolder(t *testing.T, lab *netlab.Lab, h *netlab.Host, vip string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		hs := lab.Holders(vip)
		if len(hs) == 1 && hs[0] == h {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s held by %v after %v, want only %s", vip, lab.Holders(vip), timeout, h)
	return 0
}

// TestRunBackupToKeepalived runs keepalived as master (priority 150) and
// vrrpguard as backup (100) from the same keepalived.conf text, then: a
// clean stop of keepalived hands over within about Skew_Time, keepalived
// restarted preempts, a crash of keepalived fails over.
func TestRunBackupToKeepalived(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, f := range runFlavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			lab, a, b := labPair(t, f)
			ka := a.StartKeepalived(t, f.conf(150))
			g := startRun(t, b, f.conf(100))
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			g.proc.WaitOutput(t, "entering BACKUP state", time.Second)
			// vrrpguard status, in b's namespace (its own loopback).
			checkRunStatus(t, b.Run(t, binary(t), "status", "--format", "json"), f)
			if out := b.Run(t, "curl", "-s", "http://"+defaultRunListen+"/metrics"); !strings.Contains(out, `vrrpguard_instance_state{instance="VI_`) {
				t.Errorf("metrics lack vrrpguard_instance_state:\n%s", out)
			}

			// Clean stop: priority 0, takeover after Skew_Time.
			stop := time.Now()
			go ka.Stop()
			took := waitHolder(t, lab, b, f.vip, 5*time.Second)
			t.Logf("takeover after keepalived's clean stop: %v (Skew_Time %v; keepalived needs ~1 s to exit)", took, f.mdi(100)-3*f.interval)
			// Priority 0 means take over after Skew_Time, not after a
			// whole Master_Down_Interval of silence.
			if took >= f.mdi(100) {
				t.Errorf("clean stop handed over after %v, not within Skew_Time (Master_Down_Interval is %v)", took, f.mdi(100))
			}
			for ka.Running() && time.Since(stop) < 10*time.Second {
				time.Sleep(20 * time.Millisecond)
			}
			checkKeepalivedLog(t, ka)

			// keepalived comes back with the higher priority and preempts.
			ka = a.StartKeepalived(t, f.conf(150))
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			onlyHolder(t, lab, a, f.vip, 2*f.interval)

			// Crash: the VIP stays on a; b takes over after Master_Down_Interval.
			ka.Crash()
			b.WaitAddr(t, f.vip, f.mdi(100)+3*time.Second)
			checkKeepalivedLog(t, ka)
			if !strings.Contains(g.proc.Output(), "master down timer expired") {
				t.Errorf("no master-down takeover logged:\n%s", g.proc.Output())
			}
		})
	}
}

// checkRunStatus checks `vrrpguard status --format json` of the backup
// node of TestRunBackupToKeepalived: one instance, BACKUP at priority 100,
// hearing a (keepalived, priority 150) as master.
func checkRunStatus(t *testing.T, out string, f runFlavour) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var doc status.Doc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("vrrpguard status --format json: %v:\n%s", err, out)
	}
	family, master := "ipv4", f.subnet+"1"
	if strings.Contains(f.subnet, ":") {
		family, master = "ipv6", "fe80::ff:fe00:1" // v6 adverts come from the link-local address
	}
	if len(doc.Instances) != 1 {
		t.Fatalf("vrrpguard status: %d instances, want 1:\n%s", len(doc.Instances), out)
	}
	s := doc.Instances[0]
	if !strings.HasPrefix(s.Instance, "VI_") || s.Interface != "eth0" || s.VRID != 61 || s.Version != f.version || s.Family != family ||
		s.State != "BACKUP" || s.Priority != 100 || s.Master != master || s.MasterPriority != 150 {
		t.Errorf("vrrpguard status: %+v, want VI_* on eth0, VRID 61, v%d/%s, BACKUP at 100, master %s at 150", s, f.version, family, master)
	}
}

// TestRunMasterWithKeepalivedBackup is the reverse: vrrpguard master (150),
// keepalived backup (100); vrrpguard's clean stop hands over, restarted it
// preempts, crashed keepalived takes over and vrrpguard restarted cleans up
// the stale address and preempts again.
func TestRunMasterWithKeepalivedBackup(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, f := range runFlavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			lab, a, b := labPair(t, f)
			kb := b.StartKeepalived(t, f.conf(100))
			kb.WaitLog(t, "Entering BACKUP STATE", 5*time.Second)
			g := startRun(t, a, f.conf(150))
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			if strings.Contains(kb.Log(), "Entering MASTER STATE") {
				// keepalived may have started first and been master alone; then it must have yielded.
				kb.WaitLog(t, "Master received advert", time.Second)
			}

			// Clean stop: vrrpguard resigns with priority 0.
			if err := g.proc.Stop(); err != nil {
				t.Errorf("vrrpguard run exit: %v\n%s", err, g.proc.Output())
			}
			kb.WaitLog(t, "Backup received priority 0 advertisement", 2*time.Second)
			waitHolder(t, lab, b, f.vip, f.mdi(100)+time.Second)

			// Back with the higher priority: preempts keepalived.
			g.start(t)
			waitHolder(t, lab, a, f.vip, f.mdi(150)+3*time.Second)
			onlyHolder(t, lab, a, f.vip, 2*f.interval)

			// Crash: SIGKILL leaves the address behind; keepalived takes over.
			g.proc.Kill()
			b.WaitAddr(t, f.vip, f.mdi(100)+3*time.Second)
			if !a.HasAddr(f.vip) {
				t.Errorf("crash removed %s from a; a crash should leave it", f.vip)
			}
			// Restarted, vrrpguard removes the stale address at once, then preempts.
			g.start(t)
			waitHolder(t, lab, a, f.vip, f.mdi(150)+3*time.Second)
			checkKeepalivedLog(t, kb)
			if n := strings.Count(kb.Log(), "Entering BACKUP STATE"); n < 3 {
				t.Errorf("keepalived entered BACKUP %d times, want >= 3 (init and two preemptions):\n%s", n, kb.Log())
			}
		})
	}
}

// TestRunNopreempt: with nopreempt on both (same text), a running master
// of lower priority keeps the VIP when the other starts, in both
// directions.
func TestRunNopreempt(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := runFlavours[1]
	for _, guardFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("vrrpguard-first=%v", guardFirst), func(t *testing.T) {
			t.Parallel()
			lab, a, b := labPair(t, f)
			// a starts first with priority 100 and becomes master; b has 200.
			var g *runNode
			var k *netlab.Keepalived
			if guardFirst {
				g = startRun(t, a, f.conf(100, "nopreempt"))
			} else {
				k = a.StartKeepalived(t, f.conf(100, "nopreempt"))
			}
			waitHolder(t, lab, a, f.vip, f.mdi(100)+5*time.Second)
			if guardFirst {
				k = b.StartKeepalived(t, f.conf(200, "nopreempt"))
			} else {
				g = startRun(t, b, f.conf(200, "nopreempt"))
			}
			onlyHolder(t, lab, a, f.vip, 3*f.mdi(200))
			checkKeepalivedLog(t, k)
			if guardFirst {
				if strings.Contains(k.Log(), "Entering MASTER STATE") {
					t.Errorf("keepalived (nopreempt) preempted:\n%s", k.Log())
				}
			} else {
				// Its state changes, from its log records: BACKUP, never MASTER.
				var states []string
				for _, rec := range logRecords(t, g.proc.Output()) {
					if s, ok := strings.CutPrefix(rec["msg"], "entering "); ok {
						states = append(states, s)
					}
				}
				if !slices.Contains(states, "BACKUP state") || slices.Contains(states, "MASTER state") {
					t.Errorf("vrrpguard (nopreempt) went through %q, want BACKUP and never MASTER:\n%s", states, g.proc.Output())
				}
			}
		})
	}
}

// TestRunUnicast: unicast_src_ip / unicast_peer, vrrpguard master and
// keepalived backup and the reverse, with crash failover, over IPv4 and
// IPv6.
func TestRunUnicast(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, f := range runFlavours[1:] {
		for _, guardMaster := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/vrrpguard-master=%v", f.name, guardMaster), func(t *testing.T) {
				t.Parallel()
				lab, a, b := labPair(t, f)
				uni := func(self, peer string) []string {
					return []string{"unicast_src_ip " + f.subnet + self, "unicast_peer {", "    " + f.subnet + peer, "}"}
				}
				var g *runNode
				var k *netlab.Keepalived
				master, backup := a, b
				if guardMaster {
					k = b.StartKeepalived(t, f.conf(100, uni("2", "1")...))
					g = startRun(t, a, f.conf(150, uni("1", "2")...))
				} else {
					g = startRun(t, b, f.conf(100, uni("2", "1")...))
					k = a.StartKeepalived(t, f.conf(150, uni("1", "2")...))
				}
				waitHolder(t, lab, master, f.vip, f.mdi(150)+5*time.Second)
				onlyHolder(t, lab, master, f.vip, f.mdi(100)+f.interval)
				if guardMaster {
					g.proc.Kill()
				} else {
					k.Crash()
				}
				backup.WaitAddr(t, f.vip, f.mdi(100)+3*time.Second)
				checkKeepalivedLog(t, k)
			})
		}
	}
}

func TestRunFlavoursHaveDistinctSubnets(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range runFlavours {
		if seen[f.subnet] {
			t.Fatalf("subnet %s twice", f.subnet)
		}
		seen[f.subnet] = true
		if !strings.HasPrefix(f.vip, f.subnet) {
			t.Fatalf("%s: vip %s outside %s", f.name, f.vip, f.subnet)
		}
	}
}
