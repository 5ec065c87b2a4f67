package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// rel formats a time as seconds from t0 ("-" when zero).
func rel(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%.3f", t.Sub(t0).Seconds())
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

// render writes a snapshot as lines, for (-want +got) comparisons.
func render(s Snapshot) []string {
	var out []string
	for _, g := range s.Segments {
		out = append(out, fmt.Sprintf("segment %s %s %d master=%s %s since=%s live=%d interval=%v last=%s",
			g.Interface, g.Family, g.VRID, addrText(g.Master), g.MasterMAC, rel(g.MasterSince), g.LiveMasters, g.Interval, rel(g.LastAdvert)))
		for _, r := range g.Routers {
			out = append(out, fmt.Sprintf("  router %s %s prio=%d v%d %v auth=%s/%s vips=%v first=%s last=%s adverts=%d master=%t live=%t resigned=%t",
				r.Addr, r.MAC, r.Priority, r.Version, r.Interval, r.AuthType, r.AuthDigest, r.VIPs, rel(r.FirstAdvert), rel(r.LastAdvert),
				r.Adverts, r.Master, r.LiveMaster, r.Resigned))
		}
	}
	for _, v := range s.VIPs {
		var hs []string
		for _, h := range v.Holders {
			hs = append(hs, fmt.Sprintf("%s@%s %s-%s ann=%s", h.MAC, addrText(h.Router), rel(h.FirstClaim), rel(h.LastClaim), rel(h.LastAnnouncement)))
		}
		out = append(out, fmt.Sprintf("vip %q %s %s vrids=%v expected=%t/%d holders=[%s]", v.Interface, v.Family, v.Addr, v.VRIDs,
			v.Expected, v.ExpectedVRID, strings.Join(hs, " ")))
	}
	for _, f := range s.Findings {
		out = append(out, fmt.Sprintf("finding %s %s %d %s", f.Kind, f.Interface, f.VRID, f.State))
	}
	return out
}

// lineDiff lists the lines only in want (-) and only in got (+), in order.
func lineDiff(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("- " + w + "\n")
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("+ " + g + "\n")
		}
	}
	return b.String()
}

func snapshotAfter(t *testing.T, exp []Expected, end float64, parts ...[]obs.Observation) (Snapshot, *Engine) {
	t.Helper()
	r := runScript(t, DefaultParams(), exp, end, parts...)
	return r.engine.Snapshot(at(end)), r.engine
}

