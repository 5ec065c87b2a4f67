package segmetrics

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// ts is the exposition value of a timestamp s seconds after t0.
func ts(s float64) string { return fmt.Sprintf("%.3f", float64(at(s).UnixNano())/1e9) }

// router is one VRRPv2 speaker on eth0 whose MAC ends in its last address
// byte.
type router struct {
	src  netip.Addr
	prio uint8
	vrid uint8
	ttl  uint8
}

func (r router) mac() obs.MAC { return obs.MAC{2, 0, 0, 0, 0, r.src.As4()[3]} }

func (r router) advert(t float64) obs.Observation {
	vrid, ttl := r.vrid, r.ttl
	if vrid == 0 {
		vrid = 51
	}
	if ttl == 0 {
		ttl = vrrp.TTL
	}
	return obs.Observation{Kind: obs.KindAdvert, Time: at(t), Interface: "eth0", SrcMAC: r.mac(), Family: vrrp.IPv4,
		Src: r.src, Dst: vrrp.MulticastIPv4, TTL: ttl, Checksum: vrrp.ChecksumValid,
		Advert: vrrp.Advertisement{Version: 2, Type: 1, VRID: vrid, Priority: r.prio, Interval: time.Second, Family: vrrp.IPv4,
			Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}}
}

func (r router) every(from, to float64) []obs.Observation {
	var out []obs.Observation
	for t := from; t <= to+1e-9; t++ {
		out = append(out, r.advert(t))
	}
	return out
}

func (r router) garp(t float64) obs.Observation {
	v := netip.MustParseAddr("10.0.0.100")
	return obs.Observation{Kind: obs.KindARP, Time: at(t), Interface: "eth0", SrcMAC: r.mac(), Family: vrrp.IPv4,
		ARP: obs.ARPInfo{Op: obs.ARPRequest, SenderIP: v, SenderMAC: r.mac(), TargetIP: v, Gratuitous: true}}
}

var (
	a = router{src: netip.MustParseAddr("10.0.0.1"), prio: 150}
	b = router{src: netip.MustParseAddr("10.0.0.2"), prio: 100}
)

// feed runs the observations, in time order, through a new engine.
func feed(t *testing.T, p rules.Params, parts ...[]obs.Observation) *rules.Engine {
	t.Helper()
	e, err := rules.New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var all []obs.Observation
	for _, part := range parts {
		all = append(all, part...)
	}
	slices.SortStableFunc(all, func(x, y obs.Observation) int { return x.Time.Compare(y.Time) })
	for i := range all {
		e.Observe(&all[i])
	}
	return e
}

