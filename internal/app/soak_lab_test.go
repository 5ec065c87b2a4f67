package app

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// soakParams shape a soak run. The defaults are the short CI mode; the
// environment variables VRRPGUARD_SOAK_DURATION, _SPLIT_EVERY, _SPLIT_FOR
// and _SAMPLE (Go durations) make the long one (bench/soak.sh), and
// VRRPGUARD_SOAK_REPORT names a file the per-sample table is written to.
type soakParams struct {
	duration, splitEvery, splitFor, sample time.Duration
	advert                                 time.Duration // advert_int
	// realtime runs vrrpguard run under SCHED_RR (chrt) and gives
	// keepalived vrrp_rt_priority: at 10 ms adverts on a loaded machine an
	// ordinary process misses Master_Down_Interval (36 ms) now and then.
	realtime bool
	report   string
}

func soakParamsFromEnv(t *testing.T) soakParams {
	p := soakParams{duration: 60 * time.Second, splitEvery: 20 * time.Second, splitFor: 6 * time.Second, sample: 10 * time.Second,
		advert: 100 * time.Millisecond}
	for _, v := range []struct {
		env string
		d   *time.Duration
	}{{"VRRPGUARD_SOAK_DURATION", &p.duration}, {"VRRPGUARD_SOAK_SPLIT_EVERY", &p.splitEvery},
		{"VRRPGUARD_SOAK_SPLIT_FOR", &p.splitFor}, {"VRRPGUARD_SOAK_SAMPLE", &p.sample}, {"VRRPGUARD_SOAK_ADVERT", &p.advert}} {
		if s := os.Getenv(v.env); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				t.Fatalf("%s=%q: want a positive Go duration", v.env, s)
			}
			*v.d = d
		}
	}
	if p.splitFor >= p.splitEvery {
		t.Fatalf("soak: split brains of %v every %v overlap", p.splitFor, p.splitEvery)
	}
	p.report = os.Getenv("VRRPGUARD_SOAK_REPORT")
	p.realtime = os.Getenv("VRRPGUARD_SOAK_REALTIME") == "1"
	return p
}

// procSample is what one process looks like at one moment: from its
// /metrics (the Go runtime and process collectors) and from /proc.
type procSample struct {
	goroutines, fds, threads int
	heap, rss                float64 // bytes
	cpu                      time.Duration
}

// sampleProc reads pid's /proc entries and the metrics served at url.
func sampleProc(t *testing.T, h *netlab.Host, pid int, url string) procSample {
	t.Helper()
	var s procSample
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("soak: fds of %d: %v", pid, err)
	}
	s.fds = len(ents)
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "Threads:"); ok {
				s.threads, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command's closing parenthesis; utime and stime
		// are the 14th and 15th of the whole line, in clock ticks (100/s).
		if i := strings.LastIndexByte(string(st), ')'); i > 0 {
			f := strings.Fields(string(st)[i+1:])
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				k, _ := strconv.ParseInt(f[12], 10, 64)
				s.cpu = time.Duration(u+k) * 10 * time.Millisecond
			}
		}
	}
	resp, err := nsClient(h).Get(url)
	if err != nil {
		t.Fatalf("soak: metrics: %v", err)
	}
	defer resp.Body.Close()
	m := parseMetrics(resp.Body)
	s.goroutines = int(m["go_goroutines"])
	s.heap = m["go_memstats_heap_alloc_bytes"]
	s.rss = m["process_resident_memory_bytes"]
	if got := int(m["process_open_fds"]); got == 0 {
		t.Errorf("soak: %s has no process_open_fds", url)
	}
	return s
}

// parseMetrics reads the unlabelled samples of a Prometheus text page.
func parseMetrics(r io.Reader) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || strings.Contains(l, "{") {
			continue
		}
		if name, v, ok := strings.Cut(l, " "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				out[name] = f
			}
		}
	}
	return out
}

// hookAfter returns when the first duplicate_master alert in status from
// node arrived at or after t0 (ok false if none has yet).
func (r *hookReceiver) hookAfter(node, status string, t0 time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range r.msgs {
		if r.at[i].Before(t0) {
			continue
		}
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "VRRPDuplicateMaster" && a.Annotations["reported_by"] == node && a.Status == status {
				return r.at[i], true
			}
		}
	}
	return time.Time{}, false
}

