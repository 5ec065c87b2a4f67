package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// outrankCase is an sdScenario on a subnet and VRIDs of its own, with the
// hold time vrrpguard runs with: from a YAML file passed as a second
// --config, or the built-in default when yamlHold is zero.
type outrankCase struct {
	sdScenario
	yamlHold time.Duration
}

// hold is the hold time the case's vrrpguard runs with.
func (c outrankCase) hold() time.Duration {
	if c.yamlHold > 0 {
		return c.yamlHold
	}
	return 10 * time.Second // config/default.yaml self_demote.hold
}

// outrankCases are the three ways of sdScenarios (password, VRID, v2/v3)
// on 10.101-103.0.0/24. The VRID case runs with the built-in hold (10 s),
// the others with hold: 5s from a YAML file.
func outrankCases() []outrankCase {
	inst := func(vrid, version int, pass, vip string) func(int) string {
		return func(prio int) string {
			return netlab.Conf(netlab.Instance{Name: "VI_OUT", VRID: vrid, Priority: prio, Version: version,
				AdvertInt: time.Second, AuthPass: pass, VIPs: []string{vip + "/24"}})
		}
	}
	return []outrankCase{
		{sdScenario{name: "password", subnet: "10.101.0.", vip: "10.101.0.100", interval: time.Second,
			kconf: inst(81, 2, "keepalv1", "10.101.0.100"), gconf: inst(81, 2, "typo-pw2", "10.101.0.100")}, 5 * time.Second},
		{sdScenario{name: "vrid", subnet: "10.102.0.", vip: "10.102.0.100", interval: time.Second,
			kconf: inst(82, 2, "", "10.102.0.100"), gconf: inst(83, 2, "", "10.102.0.100")}, 0},
		{sdScenario{name: "v2-v3", subnet: "10.103.0.", vip: "10.103.0.100", interval: time.Second,
			kconf: inst(84, 2, "", "10.103.0.100"), gconf: inst(84, 3, "", "10.103.0.100")}, 5 * time.Second},
	}
}

