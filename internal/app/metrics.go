package app

import (
	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vrrpguard/vrrpguard/sniffer"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// newRegistry returns the registry of a command's metrics, with the Go
// runtime and process collectors and vrrpguard_build_info.
func newRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vrrpguard_build_info", Help: "Build information; always 1."}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), build)
	return reg
}

// captureMetrics are the Prometheus series of the capture pipeline.
type captureMetrics struct {
	packets  *prometheus.CounterVec
	invalid  *prometheus.CounterVec
	adverts  *prometheus.CounterVec
	cache    map[obsKey]prometheus.Counter
	lastSeen prometheus.Gauge
}

type obsKey struct {
	iface  string
	kind   obs.Kind
	reason vrrp.Reason
	ttl    bool
	csum   vrrp.ChecksumForm
}

// newCaptureMetrics registers the capture metrics on reg.
func newCaptureMetrics(reg *prometheus.Registry) *captureMetrics {
	m := &captureMetrics{cache: map[obsKey]prometheus.Counter{}}
	m.packets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vrrpguard_observations_total",
		Help: "Packets decoded into observations, by interface and kind (advert, arp, nd, invalid).",
	}, []string{"interface", "kind"})
	m.invalid = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vrrpguard_invalid_packets_total",
		Help: "VRRP packets that failed validation, by interface and reason.",
	}, []string{"interface", "reason"})
	m.adverts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vrrpguard_suspect_adverts_total",
		Help: "Decoded advertisements with a TTL/hop limit other than 255 (reason=ttl) or a bad checksum (reason=checksum).",
	}, []string{"interface", "reason"})
	m.lastSeen = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vrrpguard_last_observation_timestamp_seconds",
		Help: "Packet timestamp of the last observation.",
	})
	reg.MustRegister(m.packets, m.invalid, m.adverts, m.lastSeen)
	return m
}

func (m *captureMetrics) counter(k obsKey) prometheus.Counter {
	c, ok := m.cache[k]
	if ok {
		return c
	}
	switch {
	case k.reason != 0:
		c = m.invalid.WithLabelValues(k.iface, k.reason.Code())
	case k.ttl:
		c = m.adverts.WithLabelValues(k.iface, "ttl")
	case k.csum == vrrp.ChecksumInvalid:
		c = m.adverts.WithLabelValues(k.iface, "checksum")
	default:
		c = m.packets.WithLabelValues(k.iface, k.kind.String())
	}
	if len(m.cache) < 10000 {
		m.cache[k] = c
	}
	return c
}

// observe counts one observation. Not safe for concurrent use (the
// pipeline serialises observations).
func (m *captureMetrics) observe(o *obs.Observation) {
	m.counter(obsKey{iface: o.Interface, kind: o.Kind}).Inc()
	switch o.Kind {
	case obs.KindInvalid:
		m.counter(obsKey{iface: o.Interface, reason: o.Reason}).Inc()
	case obs.KindAdvert:
		if o.TTL != vrrp.TTL {
			m.counter(obsKey{iface: o.Interface, ttl: true}).Inc()
		}
		if o.Checksum == vrrp.ChecksumInvalid {
			m.counter(obsKey{iface: o.Interface, csum: vrrp.ChecksumInvalid}).Inc()
		}
	}
	m.lastSeen.Set(float64(o.Time.UnixNano()) / 1e9)
}

// liveCollector exposes kernel capture counters at scrape time.
type liveCollector struct {
	stats    func() []sniffer.InterfaceStats
	received *prometheus.Desc
	drops    *prometheus.Desc
	full     *prometheus.Desc
}

func newLiveCollector(stats func() []sniffer.InterfaceStats) *liveCollector {
	return &liveCollector{
		stats: stats,
		received: prometheus.NewDesc("vrrpguard_capture_received_packets_total",
			"Packets that passed the capture filter, as counted by the kernel (for run: not the node's own adverts, which the participant hands over; see vrrpguard_capture_own_adverts_total).", []string{"interface"}, nil),
		drops: prometheus.NewDesc("vrrpguard_capture_kernel_drops_total",
			"Packets the kernel dropped because vrrpguard did not read them in time.", []string{"interface"}, nil),
		full: prometheus.NewDesc("vrrpguard_capture_ring_full_total",
			"Times every block of the capture ring was waiting for vrrpguard (the kernel drops packets until one is free).", []string{"interface"}, nil),
	}
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.received
	ch <- c.drops
	ch <- c.full
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.received, prometheus.CounterValue, float64(s.Received), s.Interface)
		ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(s.KernelDrops), s.Interface)
		ch <- prometheus.MustNewConstMetric(c.full, prometheus.CounterValue, float64(s.RingFull), s.Interface)
	}
}
