// Package segmetrics exposes the rules engine's model of each VRRP segment
// (RFC 3768, RFC 5798: interface, address family, VRID) as Prometheus
// metrics: how many masters each virtual router has now, who the master
// is, each router's priority and advertisements, how many hosts answer for
// each virtual address, and the engine's table statistics. The series are
// built at scrape time from a rules.Snapshot, so routers and addresses the
// engine no longer tracks vanish, and the label sets stay bounded by the
// engine's caps. The metric names are a public contract (dashboards and
// alert rules use them).
package segmetrics

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/rules"
)

// Collector is a prometheus.Collector over engine snapshots.
type Collector struct {
	snapshot func() rules.Snapshot

	masters, masterInfo                  *prometheus.Desc
	priority, lastAdvert, adverts        *prometheus.Desc
	holders                              *prometheus.Desc
	evictions, dropped, ignored, tracked *prometheus.Desc
}

// New returns a collector that calls snapshot at every scrape. snapshot
// must be safe to call from the scraping goroutine (take the engine's lock
// in it).
func New(snapshot func() rules.Snapshot) (*Collector, error) {
	if snapshot == nil {
		return nil, errors.New("segmetrics: no snapshot function")
	}
	seg := []string{"interface", "family", "vrid"}
	rtr := []string{"interface", "family", "vrid", "router"}
	return &Collector{
		snapshot: snapshot,
		masters: prometheus.NewDesc("vrrpguard_segment_masters",
			"Routers acting as master of the virtual router now (advertising with priority > 0 within their Master_Down_Interval): 1 is normal, 2 or more a split brain, 0 none.", seg, nil),
		masterInfo: prometheus.NewDesc("vrrpguard_segment_master_info",
			"The current master of the virtual router (always 1; absent when there is none).", append(seg, "master", "mac"), nil),
		priority: prometheus.NewDesc("vrrpguard_router_priority",
			"Priority of the router's last advertisement (0: it resigned).", rtr, nil),
		lastAdvert: prometheus.NewDesc("vrrpguard_router_last_advert_timestamp_seconds",
			"Packet timestamp of the router's last advertisement.", rtr, nil),
		adverts: prometheus.NewDesc("vrrpguard_adverts_total",
			"Advertisements seen from the router.", rtr, nil),
		holders: prometheus.NewDesc("vrrpguard_vip_holders",
			"MACs that announced or answered for the virtual address recently: 1 is normal, 2 or more a conflict or split brain, 0 nobody seen.",
			[]string{"interface", "family", "vip"}, nil),
		evictions: prometheus.NewDesc("vrrpguard_engine_evictions_total",
			"Entries the detection engine dropped because a table was full.", nil, nil),
		dropped: prometheus.NewDesc("vrrpguard_engine_findings_dropped_total",
			"Findings the detection engine could not raise because too many were active.", nil, nil),
		ignored: prometheus.NewDesc("vrrpguard_engine_ignored_observations_total",
			"Observations that never feed the model (bad TTL, bad checksum, malformed).", nil, nil),
		tracked: prometheus.NewDesc("vrrpguard_engine_tracked",
			"Entries in the detection engine's tables.", []string{"table"}, nil),
	}, nil
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.masters, c.masterInfo, c.priority, c.lastAdvert, c.adverts, c.holders,
		c.evictions, c.dropped, c.ignored, c.tracked} {
		ch <- d
	}
}

// Collect takes a snapshot and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	for i := range s.Segments {
		g := &s.Segments[i]
		fam, vrid := g.Family.String(), vridLabel(g.VRID)
		send(ch, c.masters, prometheus.GaugeValue, float64(g.LiveMasters), g.Interface, fam, vrid)
		if g.Master.IsValid() {
			send(ch, c.masterInfo, prometheus.GaugeValue, 1, g.Interface, fam, vrid, g.Master.String(), g.MasterMAC.String())
		}
		for j := range g.Routers {
			r := &g.Routers[j]
			addr := r.Addr.String()
			send(ch, c.priority, prometheus.GaugeValue, float64(r.Priority), g.Interface, fam, vrid, addr)
			send(ch, c.lastAdvert, prometheus.GaugeValue, float64(r.LastAdvert.UnixNano())/1e9, g.Interface, fam, vrid, addr)
			send(ch, c.adverts, prometheus.CounterValue, float64(r.Adverts), g.Interface, fam, vrid, addr)
		}
	}
	for i := range s.VIPs {
		v := &s.VIPs[i]
		send(ch, c.holders, prometheus.GaugeValue, float64(len(v.Holders)), v.Interface, v.Family.String(), v.Addr.String())
	}
	st := s.Stats
	send(ch, c.evictions, prometheus.CounterValue, float64(st.Evictions))
	send(ch, c.dropped, prometheus.CounterValue, float64(st.FindingsDropped))
	send(ch, c.ignored, prometheus.CounterValue, float64(st.Ignored))
	for _, t := range []struct {
		table string
		n     int
	}{{"segments", st.Segments}, {"routers", st.Routers}, {"vips", st.VIPs}, {"findings", st.ActiveFindings}} {
		send(ch, c.tracked, prometheus.GaugeValue, float64(t.n), t.table)
	}
}

// send sends one series. A series that cannot be built (a label value that
// is not UTF-8, such as an odd interface name) is left out rather than
// failing the whole scrape.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	if m, err := prometheus.NewConstMetric(d, t, v, labels...); err == nil {
		ch <- m
	}
}

// vridLabel formats a VRID as the other vrrpguard metrics do: "" for 0
// (no VRID), else the number.
func vridLabel(v uint8) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(int(v))
}