func TestSnapshot(t *testing.T) {
	authB := with(B, func(a *ad) { a.auth = "secret" })
	tests := []struct {
		name  string
		exp   []Expected
		end   float64
		parts [][]obs.Observation
		want  []string
	}{
		{
			name: "healthy pair",
			// B's single start-up advert, then A alone; A announces.
			end:   30,
			parts: [][]obs.Observation{{B.obs(0), garp(0.01, "10.0.0.100", macA)}, every(A, 0.003, 30, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.1 02:00:00:00:00:01 since=0.003 live=1 interval=1s last=29.003",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=0.003 last=29.003 adverts=30 master=true live=true resigned=false",
				"  router 10.0.0.2 02:00:00:00:00:02 prio=100 v2 1s auth=none/ vips=[10.0.0.100] first=0.000 last=0.000 adverts=1 master=false live=false resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[02:00:00:00:00:01@10.0.0.1 0.010-0.010 ann=0.010]`,
			},
		},
		{
			name:  "split brain",
			end:   30,
			parts: [][]obs.Observation{every(A, 0, 30, 1), every(authB, 10.5, 30, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.1 02:00:00:00:00:01 since=0.000 live=2 interval=1s last=30.000",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=0.000 last=30.000 adverts=31 master=true live=true resigned=false",
				"  router 10.0.0.2 02:00:00:00:00:02 prio=100 v2 1s auth=simple/" + vrrp.AuthDigest(vrrp.PasswordAuthData("secret")) +
					" vips=[10.0.0.100] first=10.500 last=29.500 adverts=20 master=false live=true resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[]`,
				"finding auth_mismatch eth0 51 raised",
				"finding duplicate_master eth0 51 raised",
			},
		},
		{
			name:  "silence",
			end:   20,
			parts: [][]obs.Observation{every(A, 0, 10, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=- 00:00:00:00:00:00 since=- live=0 interval=1s last=10.000",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=0.000 last=10.000 adverts=11 master=false live=false resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[]`,
				"finding no_master eth0 51 raised",
			},
		},
		{
			name: "router expired",
			// B's start-up advert is older than the router timeout.
			end:   100,
			parts: [][]obs.Observation{{B.obs(0)}, every(A, 0.003, 100, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.1 02:00:00:00:00:01 since=0.003 live=1 interval=1s last=99.003",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=0.003 last=99.003 adverts=100 master=true live=true resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[]`,
			},
		},
		{
			name: "handover",
			// A resigns (priority 0); B takes over.
			end: 20,
			parts: [][]obs.Observation{every(A, 0, 10, 1), {with(A, func(a *ad) { a.prio = 0 }).obs(10.2)}, every(B, 10.8, 20, 1),
				{garp(10.81, "10.0.0.100", macB)}},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.2 02:00:00:00:00:02 since=10.800 live=1 interval=1s last=19.800",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=0 v2 1s auth=none/ vips=[10.0.0.100] first=0.000 last=10.200 adverts=12 master=false live=false resigned=true",
				"  router 10.0.0.2 02:00:00:00:00:02 prio=100 v2 1s auth=none/ vips=[10.0.0.100] first=10.800 last=19.800 adverts=10 master=true live=true resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[02:00:00:00:00:02@10.0.0.2 10.810-10.810 ann=10.810]`,
			},
		},
		{
			name: "preempted master's last advert is not a second master",
			// B sends one more advert (10.9) after A's first (10.5).
			end:   11.6,
			parts: [][]obs.Observation{every(B, 0.9, 10.9, 1), every(A, 10.5, 11.5, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.1 02:00:00:00:00:01 since=10.500 live=1 interval=1s last=11.500",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=10.500 last=11.500 adverts=2 master=true live=true resigned=false",
				"  router 10.0.0.2 02:00:00:00:00:02 prio=100 v2 1s auth=none/ vips=[10.0.0.100] first=0.900 last=10.900 adverts=11 master=false live=false resigned=false",
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=false/0 holders=[]`,
			},
		},
		{
			name: "expected addresses",
			exp: []Expected{{VRID: 51, Family: vrrp.IPv4, VIPs: []netip.Addr{ip("10.0.0.100")}, ExcludedVIPs: []netip.Addr{ip("10.0.0.150")}},
				{Interface: "eth1", VRID: 60, Family: vrrp.IPv4, VIPs: []netip.Addr{ip("10.1.0.60")}}},
			end:   3,
			parts: [][]obs.Observation{every(A, 0, 3, 1)},
			want: []string{
				"segment eth0 ipv4 51 master=10.0.0.1 02:00:00:00:00:01 since=0.000 live=1 interval=1s last=3.000",
				"  router 10.0.0.1 02:00:00:00:00:01 prio=150 v2 1s auth=none/ vips=[10.0.0.100] first=0.000 last=3.000 adverts=4 master=true live=true resigned=false",
				`vip "" ipv4 10.0.0.150 vrids=[] expected=true/51 holders=[]`,
				`vip "eth0" ipv4 10.0.0.100 vrids=[51] expected=true/51 holders=[]`,
				`vip "eth1" ipv4 10.1.0.60 vrids=[] expected=true/60 holders=[]`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := snapshotAfter(t, tt.exp, tt.end, tt.parts...)
			if d := lineDiff(tt.want, render(s)); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
			if !s.At.Equal(at(tt.end)) {
				t.Errorf("at %v", s.At)
			}
		})
	}
}

func TestSnapshotNeverHoldsThePassword(t *testing.T) {
	a := with(A, func(a *ad) { a.auth = "hunter2x" })
	s, _ := snapshotAfter(t, nil, 5, every(a, 0, 5, 1))
	got := fmt.Sprintf("%+v", s)
	if strings.Contains(got, "hunter2x") || strings.Contains(got, "104 117 110") {
		t.Errorf("snapshot holds the password: %s", got)
	}
	if d := s.Segments[0].Routers[0].AuthDigest; d != vrrp.AuthDigest(vrrp.PasswordAuthData("hunter2x")) {
		t.Errorf("digest %q", d)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	r := runScript(t, DefaultParams(), nil, 20, every(A, 0, 20, 1), every(B, 10.5, 20, 1))
	e := r.engine
	s := e.Snapshot(at(20))
	before := render(s)
	// Scribbling on the snapshot does not reach the engine.
	s.Segments[0].Routers[0].VIPs[0] = ip("192.0.2.1")
	s.Findings[0].Sources[0] = ip("192.0.2.2")
	s.Findings[0].MACs[0] = obs.MAC{9}
	s.Findings[0].VIPs[0] = ip("192.0.2.3")
	if d := lineDiff(before, render(e.Snapshot(at(20)))); d != "" {
		t.Errorf("engine changed by writes to a snapshot (-want +got):\n%s", d)
	}
	// The engine going on does not change an earlier snapshot.
	s = e.Snapshot(at(20))
	before = render(s)
	for _, o := range sortObs(every(with(A, func(a *ad) { a.vips = []string{"10.0.0.7"} }), 21, 200, 1),
		[]obs.Observation{garp(30, "10.0.0.7", macA)}) {
		e.Observe(&o)
	}
	e.Tick(at(200))
	if d := lineDiff(before, render(s)); d != "" {
		t.Errorf("snapshot changed by the engine (-want +got):\n%s", d)
	}
	if d := lineDiff(render(s), render(e.Snapshot(at(200)))); d == "" {
		t.Error("the engine's state did not move on")
	}
}

func TestSnapshotDoesNotChangeTheEngine(t *testing.T) {
	// A snapshot taken far in the future neither runs timers nor moves
	// the clock: no_master still comes at its time, from the adverts.
	e, _ := New(DefaultParams(), nil)
	for _, o := range every(A, 0, 10, 1) {
		e.Observe(&o)
	}
	if s := e.Snapshot(at(1000)); s.Segments[0].LiveMasters != 0 || len(s.Findings) != 0 {
		t.Errorf("snapshot at 1000: %v", render(s))
	}
	if s := e.Snapshot(at(10.5)); s.Segments[0].LiveMasters != 1 {
		t.Errorf("snapshot at 10.5: %v", render(s))
	}
	var raised []Finding
	for _, o := range e.Tick(at(20)) {
		if o.Finding != nil {
			raised = append(raised, *o.Finding)
		}
	}
	if len(raised) != 1 || raised[0].Kind != NoMaster || rel(raised[0].At) != "14.996" {
		t.Errorf("after the snapshots: %+v", raised)
	}
}

func TestSnapshotBoundedByTheCaps(t *testing.T) {
	p := DefaultParams()
	p.MaxSegments, p.MaxRouters, p.MaxRoutersPerSegment, p.MaxVIPs = 32, 64, 4, 48
	e, _ := New(p, nil)
	for i := range 20000 {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		o := ad{src: src.String(), prio: uint8(1 + i%254), vrid: uint8(1 + i%255),
			vips: []string{netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}).String()}}.obs(float64(i) / 1000)
		e.Observe(&o)
		if i%100 == 0 {
			g := garp(float64(i)/1000, netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}).String(), "02:00:00:00:00:99")
			e.Observe(&g)
		}
	}
	s := e.Snapshot(at(20))
	routers := 0
	for _, g := range s.Segments {
		routers += len(g.Routers)
		if len(g.Routers) > p.MaxRoutersPerSegment {
			t.Errorf("segment %d has %d routers", g.VRID, len(g.Routers))
		}
	}
	if len(s.Segments) > p.MaxSegments || routers > p.MaxRouters || len(s.VIPs) > p.MaxVIPs || len(s.Findings) > maxFindings {
		t.Errorf("snapshot larger than the tables: %d segments, %d routers, %d vips, %d findings",
			len(s.Segments), routers, len(s.VIPs), len(s.Findings))
	}
	if s.Stats.Evictions == 0 || s.Stats != e.Stats() {
		t.Errorf("stats %+v, engine %+v", s.Stats, e.Stats())
	}
}
