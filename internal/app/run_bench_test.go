package app

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// takeoverIntervals are the VRRPv3 advertisement intervals of
// BenchmarkLabTakeover.
var takeoverIntervals = []time.Duration{100 * time.Millisecond, 10 * time.Millisecond}

// BenchmarkLabTakeover measures failover after a master crash in the
// namespace lab: keepalived master (priority 150) crashed with
// netlab's Crash (no priority-0 advert), backup (priority 100) keepalived
// or vrrpguard run, VRRPv3 at 100 ms and 10 ms. The takeover time is from
// the old master's last advert to the new master's first, both timestamped
// by the kernel in a tcpdump capture on a third host. Reported per
// (backup, interval): median and max over the iterations, and the protocol
// bound Master_Down_Interval = 3×interval + (256−100)×interval/256. Each
// iteration builds a fresh lab. Run with -benchtime=Nx.
func BenchmarkLabTakeover(b *testing.B) {
	for _, backup := range []string{"keepalived", "vrrpguard"} {
		for _, iv := range takeoverIntervals {
			b.Run(fmt.Sprintf("backup=%s/interval=%v", backup, iv), func(b *testing.B) {
				var took []time.Duration
				for b.Loop() {
					took = append(took, takeoverOnce(b, backup == "vrrpguard", iv))
				}
				slices.Sort(took)
				bound := 3*iv + (256-100)*iv/256
				med, hi := took[len(took)/2], took[len(took)-1]
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				b.ReportMetric(ms(med), "median-ms")
				b.ReportMetric(ms(hi), "max-ms")
				b.ReportMetric(ms(bound), "bound-ms")
				b.ReportMetric(ms(med-bound), "median-over-bound-ms")
				b.Logf("backup=%s interval=%v: takeover %v (bound %v)", backup, iv, took, bound)
			})
		}
	}
}

// takeoverOnce runs one crash failover and returns the takeover time.
func takeoverOnce(b *testing.B, guard bool, iv time.Duration) time.Duration {
	netlab.Require(b)
	bin := binary(b)
	lab := netlab.New(b)
	defer lab.Close()
	const vip = "10.86.0.100"
	a := lab.AddHost("a", "10.86.0.1/24")
	bh := lab.AddHost("b", "10.86.0.2/24")
	mon := lab.AddHost("mon", "10.86.0.9/24")
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 71, Priority: prio, Version: 3, AdvertInt: iv, VIPs: []string{vip + "/24"}})
	}
	ka := a.StartKeepalived(b, conf(150))
	a.WaitAddr(b, vip, 10*time.Second)
	if guard {
		g := startBenchRun(b, bin, bh, conf(100))
		g.WaitOutput(b, "entering BACKUP state", 5*time.Second)
	} else {
		kb := bh.StartKeepalived(b, conf(100))
		kb.WaitLog(b, "Entering BACKUP STATE", 5*time.Second)
	}
	capt := mon.StartCapture(b, "eth0", "ip proto 112")
	time.Sleep(20*iv + 200*time.Millisecond) // steady state, in the capture
	ka.Crash()
	bh.WaitAddr(b, vip, 5*time.Second)
	time.Sleep(5*iv + 100*time.Millisecond)
	path := capt.Stop()
	return takeoverFromCapture(b, path, netip.MustParseAddr("10.86.0.1"), netip.MustParseAddr("10.86.0.2"))
}

// takeoverFromCapture returns the time from the old master's last advert
// to the new master's first advert after it (both with a non-zero
// priority).
func takeoverFromCapture(b *testing.B, path string, oldM, newM netip.Addr) time.Duration {
	var last, first time.Time
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if o.Kind != obs.KindAdvert || o.Advert.Priority == 0 {
			return
		}
		switch {
		case o.Src == oldM && first.IsZero():
			last = o.Time
		case o.Src == newM && !last.IsZero() && first.IsZero():
			first = o.Time
		}
	}); err != nil {
		b.Fatal(err)
	}
	if last.IsZero() || first.IsZero() {
		b.Fatalf("capture %s: no advert from %s (%v) or none from %s after it (%v)", path, oldM, last, newM, first)
	}
	return first.Sub(last)
}