// hookStateAt returns the status ("firing", "resolved" or "") of the last
// duplicate_master notice from node received before t.
func (r *hookReceiver) hookStateAt(node string, t time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ""
	for i, m := range r.msgs {
		if !r.at[i].Before(t) {
			break
		}
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "VRRPDuplicateMaster" && a.Annotations["reported_by"] == node {
				st = a.Status
			}
		}
	}
	return st
}

// hookFirings counts the duplicate_master firing notices from node
// received in [from, to).
func (r *hookReceiver) hookFirings(node string, from, to time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i, m := range r.msgs {
		if r.at[i].Before(from) || !r.at[i].Before(to) {
			continue
		}
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "VRRPDuplicateMaster" && a.Annotations["reported_by"] == node && a.Status == "firing" {
				n++
			}
		}
	}
	return n
}

// wireGaps describes the gaps between the adverts of src in a recording:
// the largest, and how many exceed 3 intervals (a backup of priority 255
// would take over) and Master_Down_Interval of a priority-100 backup.
func wireGaps(t *testing.T, ads []wireAdvert, src netip.Addr, interval time.Duration) string {
	mdi := 3*interval + interval*156/256
	var prev time.Time
	var maxGap time.Duration
	n, over3, overMDI := 0, 0, 0
	for _, a := range ads {
		if a.src != src || a.prio == 0 {
			continue
		}
		n++
		if !prev.IsZero() {
			g := a.at.Sub(prev)
			maxGap = max(maxGap, g)
			if g > 3*interval {
				over3++
			}
			if g > mdi {
				overMDI++
			}
		}
		prev = a.at
	}
	return fmt.Sprintf("\non the wire (tcpdump on the bridge): %d adverts from %s, largest gap %v, gaps > 3 intervals: %d, gaps > Master_Down_Interval of the peer (%v): %d\n",
		n, src, maxGap.Round(10*time.Microsecond), over3, mdi, overMDI)
}

