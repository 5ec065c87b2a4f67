package rules

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
)

// BenchmarkObserveHealthy: one advert of a healthy pair through the engine.
func BenchmarkObserveHealthy(b *testing.B) {
	e, _ := New(DefaultParams(), nil)
	o := A.obs(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		o.Time = at(float64(i))
		e.Observe(&o)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adverts/s")
}

// BenchmarkObserveHealthyPair: the adverts of the master of a healthy pair
// (the backup advertised once, at start, and is silent since) at a 10 ms
// and a 1 s interval.
func BenchmarkObserveHealthyPair(b *testing.B) {
	for _, iv := range []time.Duration{10 * time.Millisecond, time.Second} {
		b.Run(iv.String(), func(b *testing.B) {
			e, _ := New(DefaultParams(), nil)
			backup := with(B, func(a *ad) { a.interval = iv }).obs(0)
			e.Observe(&backup)
			o := with(A, func(a *ad) { a.interval = iv }).obs(0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				o.Time = t0.Add(time.Duration(i) * iv)
				e.Observe(&o)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adverts/s")
		})
	}
}

// BenchmarkObserveHealthyVRIDs: 100 healthy VRIDs on one interface, each
// master advertising every second, their adverts interleaved (10 ms
// apart).
func BenchmarkObserveHealthyVRIDs(b *testing.B) {
	const n = 100
	e, _ := New(DefaultParams(), nil)
	adverts := make([]obs.Observation, n)
	for v := range adverts {
		adverts[v] = ad{src: "10.0.1." + strconv.Itoa(v+1), prio: 150, vrid: uint8(v + 1), vips: []string{"10.0.2." + strconv.Itoa(v+1)}}.obs(0)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		o := &adverts[i%n]
		o.Time = t0.Add(time.Duration(i) * 10 * time.Millisecond)
		e.Observe(o)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adverts/s")
}

// BenchmarkFlood feeds 1M forged adverts with random sources, VRIDs,
// priorities and VIPs on 4 interfaces, and reports the heap in use after
// them (with the default caps) and the time per advert.
func BenchmarkFlood(b *testing.B) {
	n := floodN()
	rng := rand.New(rand.NewPCG(1, 2))
	seen := make([]obs.Observation, 4096)
	for i := range seen {
		src := netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		a := ad{src: src.String(), prio: uint8(1 + rng.IntN(254)), vrid: uint8(1 + rng.IntN(255)), iface: []string{"eth0", "eth1", "eth2", "eth3"}[rng.IntN(4)]}
		for k := 0; k < 1+rng.IntN(4); k++ {
			a.vips = append(a.vips, netip.AddrFrom4([4]byte{172, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String())
		}
		seen[i] = a.obs(0)
	}
	var heap float64
	for b.Loop() {
		e, _ := New(DefaultParams(), nil)
		for i := 0; i < n; i++ {
			o := &seen[i%len(seen)]
			// Fresh random identity for each packet.
			o.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			o.Advert.VRID = uint8(1 + i%255)
			o.Time = t0.Add(time.Duration(i) * time.Microsecond)
			e.Observe(o)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = float64(ms.HeapInuse) / (1 << 20)
		st := e.Stats()
		b.ReportMetric(float64(st.Routers), "routers")
		b.ReportMetric(float64(st.Segments), "segments")
		b.ReportMetric(float64(st.VIPs), "vips")
		runtime.KeepAlive(e)
	}
	b.ReportMetric(heap, "heap-MiB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/advert")
}

// floodN is 1M, or VRRPGUARD_FLOOD_N for quick profiling.
func floodN() int {
	if v, err := strconv.Atoi(os.Getenv("VRRPGUARD_FLOOD_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}