// startBenchRun starts vrrpguard run with conf on h, with the extra flags
// and, in its environment, VRRPGUARD_BENCH_ENV (space-separated
// NAME=VALUE).
func startBenchRun(b *testing.B, bin string, h *netlab.Host, conf string, extra ...string) *netlab.Proc {
	path := filepath.Join(b.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := h.Cmd(bin, append([]string{"run", "--config", path, "--listen", "off"}, extra...)...)
	if env := strings.Fields(os.Getenv("VRRPGUARD_BENCH_ENV")); len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	p := h.StartCmd(b, cmd)
	p.WaitOutput(b, "msg=starting", 10*time.Second)
	return p
}

// procUsage is a process's CPU time and memory from /proc.
type procUsage struct {
	cpu       time.Duration // utime + stime
	minflt    int64         // minor page faults
	rss, hwm  int           // VmRSS and VmHWM, KiB
	collected time.Time
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

func readProcUsage(pid int) (procUsage, error) {
	u := procUsage{collected: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u.cpu = time.Duration(ut+st) * time.Second / clockTicks
	u.minflt, _ = strconv.ParseInt(f[7], 10, 64)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			u.rss = n
		case "VmHWM":
			u.hwm = n
		}
	}
	return u, nil
}

// resourceWindow is how long BenchmarkLabVRRPResources measures, unless
// VRRPGUARD_BENCH_WINDOW says otherwise.
const resourceWindow = 20 * time.Second

// routerKind is one kind of router BenchmarkLabVRRPResources runs: bin ""
// is keepalived, else a vrrpguard binary run with args.
type routerKind struct {
	name string
	bin  string
	args []string
}

// routerKinds are the routers BenchmarkLabVRRPResources compares:
// keepalived's VRRP process, `vrrpguard run` (participant and its segment
// watcher) and `vrrpguard run --watch=false` (the participant alone); with
// VRRPGUARD_BENCH_NODROP=1 also both with --drop-exe-pages=false
// ("…-nodrop"), and with VRRPGUARD_BENCH_BASE naming another vrrpguard
// binary (say, of main) both run by it ("base-…").
func routerKinds(bin string) []routerKind {
	kinds := []routerKind{{name: "keepalived"}, {"run", bin, nil}, {"router-only", bin, []string{"--watch=false"}}}
	if os.Getenv("VRRPGUARD_BENCH_NODROP") == "1" {
		kinds = append(kinds, routerKind{"run-nodrop", bin, []string{"--drop-exe-pages=false"}},
			routerKind{"router-only-nodrop", bin, []string{"--watch=false", "--drop-exe-pages=false"}})
	}
	if base := os.Getenv("VRRPGUARD_BENCH_BASE"); base != "" {
		kinds = append(kinds, routerKind{"base-run", base, nil}, routerKind{"base-router-only", base, []string{"--watch=false"}})
	}
	return kinds
}

// BenchmarkLabVRRPResources measures CPU time (utime+stime, as a share of
// one CPU), minor page faults per second and memory (VmRSS at the end,
// VmHWM, and the split of the RSS from smaps: anonymous, the executable's
// text and rodata, the capture ring) of keepalived's VRRP
// process, of `vrrpguard run` and of `vrrpguard run --watch=false`, each
// as master and as backup, over 20 s of VRRPv3 at 10 ms adverts. Each kind
// runs a pair of its own (master priority 150, backup 100) in a lab of its
// own, and the three labs run at the same time, so all six processes are
// measured over the same window of the same (possibly loaded) machine: the
// differences to keepalived (…-over-keepalived-pp, percentage points) are
// what to compare between runs. VRRPGUARD_BENCH_ENV (space-separated
// NAME=VALUE) is put in vrrpguard's environment, for trying runtime
// settings such as GOMAXPROCS or GODEBUG; VRRPGUARD_BENCH_WINDOW sets the
// window (a Go duration, default 20s); routerKinds says which other
// kinds VRRPGUARD_BENCH_NODROP and VRRPGUARD_BENCH_BASE add. Run with
// -benchtime=1x.
func BenchmarkLabVRRPResources(b *testing.B) {
	for b.Loop() {
		resourcesOnce(b)
	}
}

// routerPair is one kind's pair in its lab.
type routerPair struct {
	kind                 string
	lab                  *netlab.Lab
	master               *netlab.Host
	masterPid, backupPid int
}

func resourcesOnce(b *testing.B) {
	netlab.Require(b)
	bin := binary(b)
	const vip = "10.87.0.100"
	iv := 10 * time.Millisecond
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 72, Priority: prio, Version: 3, AdvertInt: iv, VIPs: []string{vip + "/24"}})
	}
	kaPid := func(k *netlab.Keepalived) int {
		pid, err := k.VRRPPid()
		if err != nil {
			b.Fatal(err)
		}
		return pid
	}
	window := resourceWindow
	if w := os.Getenv("VRRPGUARD_BENCH_WINDOW"); w != "" {
		var err error
		if window, err = time.ParseDuration(w); err != nil {
			b.Fatalf("VRRPGUARD_BENCH_WINDOW: %v", err)
		}
	}
	kinds := routerKinds(bin)
	var pairs []*routerPair
	for _, kind := range kinds {
		lab := netlab.New(b)
		defer lab.Close()
		p := &routerPair{kind: kind.name, lab: lab}
		p.master = lab.AddHost("a", "10.87.0.1/24")
		bh := lab.AddHost("b", "10.87.0.2/24")
		switch kind.bin {
		case "":
			km := p.master.StartKeepalived(b, conf(150))
			p.master.WaitAddr(b, vip, 10*time.Second)
			kb := bh.StartKeepalived(b, conf(100))
			kb.WaitLog(b, "Entering BACKUP STATE", 5*time.Second)
			p.masterPid, p.backupPid = kaPid(km), kaPid(kb)
		default:
			gm := startBenchRun(b, kind.bin, p.master, conf(150), kind.args...)
			p.master.WaitAddr(b, vip, 10*time.Second)
			gb := startBenchRun(b, kind.bin, bh, conf(100), kind.args...)
			gb.WaitOutput(b, "entering BACKUP state", 5*time.Second)
			p.masterPid, p.backupPid = gm.Pid(), gb.Pid()
		}
		pairs = append(pairs, p)
	}
	time.Sleep(2 * time.Second) // past startup and the second GARP burst's timer
	read := func(pid int) procUsage {
		u, err := readProcUsage(pid)
		if err != nil {
			b.Fatal(err)
		}
		return u
	}
	u0 := map[int]procUsage{}
	for _, p := range pairs {
		u0[p.masterPid], u0[p.backupPid] = read(p.masterPid), read(p.backupPid)
	}
	time.Sleep(window)
	u1 := map[int]procUsage{}
	for _, p := range pairs {
		u1[p.masterPid], u1[p.backupPid] = read(p.masterPid), read(p.backupPid)
	}
	pct := func(pid int) float64 {
		a, z := u0[pid], u1[pid]
		return 100 * float64(z.cpu-a.cpu) / float64(z.collected.Sub(a.collected))
	}
	cpu := map[string]float64{}
	for _, p := range pairs {
		// On a loaded machine any pair can miss 36 ms of adverts now and
		// then (keepalived too) and flap once: the master must hold the
		// address alone again soon after.
		var hs []*netlab.Host
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if hs = p.lab.Holders(vip); len(hs) == 1 && hs[0] == p.master || time.Now().After(end) {
				break
			}
		}
		if len(hs) != 1 || hs[0] != p.master {
			b.Fatalf("%s: %s held by %v at the end, want only a", p.kind, vip, hs)
		}
		for _, r := range []struct {
			role string
			pid  int
		}{{"master", p.masterPid}, {"backup", p.backupPid}} {
			c := pct(r.pid)
			cpu[p.kind+"/"+r.role] = c
			b.ReportMetric(c, p.kind+"-"+r.role+"-cpu-%")
			b.ReportMetric(float64(u1[r.pid].rss), p.kind+"-"+r.role+"-rss-KiB")
			b.ReportMetric(float64(u1[r.pid].hwm), p.kind+"-"+r.role+"-hwm-KiB")
			a, z := u0[r.pid], u1[r.pid]
			b.ReportMetric(float64(z.minflt-a.minflt)/z.collected.Sub(a.collected).Seconds(), p.kind+"-"+r.role+"-minflt/s")
			ms, err := readMemSplit(r.pid)
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range []struct {
				name string
				kib  int
			}{{"anon", ms.Anon}, {"text", ms.Text}, {"rodata", ms.Rodata}, {"ring", ms.Ring}, {"otherfile", ms.OtherFile + ms.Data}} {
				b.ReportMetric(float64(m.kib), p.kind+"-"+r.role+"-rss-"+m.name+"-KiB")
			}
		}
	}
	for _, kind := range kinds[1:] {
		for _, role := range []string{"master", "backup"} {
			b.ReportMetric(cpu[kind.name+"/"+role]-cpu["keepalived/"+role], kind.name+"-"+role+"-over-keepalived-pp")
		}
	}
	if os.Getenv("VRRPGUARD_BENCH_BASE") != "" {
		for _, role := range []string{"master", "backup"} {
			b.ReportMetric(cpu["run/"+role]-cpu["base-run/"+role], "run-"+role+"-over-base-pp")
		}
	}
}
