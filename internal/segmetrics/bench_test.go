package segmetrics

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// BenchmarkFloodSeries feeds the engine 1M forged advertisements (a new
// source each, random VRIDs, interfaces and VIPs: the flood of
// rules.BenchmarkFlood) and reports how many series a scrape exposes and
// how long the scrape takes: the label sets must stay bounded by the
// engine's caps whatever arrives on the wire. VRRPGUARD_FLOOD_N sets
// another count.
func BenchmarkFloodSeries(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("VRRPGUARD_FLOOD_N")); err == nil && v > 0 {
		n = v
	}
	p := rules.DefaultParams()
	e, err := rules.New(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ifaces := []string{"eth0", "eth1", "eth2", "eth3"}
	var now time.Time
	for i := range n {
		now = t0.Add(time.Duration(i) * time.Microsecond)
		var vips []netip.Addr
		for range 1 + rng.IntN(4) {
			vips = append(vips, netip.AddrFrom4([4]byte{172, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
		}
		e.Observe(&obs.Observation{Kind: obs.KindAdvert, Time: now, Interface: ifaces[rng.IntN(4)],
			SrcMAC: obs.MAC{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}, Family: vrrp.IPv4,
			Src: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Dst: vrrp.MulticastIPv4, TTL: 255,
			Checksum: vrrp.ChecksumValid, Advert: vrrp.Advertisement{Version: 3, Type: vrrp.TypeAdvertisement,
				VRID: uint8(1 + i%255), Priority: uint8(1 + rng.IntN(254)), Interval: time.Second, Family: vrrp.IPv4, Addresses: vips}})
	}
	c, err := New(func() rules.Snapshot { return e.Snapshot(now) })
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	// The bound: per segment masters + master_info, per router priority,
	// last advert and adverts, per VIP holders, plus the engine's own.
	bound := 2*p.MaxSegments + 3*p.MaxRouters + p.MaxVIPs + 3 + 4
	series := 0
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		series = 0
		for _, mf := range mfs {
			series += len(mf.GetMetric())
		}
	}
	if series > bound {
		b.Errorf("%d series exposed after %d forged adverts, more than the caps allow (%d)", series, n, bound)
	}
	st := e.Stats()
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(bound), "series-bound")
	b.ReportMetric(float64(st.Routers), "routers")
	b.ReportMetric(float64(st.Segments), "segments")
	b.ReportMetric(float64(st.VIPs), "vips")
}
