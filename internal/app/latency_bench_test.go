package app

import (
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// BenchmarkLabDetectionLatency measures, with a real keepalived pair in
// the namespace lab, the time from the onset of a split brain on the wire
// (the first advertisement of the second master, after one-way loss of
// protocol 112 from the master to the backup) to `vrrpguard watch`
// raising duplicate_master. Both times come from packet timestamps taken by
// the kernel on the monitoring host: the onset from a tcpdump recording,
// the finding's time from vrrpguard's own capture clock. Each iteration
// builds a fresh lab. Run with -benchtime=Nx.
func BenchmarkLabDetectionLatency(b *testing.B) {
	for _, iv := range []time.Duration{time.Second, 100 * time.Millisecond} {
		b.Run(iv.String(), func(b *testing.B) {
			var lat, advOnly []time.Duration
			for b.Loop() {
				l, a := detectOnce(b, iv)
				lat, advOnly = append(lat, l), append(advOnly, a)
			}
			for _, l := range [][]time.Duration{lat, advOnly} {
				sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
			}
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(advOnly[len(advOnly)/2].Microseconds())/1000, "adverts-only-median-ms")
			b.ReportMetric(float64(advOnly[len(advOnly)-1].Microseconds())/1000, "adverts-only-max-ms")
			b.ReportMetric(float64(advOnly[len(advOnly)-1])/float64(iv), "adverts-only-max-intervals")
		})
	}
}

// detectOnce returns the live latency (GARPs and adverts, as watch sees
// them) and the latency from adverts alone (the VRRP-only recording
// replayed through the engine), for watchers that see no ARP.
func detectOnce(b *testing.B, iv time.Duration) (time.Duration, time.Duration) {
	netlab.Require(b)
	bin := binary(b)
	lab := netlab.New(b)
	defer lab.Close()
	a := lab.AddHost("a", "10.66.0.1/24")
	bh := lab.AddHost("b", "10.66.0.2/24")
	mon := lab.AddHost("mon", "10.66.0.9/24")
	capt := mon.StartCapture(b, "eth0", "ip proto 112")
	watch := mon.Start(b, bin, "watch", "--interface", "eth0", "--format", "json")
	watch.WaitOutput(b, "watching", 10*time.Second)
	ver := 2
	if iv < time.Second {
		ver = 3
	}
	a.StartKeepalived(b, netlab.Conf(netlab.Instance{State: "MASTER", VRID: 51, Priority: 150, Version: ver, AdvertInt: iv, VIPs: []string{"10.66.0.100/24"}}))
	bh.StartKeepalived(b, netlab.Conf(netlab.Instance{State: "BACKUP", VRID: 51, Priority: 100, Version: ver, AdvertInt: iv, VIPs: []string{"10.66.0.100/24"}}))
	a.WaitAddr(b, "10.66.0.100", 15*time.Second)
	time.Sleep(5 * iv)
	cut := time.Now()
	bh.DropVRRPFrom(b, "10.66.0.1")
	raised := jsonTime(b, "finding time", waitJSONFinding(b, watch, "duplicate_master", "raised", 30*time.Second).Time)
	time.Sleep(3*iv + 200*time.Millisecond) // adverts-only detection needs up to two more
	path := capt.Stop()
	var onset, advRaised time.Time
	bAddr := netip.MustParseAddr("10.66.0.2")
	engine, err := rules.New(rules.DefaultParams(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if onset.IsZero() && o.Kind == obs.KindAdvert && o.Src == bAddr && o.Advert.Priority > 0 && o.Time.After(cut) {
			onset = o.Time
		}
		for _, out := range engine.Observe(o) {
			if f := out.Finding; f != nil && f.Kind == rules.DuplicateMaster && f.State == rules.Raised && advRaised.IsZero() {
				advRaised = f.At
			}
		}
	}); err != nil {
		b.Fatal(err)
	}
	if onset.IsZero() || advRaised.IsZero() {
		b.Fatalf("no advert from the backup (%v) or no finding from adverts alone (%v)", onset, advRaised)
	}
	return raised.Sub(onset), advRaised.Sub(onset)
}