func collector(t *testing.T, e *rules.Engine, now float64) *Collector {
	t.Helper()
	c, err := New(func() rules.Snapshot { return e.Snapshot(at(now)) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	helpMasters = `# HELP vrrpguard_segment_masters Routers acting as master of the virtual router now (advertising with priority > 0 within their Master_Down_Interval): 1 is normal, 2 or more a split brain, 0 none.
# TYPE vrrpguard_segment_masters gauge
`
	helpInfo = `# HELP vrrpguard_segment_master_info The current master of the virtual router (always 1; absent when there is none).
# TYPE vrrpguard_segment_master_info gauge
`
	helpPriority = `# HELP vrrpguard_router_priority Priority of the router's last advertisement (0: it resigned).
# TYPE vrrpguard_router_priority gauge
`
	helpLast = `# HELP vrrpguard_router_last_advert_timestamp_seconds Packet timestamp of the router's last advertisement.
# TYPE vrrpguard_router_last_advert_timestamp_seconds gauge
`
	helpAdverts = `# HELP vrrpguard_adverts_total Advertisements seen from the router.
# TYPE vrrpguard_adverts_total counter
`
	helpHolders = `# HELP vrrpguard_vip_holders MACs that announced or answered for the virtual address recently: 1 is normal, 2 or more a conflict or split brain, 0 nobody seen.
# TYPE vrrpguard_vip_holders gauge
`
	helpEvictions = `# HELP vrrpguard_engine_evictions_total Entries the detection engine dropped because a table was full.
# TYPE vrrpguard_engine_evictions_total counter
`
	helpDropped = `# HELP vrrpguard_engine_findings_dropped_total Findings the detection engine could not raise because too many were active.
# TYPE vrrpguard_engine_findings_dropped_total counter
`
	helpIgnored = `# HELP vrrpguard_engine_ignored_observations_total Observations that never feed the model (bad TTL, bad checksum, malformed).
# TYPE vrrpguard_engine_ignored_observations_total counter
`
	helpTracked = `# HELP vrrpguard_engine_tracked Entries in the detection engine's tables.
# TYPE vrrpguard_engine_tracked gauge
`
)

func TestSplitBrain(t *testing.T) {
	// A is master from 0 and announces the VIP; from 10.5 B does not hear
	// it, advertises too and announces the VIP.
	e := feed(t, rules.DefaultParams(), a.every(0, 30), b.every(10.5, 30), []obs.Observation{a.garp(0.01), b.garp(10.51)})
	want := helpMasters + `vrrpguard_segment_masters{family="ipv4",interface="eth0",vrid="51"} 2
` + helpInfo + `vrrpguard_segment_master_info{family="ipv4",interface="eth0",mac="02:00:00:00:00:01",master="10.0.0.1",vrid="51"} 1
` + helpPriority + `vrrpguard_router_priority{family="ipv4",interface="eth0",router="10.0.0.1",vrid="51"} 150
vrrpguard_router_priority{family="ipv4",interface="eth0",router="10.0.0.2",vrid="51"} 100
` + helpLast + `vrrpguard_router_last_advert_timestamp_seconds{family="ipv4",interface="eth0",router="10.0.0.1",vrid="51"} ` + ts(30) + `
vrrpguard_router_last_advert_timestamp_seconds{family="ipv4",interface="eth0",router="10.0.0.2",vrid="51"} ` + ts(29.5) + `
` + helpAdverts + `vrrpguard_adverts_total{family="ipv4",interface="eth0",router="10.0.0.1",vrid="51"} 31
vrrpguard_adverts_total{family="ipv4",interface="eth0",router="10.0.0.2",vrid="51"} 20
` + helpHolders + `vrrpguard_vip_holders{family="ipv4",interface="eth0",vip="10.0.0.100"} 2
` + helpEvictions + `vrrpguard_engine_evictions_total 0
` + helpDropped + `vrrpguard_engine_findings_dropped_total 0
` + helpIgnored + `vrrpguard_engine_ignored_observations_total 0
` + helpTracked + `vrrpguard_engine_tracked{table="findings"} 1
vrrpguard_engine_tracked{table="routers"} 2
vrrpguard_engine_tracked{table="segments"} 1
vrrpguard_engine_tracked{table="vips"} 1
`
	if err := testutil.CollectAndCompare(collector(t, e, 30), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestHealthyAndSilent(t *testing.T) {
	e := feed(t, rules.DefaultParams(), a.every(0, 10), []obs.Observation{a.garp(0.01)})
	names := []string{"vrrpguard_segment_masters", "vrrpguard_segment_master_info", "vrrpguard_vip_holders"}
	healthy := helpMasters + `vrrpguard_segment_masters{family="ipv4",interface="eth0",vrid="51"} 1
` + helpInfo + `vrrpguard_segment_master_info{family="ipv4",interface="eth0",mac="02:00:00:00:00:01",master="10.0.0.1",vrid="51"} 1
` + helpHolders + `vrrpguard_vip_holders{family="ipv4",interface="eth0",vip="10.0.0.100"} 1
`
	if err := testutil.CollectAndCompare(collector(t, e, 10.5), strings.NewReader(healthy), names...); err != nil {
		t.Errorf("healthy: %v", err)
	}
	// A went silent at 10: no master; its claim has aged out by 80.
	silent := helpMasters + `vrrpguard_segment_masters{family="ipv4",interface="eth0",vrid="51"} 0
` + helpHolders + `vrrpguard_vip_holders{family="ipv4",interface="eth0",vip="10.0.0.100"} 0
`
	if err := testutil.CollectAndCompare(collector(t, e, 80), strings.NewReader(silent), names...); err != nil {
		t.Errorf("silent: %v", err)
	}
}

func TestGoneRoutersVanish(t *testing.T) {
	// B sends one start-up advert and defers to A; after the router
	// timeout (60s) B is gone.
	e := feed(t, rules.DefaultParams(), []obs.Observation{b.advert(0)}, a.every(0.003, 30))
	count := func(now float64, want int) {
		t.Helper()
		c := collector(t, e, now)
		for _, name := range []string{"vrrpguard_router_priority", "vrrpguard_router_last_advert_timestamp_seconds", "vrrpguard_adverts_total"} {
			if n := testutil.CollectAndCount(c, name); n != want {
				t.Errorf("at %v: %d series of %s, want %d", now, n, name, want)
			}
		}
	}
	count(30, 2)
	for _, o := range a.every(31.003, 100) {
		e.Observe(&o)
	}
	count(100, 1)
	want := helpPriority + `vrrpguard_router_priority{family="ipv4",interface="eth0",router="10.0.0.1",vrid="51"} 150
`
	if err := testutil.CollectAndCompare(collector(t, e, 100), strings.NewReader(want), "vrrpguard_router_priority"); err != nil {
		t.Error(err)
	}
}

func TestEvictions(t *testing.T) {
	p := rules.DefaultParams()
	p.MaxSegments = 1
	// Three VRIDs through a table of one segment: two evictions, and the
	// findings table_full and vrid_mismatch (one VIP under three VRIDs).
	var seen []obs.Observation
	for i, vrid := range []uint8{1, 2, 3} {
		r := a
		r.vrid = vrid
		seen = append(seen, r.advert(float64(i)))
	}
	e := feed(t, p, seen)
	want := helpEvictions + `vrrpguard_engine_evictions_total 2
` + helpTracked + `vrrpguard_engine_tracked{table="findings"} 2
vrrpguard_engine_tracked{table="routers"} 1
vrrpguard_engine_tracked{table="segments"} 1
vrrpguard_engine_tracked{table="vips"} 1
`
	if err := testutil.CollectAndCompare(collector(t, e, 2), strings.NewReader(want), "vrrpguard_engine_evictions_total", "vrrpguard_engine_tracked"); err != nil {
		t.Error(err)
	}
}

func TestDroppedFindingsAndIgnoredObservations(t *testing.T) {
	// Adverts with TTL 64 never feed the model; each (interface, VRID)
	// raises its own ttl_invalid until the engine's 4096 active findings
	// are reached: 17 interfaces × 255 VRIDs = 4335, so 239 are dropped.
	var seen []obs.Observation
	for i := range 17 {
		for vrid := 1; vrid <= 255; vrid++ {
			r := router{src: netip.MustParseAddr("10.0.0.9"), prio: 200, vrid: uint8(vrid), ttl: 64}
			o := r.advert(1)
			o.Interface = fmt.Sprintf("eth%d", i)
			seen = append(seen, o)
		}
	}
	e := feed(t, rules.DefaultParams(), seen)
	want := helpDropped + `vrrpguard_engine_findings_dropped_total 239
` + helpIgnored + `vrrpguard_engine_ignored_observations_total 4335
` + helpTracked + `vrrpguard_engine_tracked{table="findings"} 4096
vrrpguard_engine_tracked{table="routers"} 0
vrrpguard_engine_tracked{table="segments"} 0
vrrpguard_engine_tracked{table="vips"} 0
`
	if err := testutil.CollectAndCompare(collector(t, e, 2), strings.NewReader(want),
		"vrrpguard_engine_findings_dropped_total", "vrrpguard_engine_ignored_observations_total", "vrrpguard_engine_tracked"); err != nil {
		t.Error(err)
	}
}

func TestPedanticRegistry(t *testing.T) {
	// The descriptors match what Collect sends, and no two series collide.
	e := feed(t, rules.DefaultParams(), a.every(0, 30), b.every(10.5, 30), []obs.Observation{a.garp(0.01), b.garp(10.51)})
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(collector(t, e, 30)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{"vrrpguard_adverts_total", "vrrpguard_engine_evictions_total", "vrrpguard_engine_findings_dropped_total",
		"vrrpguard_engine_ignored_observations_total", "vrrpguard_engine_tracked", "vrrpguard_router_last_advert_timestamp_seconds",
		"vrrpguard_router_priority", "vrrpguard_segment_master_info", "vrrpguard_segment_masters", "vrrpguard_vip_holders"}
	if !slices.Equal(names, want) {
		t.Errorf("metric names (-want +got):\n- %v\n+ %v", want, names)
	}
}

func TestNewWithoutSnapshot(t *testing.T) {
	if _, err := New(nil); err == nil || err.Error() != "segmetrics: no snapshot function" {
		t.Errorf("New(nil) error %v", err)
	}
}