// TestLabSoak runs `vrrpguard run` (master, priority 150) against a
// keepalived backup (100) at 10 ms adverts, with `vrrpguard watch` on a
// third host, and makes a split brain every splitEvery (the master's
// adverts dropped on the bridge towards the backup for splitFor). Every
// split brain must reach the webhook as firing and, once healed, as
// resolved, from both run and watch; neither process may leak file
// descriptors or goroutines: at the end (sampled as long after the last
// resolve as the baseline was after the first) they hold no more than
// after the first split brain. The short default is a CI test; bench/soak.sh
// runs the 30-minute one and keeps the per-sample table.
func TestLabSoak(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	p := soakParamsFromEnv(t)
	bin := binary(t)
	lab := netlab.New(t)
	const (
		vip     = "10.113.0.100"
		aAddr   = "10.113.0.1"
		monAddr = "10.113.0.9"
		nodeA   = "soak-run"
		nodeC   = "soak-watch"
	)
	a := lab.AddHost("a", aAddr+"/24")
	b := lab.AddHost("b", "10.113.0.2/24")
	c := lab.AddHost("c", "10.113.0.3/24")
	mon := lab.AddHost("mon", monAddr+"/24")
	hook := startHook(t, mon, monAddr+":0")
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 113, Priority: prio, Version: 3, AdvertInt: p.advert, VIPs: []string{vip + "/24"}})
	}
	kconf := writeFile(t, "keepalived.conf", conf(150))
	dir := t.TempDir()
	runArgs := []string{"run", "--config", kconf, "--listen", "127.0.0.1:9813", "--webhook", hook.url,
		"--instance", nodeA, "--state-dir", dir + "/run"}
	var run *netlab.Proc
	peerConf := conf(100)
	if p.realtime {
		run = a.Start(t, "chrt", append([]string{"-r", "10", bin}, runArgs...)...)
		peerConf = "global_defs {\n    vrrp_rt_priority 10\n}\n" + peerConf
	} else {
		run = a.Start(t, bin, runArgs...)
	}
	run.WaitOutput(t, "msg=starting", 10*time.Second)
	watch := c.Start(t, bin, "watch", "--interface", "eth0", "--config", kconf, "--format", "json",
		"--listen", "127.0.0.1:9812", "--webhook", hook.url, "--instance", nodeC, "--state-dir", dir+"/watch")
	watch.WaitOutput(t, "watching", 10*time.Second)
	a.WaitAddr(t, vip, 15*time.Second)
	var wire *netlab.Capture
	if os.Getenv("VRRPGUARD_SOAK_WIRE") == "1" {
		wire = lab.Bridge().StartCapture(t, "br0", "ip", "proto", "112")
	}
	kb := b.StartKeepalived(t, peerConf)
	kb.WaitLog(t, "Entering BACKUP STATE", 15*time.Second)

	type row struct {
		at         time.Duration
		phase      string
		run, watch procSample
		takeovers  int // keepalived's entries into MASTER so far
	}
	var rows []row
	start := time.Now()
	sample := func(phase string) row {
		r := row{at: time.Since(start).Truncate(time.Second), phase: phase,
			run:   sampleProc(t, a, run.Pid(), "http://127.0.0.1:9813/metrics"),
			watch: sampleProc(t, c, watch.Pid(), "http://127.0.0.1:9812/metrics"), takeovers: strings.Count(kb.Log(), "Entering MASTER STATE")}
		rows = append(rows, r)
		return r
	}
	type split struct {
		drop, restore                              time.Time
		firedRun, firedWatch, resolRun, resolWatch time.Duration
	}
	var splits []split
	var base, last row
	// writeReport logs the tables (and writes them to p.report), also when
	// the test fails half-way.
	reported := false
	writeReport := func() {
		if reported {
			return
		}
		reported = true
		if d := os.Getenv("VRRPGUARD_SOAK_DEBUG"); d != "" {
			for name, out := range map[string]string{"run": run.Output(), "watch": watch.Output(), "keepalived": kb.Log()} {
				_ = os.WriteFile(d+"/"+name+".log", []byte(out), 0o644)
			}
		}

		var b2 strings.Builder
		fmt.Fprintf(&b2, "soak: %v, split brain (%v) every %v, advert_int %v, realtime %v\n\n", p.duration, p.splitFor, p.splitEvery, p.advert, p.realtime)
		b2.WriteString("| t | phase | keepalived takeovers so far | run goroutines | run fds | run threads | run heap MiB | run RSS MiB | run CPU s | watch goroutines | watch fds | watch threads | watch heap MiB | watch RSS MiB | watch CPU s |\n")
		b2.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b2, "| %v | %s | %d | %d | %d | %d | %.1f | %.1f | %.1f | %d | %d | %d | %.1f | %.1f | %.1f |\n", r.at, r.phase, r.takeovers,
				r.run.goroutines, r.run.fds, r.run.threads, r.run.heap/(1<<20), r.run.rss/(1<<20), r.run.cpu.Seconds(),
				r.watch.goroutines, r.watch.fds, r.watch.threads, r.watch.heap/(1<<20), r.watch.rss/(1<<20), r.watch.cpu.Seconds())
		}
		b2.WriteString("\n| split brain | at | webhook firing after drop: run | watch | resolved after heal: run | watch |\n|---|---|---|---|---|---|\n")
		lat := func(d time.Duration) string {
			if d < 0 {
				return "already firing"
			}
			return d.Round(time.Millisecond).String()
		}
		res := func(d time.Duration) string {
			if d < 0 {
				return "none within 90 s"
			}
			return d.Round(time.Millisecond).String()
		}
		for i, s := range splits {
			fmt.Fprintf(&b2, "| %d | %v | %s | %s | %v | %v |\n", i+1, s.drop.Sub(start).Truncate(time.Second),
				lat(s.firedRun), lat(s.firedWatch), res(s.resolRun), res(s.resolWatch))
		}
		// Firing notices outside the drops: split brains the load made (a
		// peer that missed Master_Down_Interval took over for a moment).
		spurious := func(node string) int {
			n, from := 0, start.Add(-time.Minute)
			for _, s := range splits {
				n += hook.hookFirings(node, from, s.drop)
				from = s.restore
			}
			return n + hook.hookFirings(node, from, time.Now())
		}
		fmt.Fprintf(&b2, "\nduplicate_master firing notices outside the drops (load-made split brains): run %d, watch %d; keepalived's backup timed out %d times; advert_int %v, realtime %v\n",
			spurious(nodeA), spurious(nodeC), strings.Count(kb.Log(), "Receive advertisement timeout"), p.advert, p.realtime)
		if wire != nil {
			b2.WriteString(wireGaps(t, wireAdverts(t, wire.Stop()), netip.MustParseAddr(aAddr), p.advert))
		}
		if la, err := os.ReadFile("/proc/loadavg"); err == nil {
			fmt.Fprintf(&b2, "\nload average at the end: %s", la)
		}
		t.Log("\n" + b2.String())
		if p.report != "" {
			if err := os.WriteFile(p.report, []byte(b2.String()), 0o644); err != nil {
				t.Error(err)
			}
		}

	}
	defer writeReport()
	nextSample := start
	for k := 1; ; k++ {
		at := start.Add(time.Duration(k) * p.splitEvery)
		if at.Add(p.splitFor + 5*time.Second).After(start.Add(p.duration)) {
			break
		}
		for time.Now().Before(at) {
			if !time.Now().Before(nextSample) {
				sample("steady")
				nextSample = nextSample.Add(p.sample)
			}
			time.Sleep(200 * time.Millisecond)
		}
		s := split{drop: time.Now()}
		lab.DropVRRPOnWire(t, a, b)
		for time.Since(s.drop) < p.splitFor {
			if !time.Now().Before(nextSample) {
				sample("split")
				nextSample = nextSample.Add(p.sample)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// Alerted: the alert is firing at the end of the split brain, from a
		// notice sent during it or (when load had already made the two
		// masters overlap) before it.
		lab.ClearWireDrops(t)
		s.restore = time.Now()
		for _, nd := range []struct {
			node string
			d    *time.Duration
		}{{nodeA, &s.firedRun}, {nodeC, &s.firedWatch}} {
			if st := hook.hookStateAt(nd.node, s.restore); st != "firing" {
				if d := os.Getenv("VRRPGUARD_SOAK_DEBUG"); d != "" {
					for name, out := range map[string]string{"run": run.Output(), "watch": watch.Output(), "keepalived": kb.Log()} {
						_ = os.WriteFile(d+"/"+name+".log", []byte(out), 0o644)
					}
				}
				t.Fatalf("split brain %d (%v long): the webhook's duplicate_master alert from %s is %q at its end, want firing", k, p.splitFor, nd.node, st)
			}
			*nd.d = -1
			if at, ok := hook.hookAfter(nd.node, "firing", s.drop); ok {
				*nd.d = at.Sub(s.drop)
			}
		}
		// Resolved: a resolved notice after the heal. At 10 ms adverts on a
		// loaded machine the peer now and then misses Master_Down_Interval
		// and takes over for a moment (a real, short split brain), which
		// can delay the resolve; give it 90 s.
		s.resolRun, s.resolWatch = -1, -1
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			rr, okR := hook.hookAfter(nodeA, "resolved", s.restore)
			rw, okW := hook.hookAfter(nodeC, "resolved", s.restore)
			if okR && okW {
				s.resolRun, s.resolWatch = rr.Sub(s.restore), rw.Sub(s.restore)
				break
			}
		}
		if s.resolRun < 0 {
			t.Errorf("split brain %d: no resolved notice from both run and watch within 90 s of the heal", k)
		}
		splits = append(splits, s)
		// The leak check compares samples taken at the same phase: 3 s
		// after a resolve.
		time.Sleep(3*time.Second - time.Since(s.restore))
		if k == 1 {
			base = sample("after 1st resolve")
		} else {
			last = sample(fmt.Sprintf("after resolve %d", k))
		}
	}
	for time.Since(start) < p.duration {
		if !time.Now().Before(nextSample) {
			sample("steady")
			nextSample = nextSample.Add(p.sample)
		}
		time.Sleep(200 * time.Millisecond)
	}
	final := sample("end")
	writeReport()

	if len(splits) < 2 {
		t.Fatalf("soak: %d split brains, want at least 2 (duration %v, every %v)", len(splits), p.duration, p.splitEvery)
	}
	for _, pr := range []struct {
		name            string
		base, last, end procSample
	}{{"run", base.run, last.run, final.run}, {"watch", base.watch, last.watch, final.watch}} {
		if pr.last.fds > pr.base.fds {
			t.Errorf("%s: %d fds after the last split brain, %d after the first: fd leak", pr.name, pr.last.fds, pr.base.fds)
		}
		// Goroutines come and go with HTTP requests and alert deliveries;
		// a leak per split brain would add at least one per cycle.
		if pr.last.goroutines > pr.base.goroutines+2 {
			t.Errorf("%s: %d goroutines after the last split brain, %d after the first: goroutine leak", pr.name, pr.last.goroutines, pr.base.goroutines)
		}
	}
	if !kb.Running() {
		t.Errorf("keepalived exited:\n%s", kb.Log())
	}
	for _, pr := range []*netlab.Proc{run, watch} {
		pr.Signal(syscall.SIGTERM)
		<-pr.Done()
		if err := pr.Err(); err != nil {
			t.Errorf("%v\n%s", err, pr.Output())
		}
	}
}