// holdYAML writes a vrrpguard YAML file setting self_demote.hold.
func holdYAML(t *testing.T, hold time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vrrpguard.yaml")
	if err := os.WriteFile(path, []byte("self_demote:\n  hold: "+hold.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// logLine is one slog text line of a vrrpguard process.
type logLine struct {
	at   time.Time
	text string
}

var slogTime = regexp.MustCompile(`^time=(\S+) `)

// logLines returns p's log lines whose message is msg, with their times.
func logLines(t *testing.T, p *netlab.Proc, msg string) []logLine {
	t.Helper()
	want := "msg=" + strconv.Quote(msg)
	if !strings.ContainsAny(msg, " =\"") {
		want = "msg=" + msg
	}
	var out []logLine
	for _, l := range strings.Split(p.Output(), "\n") {
		m := slogTime.FindStringSubmatch(l)
		if m == nil || !strings.Contains(l, want) {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("log line with a bad time: %q: %v", l, err)
		}
		out = append(out, logLine{at: at, text: l})
	}
	return out
}

// waitLogLine waits until p logged msg and returns the first such line.
func waitLogLine(t *testing.T, p *netlab.Proc, msg string, timeout time.Duration) logLine {
	t.Helper()
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if ls := logLines(t, p, msg); len(ls) > 0 {
			return ls[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q logged within %v:\n%s", msg, timeout, p.Output())
	return logLine{}
}

// evidenceTime returns the time of key (`key=15:04:05.000`) in the
// evidence of a demotion log line, on the day of the line.
func evidenceTime(t *testing.T, l logLine, key string) time.Time {
	t.Helper()
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `=(\d\d:\d\d:\d\d\.\d+)`).FindStringSubmatch(l.text)
	if m == nil {
		t.Fatalf("no %s in %s", key, l.text)
	}
	c, err := time.Parse("15:04:05.000", m[1])
	if err != nil {
		t.Fatalf("bad %s in %s: %v", key, l.text, err)
	}
	at := l.at.In(time.Local)
	v := time.Date(at.Year(), at.Month(), at.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.Local)
	if v.After(at.Add(time.Second)) {
		v = v.AddDate(0, 0, -1) // before midnight
	}
	return v
}

// metricSum sums the samples of the metric name whose labels include every
// one of labels (`key="value"`) in a Prometheus text exposition.
func metricSum(t testing.TB, text, name string, labels ...string) float64 {
	t.Helper()
	sum := 0.0
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		match := true
		for _, lb := range labels {
			if !strings.Contains(l, lb) {
				match = false
			}
		}
		if !match {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", l, err)
		}
		sum += v
	}
	return sum
}

// scrape returns the /metrics of the vrrpguard run on h.
func scrape(t *testing.T, h *netlab.Host) string {
	t.Helper()
	out := h.Run(t, "curl", "-s", "http://"+defaultRunListen+"/metrics")
	if !strings.Contains(out, "vrrpguard_instance_state") {
		t.Fatalf("%s: no vrrpguard metrics:\n%s", h, out)
	}
	return out
}

// statusJSON returns /api/v1/status of the vrrpguard run on h, decoded.
func statusJSON(t *testing.T, h *netlab.Host) map[string]any {
	t.Helper()
	out := h.Run(t, "curl", "-s", "http://"+defaultRunListen+statusPath)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%s: status is not JSON: %v\n%s", h, err, out)
	}
	return m
}

// statusInstance returns the participant status of instance in a status
// document.
func statusInstance(t *testing.T, doc map[string]any, instance string) map[string]any {
	t.Helper()
	is, _ := doc["instances"].([]any)
	for _, x := range is {
		if m, _ := x.(map[string]any); m != nil && m["instance"] == instance {
			return m
		}
	}
	t.Fatalf("status has no instance %s: %v", instance, doc["instances"])
	return nil
}

// holdersUntil polls until exactly h holds vip, or until deadline (checking
// at least once), and reports whether it did and when.
func holdersUntil(lab *netlab.Lab, h *netlab.Host, vip string, deadline time.Time) (time.Time, []*netlab.Host) {
	for {
		hs := lab.Holders(vip)
		now := time.Now()
		if len(hs) == 1 && hs[0] == h {
			return now, hs
		}
		if now.After(deadline) {
			return time.Time{}, hs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSelfDemoteOutranking: keepalived (100) is master and holds the VIP;
// vrrpguard run --self-demote (150) starts next to it and rejects its
// advertisements (a password typo, a VRID typo, a v2/v3 mix), so it
// becomes master too. It outranks keepalived, but keepalived will not
// yield: it keeps the VIP and answers for it, still advertising with
// another VRID, mostly silent with the same one (password, v2/v3: see
// below). vrrpguard keeps the VIP for the hold
// time, then yields (hold_expired): within hold + one advertisement
// interval of becoming master only keepalived holds the VIP, and that
// stays so for 60 s with no further transition of vrrpguard.
func TestSelfDemoteOutranking(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, sc := range outrankCases() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			a := lab.AddHost("a", sc.subnet+"1/24")
			b := lab.AddHost("b", sc.subnet+"2/24")
			k := a.StartKeepalived(t, sc.kconf(100))
			a.WaitAddr(t, sc.vip, 15*time.Second)
			k.WaitLog(t, "Entering MASTER STATE", time.Second)

			var extra []string
			if sc.yamlHold > 0 {
				extra = []string{"--config", holdYAML(t, sc.yamlHold)}
			}
			g := startSelfDemote(t, b, sc.gconf(150), extra...)
			on := waitLogLine(t, g, "self-demotion on", time.Second)
			if !strings.Contains(on.text, "hold="+sc.hold().String()) {
				t.Errorf("vrrpguard does not run with hold %v: %s", sc.hold(), on.text)
			}
			mastered := waitLogLine(t, g, "entering MASTER state", 15*time.Second).at
			deadline := mastered.Add(sc.hold() + sc.interval)

			// Not before the hold time: vrrpguard keeps the VIP while it
			// waits for keepalived to yield.
			for time.Until(mastered.Add(sc.hold()-200*time.Millisecond)) > 0 {
				if !b.HasAddr(sc.vip) {
					t.Fatalf("vrrpguard gave up %s %v after becoming master, before the hold time %v:\n%s",
						sc.vip, time.Since(mastered), sc.hold(), g.Output())
				}
				time.Sleep(20 * time.Millisecond)
			}
			single, hs := holdersUntil(lab, a, sc.vip, deadline)
			if single.IsZero() {
				t.Fatalf("%s held by %v %v after vrrpguard became master, want only %s within hold + interval = %v:\n%s",
					sc.vip, hs, time.Since(mastered), a, sc.hold()+sc.interval, g.Output())
			}
			t.Logf("only keepalived holds %s %v after vrrpguard became master (hold %v + interval %v)",
				sc.vip, single.Sub(mastered), sc.hold(), sc.interval)

			demoted := waitLogLine(t, g, "self-demotion: giving up the virtual addresses", time.Second)
			if d := demoted.at.Sub(mastered); d < sc.hold()-100*time.Millisecond || d > sc.hold()+sc.interval {
				t.Errorf("vrrpguard yielded %v after becoming master, want after the hold time %v (within one interval)", d, sc.hold())
			} else {
				t.Logf("vrrpguard yielded %v after becoming master", d)
			}
			if !strings.Contains(demoted.text, "reason=hold_expired") {
				t.Errorf("demotion reason is not hold_expired: %s", demoted.text)
			}
			// What keepalived did meanwhile, from the demotion's evidence:
			// it kept answering for the VIP. Against another VRID it keeps
			// advertising; with the same VRID (password, v2/v3) keepalived
			// 2.2.7 mostly goes silent: every packet of its VRID, valid or
			// not, restarts its advertisement timer (vrrp_dispatcher_read →
			// vrrp_init_instance_sands), and vrrpguard's arrive about one
			// interval apart.
			lastAdvert, lastAnswer := evidenceTime(t, demoted, "last_advert"), evidenceTime(t, demoted, "last_answer")
			claim := regexp.MustCompile(`\bclaim=(\S+)`).FindStringSubmatch(demoted.text)
			if claim == nil {
				t.Fatalf("no claim in the demotion's evidence: %s", demoted.text)
			}
			t.Logf("at the demotion keepalived's last advertisement was %v ago, its last ARP answer %v ago (claim %s)",
				demoted.at.Sub(lastAdvert), demoted.at.Sub(lastAnswer), claim[1])
			if d := demoted.at.Sub(lastAnswer); d > 2*sc.interval {
				t.Errorf("keepalived's last answer for %s came %v before the demotion: %s", sc.vip, d, demoted.text)
			}
			if d := demoted.at.Sub(lastAdvert); sc.name == "vrid" && d > 3*sc.interval/2 {
				t.Errorf("keepalived stopped advertising %v before the demotion, want it advertising: %s", d, demoted.text)
			}
			f := waitFinding(t, g, "self_demoted", "raised", time.Second)
			if msg, _ := f["message"].(string); !strings.Contains(msg, sc.subnet+"1") || !strings.Contains(msg, "does not yield") {
				t.Errorf("self_demoted does not name the rival that does not yield: %q", msg)
			}

			onlyHolder(t, lab, a, sc.vip, 60*time.Second)

			if n := len(logLines(t, g, "entering MASTER state")); n != 1 {
				t.Errorf("vrrpguard entered MASTER %d times, want once (before yielding):\n%s", n, g.Output())
			}
			if n := len(logLines(t, g, "self-demotion: giving up the virtual addresses")); n != 1 {
				t.Errorf("vrrpguard demoted itself %d times, want once:\n%s", n, g.Output())
			}
			if ls := logLines(t, g, "self-demotion: resuming the election"); len(ls) != 0 {
				t.Errorf("vrrpguard resumed while keepalived holds the VIP: %s", ls[0].text)
			}
			if n := len(findingLines(t, g, "self_demoted", "raised")); n != 1 {
				t.Errorf("%d self_demoted raised findings, want 1", n)
			}
			if fs := findingLines(t, g, "self_demoted", "resolved"); len(fs) != 0 {
				t.Errorf("self_demoted resolved while keepalived holds the VIP: %v", fs[0])
			}
			m := scrape(t, b)
			if v := metricSum(t, m, "vrrpguard_self_demotions_total", `instance="VI_OUT"`, `reason="hold_expired"`); v != 1 {
				t.Errorf("vrrpguard_self_demotions_total{reason=hold_expired} = %v, want 1", v)
			}
			if v := metricSum(t, m, "vrrpguard_self_demotions_total"); v != 1 {
				t.Errorf("vrrpguard_self_demotions_total = %v over all reasons, want 1", v)
			}
			st := statusJSON(t, b)
			if in := statusInstance(t, st, "VI_OUT"); in["demoted"] != true || in["demotion_reason"] == nil || in["demotion_reason"] == "" || in["state"] != "BACKUP" {
				t.Errorf("status of VI_OUT: %v, want BACKUP, demoted", in)
			}
			ds, _ := st["demotion"].([]any)
			if len(ds) != 1 {
				t.Fatalf("status demotion: %v, want one instance", st["demotion"])
			}
			if d, _ := ds[0].(map[string]any); d["mode"] != "demoted" || d["reason"] != "hold_expired" {
				t.Errorf("status demotion: %v, want demoted for hold_expired", d)
			}
			if sc.name == "password" && !strings.Contains(k.Log(), "invalid passwd") {
				t.Errorf("keepalived did not reject vrrpguard's password:\n%s", k.Log())
			}
			t.Logf("demotion status: %v", ds[0])
		})
	}
}

// sdPair is the keepalived.conf of one of two vrrpguard nodes whose
// passwords differ.
func sdPair(prio int, pass string) string {
	return netlab.Conf(netlab.Instance{Name: "VI_TWO", VRID: 85, Priority: prio, Version: 2,
		AdvertInt: time.Second, AuthPass: pass, VIPs: []string{"10.104.0.100/24"}})
}

// transitions returns vrrpguard_instance_transitions_total of instance on
// h by new state.
func transitions(t *testing.T, h *netlab.Host, instance string) map[string]float64 {
	t.Helper()
	m := scrape(t, h)
	out := map[string]float64{}
	for _, s := range []string{"INIT", "BACKUP", "MASTER", "FAULT"} {
		if v := metricSum(t, m, "vrrpguard_instance_transitions_total", `instance="`+instance+`"`, `state="`+s+`"`); v != 0 {
			out[s] = v
		}
	}
	return out
}

// TestSelfDemoteTwoParticipants: two vrrpguard run --self-demote nodes
// whose passwords differ (v2, 150 and 100). The higher starts first and
// is master; the lower, rejecting its advertisements, becomes master too,
// sees that it is outranked and yields at once; the higher, which would
// hold for 10 s, sees the priority-0 advertisement and keeps the VIP.
// Then nothing moves for 60 s: one holder, no transition on either node.
func TestSelfDemoteTwoParticipants(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	const vip = "10.104.0.100"
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.104.0.1/24")
	b := lab.AddHost("b", "10.104.0.2/24")
	ga := startSelfDemote(t, a, sdPair(150, "pw-high1"))
	a.WaitAddr(t, vip, 15*time.Second)
	gb := startSelfDemote(t, b, sdPair(100, "pw-low-2"))
	bMaster := waitLogLine(t, gb, "entering MASTER state", 15*time.Second).at
	yield := waitLogLine(t, gb, "self-demotion: giving up the virtual addresses", 5*time.Second)
	t.Logf("the lower node yielded %v after becoming master", yield.at.Sub(bMaster))
	if d := yield.at.Sub(bMaster); d > time.Second {
		t.Errorf("the lower node yielded %v after becoming master, want within one interval (1s)", d)
	}
	if !strings.Contains(yield.text, "reason=outranked") {
		t.Errorf("demotion reason is not outranked: %s", yield.text)
	}
	single, hs := holdersUntil(lab, a, vip, yield.at.Add(time.Second))
	if single.IsZero() {
		t.Fatalf("%s held by %v one interval after the lower node yielded, want only a", vip, hs)
	}
	t.Logf("only a holds %s %v after the lower node yielded", vip, single.Sub(yield.at))
	// a was holding against b, saw it resign and announces the VIP again.
	waitLogLine(t, ga, "self-demotion: re-announcing the virtual addresses after a split brain", 2*time.Second)
	f := waitFinding(t, gb, "self_demoted", "raised", time.Second)
	if msg, _ := f["message"].(string); !strings.Contains(msg, "10.104.0.1") || !strings.Contains(msg, "outranks") {
		t.Errorf("self_demoted does not name the rival that outranks b: %q", msg)
	}

	// Let the yield settle (a sees b's priority-0 advertisement), then
	// nothing may move for 60 s.
	time.Sleep(time.Second)
	trA, trB := transitions(t, a, "VI_TWO"), transitions(t, b, "VI_TWO")
	logA, logB := ga.Output(), gb.Output()
	t.Logf("transitions at the start of the 60 s: a %v, b %v", trA, trB)
	onlyHolder(t, lab, a, vip, 60*time.Second)
	endA, endB := transitions(t, a, "VI_TWO"), transitions(t, b, "VI_TWO")
	if !mapsEqual(trA, endA) || !mapsEqual(trB, endB) {
		t.Errorf("transitions during the 60 s: a %v → %v, b %v → %v", trA, endA, trB, endB)
	}
	for _, x := range []struct {
		name      string
		p         *netlab.Proc
		before    string
		tr        map[string]float64
		masters   int
		demotions int
	}{
		{"a", ga, logA, endA, 1, 0},
		{"b", gb, logB, endB, 1, 1},
	} {
		masters := len(logLines(t, x.p, "entering MASTER state"))
		backups := len(logLines(t, x.p, "entering BACKUP state"))
		if masters != x.masters {
			t.Errorf("%s entered MASTER %d times, want %d:\n%s", x.name, masters, x.masters, x.p.Output())
		}
		if float64(masters) != x.tr["MASTER"] || float64(backups) != x.tr["BACKUP"] {
			t.Errorf("%s logged %d MASTER and %d BACKUP transitions, metrics say %v", x.name, masters, backups, x.tr)
		}
		if n := len(logLines(t, x.p, "self-demotion: giving up the virtual addresses")); n != x.demotions {
			t.Errorf("%s demoted itself %d times, want %d:\n%s", x.name, n, x.demotions, x.p.Output())
		}
		if n := len(findingLines(t, x.p, "self_demoted", "raised")); n != x.demotions {
			t.Errorf("%s raised self_demoted %d times, want %d", x.name, n, x.demotions)
		}
		if ls := logLines(t, x.p, "self-demotion: resuming the election"); len(ls) != 0 {
			t.Errorf("%s resumed: %s", x.name, ls[0].text)
		}
		if strings.Count(x.p.Output(), "entering ") != strings.Count(x.before, "entering ") {
			t.Errorf("%s changed state during the 60 s:\n%s", x.name, x.p.Output()[len(x.before):])
		}
		t.Logf("%s: %d MASTER, %d BACKUP transitions logged; metrics %v", x.name, masters, backups, x.tr)
	}
	m := scrape(t, b)
	if v := metricSum(t, m, "vrrpguard_self_demotions_total", `instance="VI_TWO"`, `reason="outranked"`); v != 1 {
		t.Errorf("b: vrrpguard_self_demotions_total{reason=outranked} = %v, want 1", v)
	}
	if v := metricSum(t, scrape(t, a), "vrrpguard_self_demotions_total"); v != 0 {
		t.Errorf("a: vrrpguard_self_demotions_total = %v, want 0", v)
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRunWithoutSelfDemoteUnchanged: the same password mismatch run by
// plain `vrrpguard run` (no --self-demote, no YAML) stays a split brain:
// both nodes hold the VIP, nobody demotes itself, the VIP guard is off (an
// address of a backup instance added by hand stays), and the status has no
// demotion section.
func TestRunWithoutSelfDemoteUnchanged(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	const split, ok = "10.105.0.100", "10.105.0.101"
	conf := func(prio int, pass string) string {
		return netlab.Conf(
			netlab.Instance{Name: "VI_SPLIT", VRID: 86, Priority: prio, Version: 2, AdvertInt: time.Second,
				AuthPass: pass, VIPs: []string{split + "/24"}},
			netlab.Instance{Name: "VI_OK", VRID: 87, Priority: prio, Version: 2, AdvertInt: time.Second,
				AuthPass: "same-pw1", VIPs: []string{ok + "/24"}})
	}
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.105.0.1/24")
	b := lab.AddHost("b", "10.105.0.2/24")
	start := func(h *netlab.Host, conf string) *netlab.Proc {
		path := filepath.Join(t.TempDir(), "keepalived.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		p := h.Start(t, binary(t), "run", "--config", path, "--listen", defaultRunListen, "--format", "json")
		p.WaitOutput(t, "msg=running", 10*time.Second)
		return p
	}
	ga := start(a, conf(150, "pw-high1"))
	a.WaitAddr(t, split, 15*time.Second)
	a.WaitAddr(t, ok, time.Second)
	gb := start(b, conf(100, "pw-low-2"))
	b.WaitAddr(t, split, 15*time.Second)
	if statusInstance(t, statusJSON(t, b), "VI_OK")["state"] != "BACKUP" {
		t.Fatalf("b is not backup of VI_OK:\n%s", gb.Output())
	}
	// An address of b's backup instance, added by hand: without
	// --self-demote no guard removes it.
	b.AddAddr(t, ok+"/24")
	split2 := time.Now()
	for time.Since(split2) < 15*time.Second {
		if hs := lab.Holders(split); len(hs) != 2 {
			t.Fatalf("%s held by %v %v into the split brain, want both (nothing resolves it without --self-demote)", split, hs, time.Since(split2))
		}
		if !b.HasAddr(ok) {
			t.Fatalf("%s added by hand on b is gone after %v:\n%s", ok, time.Since(split2), gb.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, x := range []struct {
		name string
		h    *netlab.Host
		p    *netlab.Proc
	}{{"a", a, ga}, {"b", b, gb}} {
		if strings.Contains(x.p.Output(), "self-demotion") {
			t.Errorf("%s logs about self-demotion:\n%s", x.name, x.p.Output())
		}
		if fs := findingLines(t, x.p, "self_demoted", "raised"); len(fs) != 0 {
			t.Errorf("%s raised self_demoted: %v", x.name, fs[0])
		}
		if strings.Contains(x.p.Output(), "VIP guard") || strings.Contains(x.p.Output(), "configured while not master") {
			t.Errorf("%s's VIP guard acted:\n%s", x.name, x.p.Output())
		}
		st := statusJSON(t, x.h)
		if _, ok := st["demotion"]; ok {
			t.Errorf("%s: status has a demotion key: %v", x.name, st["demotion"])
		}
		for _, name := range []string{"VI_SPLIT", "VI_OK"} {
			if in := statusInstance(t, st, name); in["demoted"] != false {
				t.Errorf("%s: %s demoted: %v", x.name, name, in)
			}
		}
		if in := statusInstance(t, st, "VI_SPLIT"); in["state"] != "MASTER" {
			t.Errorf("%s: VI_SPLIT is %v, want MASTER (split brain)", x.name, in["state"])
		}
		if m := scrape(t, x.h); strings.Contains(m, "vrrpguard_self_demotions_total") {
			t.Errorf("%s: /metrics has vrrpguard_self_demotions_total without --self-demote", x.name)
		}
	}
}
