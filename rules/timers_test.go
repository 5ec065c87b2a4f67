package rules

import (
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestTimersAreNotLate: what the timers raise or resolve at a deadline
// (not on a packet) comes out of the first call at least tickEvery after
// the last timer run: with a packet every 50 ms, at most tickEvery + 50 ms
// after its time. The engine skips timer work that cannot be due yet; in
// these scripts deadlines appear, or move earlier, after a timer run.
func TestTimersAreNotLate(t *testing.T) {
	const step = 0.05
	resign := func(t float64) obs.Observation { return with(A, func(a *ad) { a.prio = 0 }).obs(t) }
	fast := with(A, func(a *ad) { a.interval = 100 * time.Millisecond })
	tests := []struct {
		name  string
		end   float64
		parts [][]obs.Observation
		want  []string // what must come out, in order
	}{
		{"first segment after timer runs", 30, [][]obs.Observation{every(A, 2, 10, 1)},
			[]string{"no_master raised"}},
		{"master resigns", 30, [][]obs.Observation{every(A, 0, 10, 1), {resign(10.1)}},
			[]string{"no_master raised"}},
		{"interval shortened", 30, [][]obs.Observation{every(A, 0, 10, 1), every(fast, 10.1, 11, 0.1)},
			[]string{"no_master raised"}},
		{"no master resolved by an advert", 60, [][]obs.Observation{every(A, 0, 10, 1), every(A, 30, 40, 1)},
			[]string{"no_master raised", "no_master resolved", "no_master raised"}},
		{"split brain ends", 60, [][]obs.Observation{every(A, 0, 60, 1), every(B, 10.5, 30.5, 1)},
			[]string{"duplicate_master raised", "duplicate_master resolved"}},
		{"stale announcement", 120, append(splitBrainWithGARPs(120), []obs.Observation{garp(100, "10.0.0.100", macA)}),
			[]string{"duplicate_master raised", "duplicate_master resolved", "stale_announcement raised", "stale_announcement resolved"}},
		{"stale announcement ends with a new master", 120, append(splitBrainWithGARPs(80), every(B, 85, 120, 1)),
			[]string{"duplicate_master raised", "duplicate_master resolved", "stale_announcement raised", "stale_announcement resolved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(DefaultParams(), nil)
			if err != nil {
				t.Fatal(err)
			}
			// The clock: ARP packets about an address nobody advertises,
			// which only advance the engine's time.
			var all []obs.Observation
			for x := 0.0; x <= tt.end+1e-9; x += step {
				all = append(all, garp(x, "192.0.2.1", "02:00:00:00:00:99"))
			}
			for _, p := range tt.parts {
				all = append(all, p...)
			}
			slices.SortStableFunc(all, func(a, b obs.Observation) int { return a.Time.Compare(b.Time) })
			var got []string
			for i := range all {
				for _, o := range noteRaised(t, e.Observe(&all[i])) {
					f := o.Finding
					if f == nil {
						continue
					}
					got = append(got, string(f.Kind)+" "+string(f.State))
					if late := all[i].Time.Sub(f.At); late < 0 || late > tickEvery+time.Duration(step*float64(time.Second))+time.Millisecond {
						t.Errorf("%s %s at %v came out %v later", f.Kind, f.State, f.At.Sub(t0), late)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q (-want +got):\n%s", got, tt.want, lineDiff(tt.want, got))
			}
		})
	}
}

// TestNanos: instants as int64 nanoseconds from the engine's first
// observation keep time.Time's order and differences within about 292
// years of it, whatever the capture's clock says, and saturate beyond;
// offsets saturate.
func TestNanos(t *testing.T) {
	base := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // a broken or hostile capture's clock
	tests := []struct {
		name  string
		first time.Time // the engine's first observation
		t     time.Time
		want  int64
	}{
		{"first observation", base, base, 0},
		{"a second later", base, base.Add(time.Second + 123), int64(time.Second) + 123},
		{"local location", base, base.Add(time.Hour).Local(), int64(time.Hour)},
		{"a century earlier", base, base.AddDate(-100, 0, 0), base.AddDate(-100, 0, 0).Sub(base).Nanoseconds()},
		{"zero time", base, time.Time{}, math.MinInt64},
		{"beyond range", base, far, math.MaxInt64},
		{"a capture in the year 3000", far, far.Add(90 * time.Second), int64(90 * time.Second)},
		{"its past", far, far.Add(-time.Hour), -int64(time.Hour)},
		{"before any observation", time.Time{}, base, base.UnixNano()},
		{"far after a far past", time.Unix(-1<<62, 0), time.Unix(1<<62, 0), math.MaxInt64},
		{"far before a far future", time.Unix(1<<62, 0), time.Unix(-1<<62, 0), math.MinInt64},
	}
	for _, tt := range tests {
		e, err := New(DefaultParams(), nil)
		if err != nil {
			t.Fatal(err)
		}
		e.clock(tt.first)
		if got := e.nanos(tt.t); got != tt.want {
			t.Errorf("%s: nanos(%v) = %d, want %d", tt.name, tt.t, got, tt.want)
		}
	}
	for i, tt := range []struct {
		t    int64
		d    time.Duration
		want int64
	}{
		{5, time.Second, 5 + int64(time.Second)},
		{5, -time.Hour, 5 - int64(time.Hour)},
		{math.MaxInt64 - 5, 10, math.MaxInt64},
		{math.MinInt64 + 5, -10, math.MinInt64},
		{math.MaxInt64, time.Second, math.MaxInt64},
	} {
		if got := plus(tt.t, tt.d); got != tt.want {
			t.Errorf("case %d: plus(%d, %v) = %d, want %d", i, tt.t, tt.d, got, tt.want)
		}
	}
}

// TestClockJumpCenturies: a capture whose first packet carries a time
// centuries before the rest (one odd pcapng timestamp) must not change what
// the engine finds afterwards: the instants kept as nanoseconds saturate
// there, so the engine moves its epoch. A preemption after a silence is no
// split brain, with or without the odd packet; two masters at once are.
func TestClockJumpCenturies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vip := netip.MustParseAddr("10.0.0.100")
	for _, odd := range []time.Time{{}, t0.AddDate(-300, 0, 0), t0.AddDate(-600, 0, 0)} {
		e, err := New(DefaultParams(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var dups []string
		feed := func(o obs.Observation) {
			for _, out := range e.Observe(&o) {
				if out.Finding != nil && out.Finding.Kind == DuplicateMaster {
					dups = append(dups, string(out.Finding.State)+" at "+o.Time.Sub(t0).String())
				}
			}
		}
		adv := func(src byte, prio uint8, at time.Time) {
			feed(obs.Observation{Kind: obs.KindAdvert, Time: at, Interface: "eth0", SrcMAC: obs.MAC{2, 0, 0, 0, 0, src},
				Src: netip.AddrFrom4([4]byte{10, 0, 0, src}), Family: vrrp.IPv4, TTL: vrrp.TTL, Checksum: vrrp.ChecksumValid,
				Advert: vrrp.Advertisement{Version: 3, Type: 1, VRID: 1, Priority: prio, Interval: time.Second, Family: vrrp.IPv4, Addresses: []netip.Addr{vip}}})
		}
		if !odd.IsZero() {
			feed(obs.Observation{Kind: obs.KindInvalid, Time: odd, Interface: "eth0", Family: vrrp.IPv4})
		}
		// A (200) is master for 5 s and falls silent; B (100) takes over;
		// A comes back and preempts B, which sends one more advert and stops.
		for i := range 5 {
			adv(1, 200, t0.Add(time.Duration(i)*time.Second))
		}
		for i := range 20 {
			adv(2, 100, t0.Add(9*time.Second+time.Duration(i)*time.Second))
		}
		back := t0.Add(28*time.Second + 500*time.Millisecond)
		adv(1, 200, back)
		adv(2, 100, back.Add(500*time.Millisecond))
		for i := 1; i < 6; i++ {
			adv(1, 200, back.Add(time.Duration(i)*time.Second))
		}
		if len(dups) > 0 {
			t.Errorf("odd first packet at %v: duplicate_master on a plain preemption: %v", odd, dups)
		}
		// Then both advertise as masters for 5 s: a split brain.
		split := back.Add(10 * time.Second)
		for i := range 5 {
			adv(1, 200, split.Add(time.Duration(i)*time.Second))
			adv(2, 100, split.Add(time.Duration(i)*time.Second+time.Millisecond))
		}
		if len(dups) == 0 {
			t.Errorf("odd first packet at %v: no duplicate_master for two masters at once", odd)
		}
	}
}
