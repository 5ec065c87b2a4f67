package rules

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
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

// TestNanos: instants as int64 nanoseconds keep time.Time's order within
// their range and saturate outside it, and offsets saturate.
func TestNanos(t *testing.T) {
	base := time.Date(2026, 12, 3, 15, 0, 0, 123, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"epoch", time.Unix(0, 0), 0},
		{"a capture's clock", base, base.UnixNano()},
		{"local location", base.Local(), base.UnixNano()},
		{"before 1970", time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC).UnixNano()},
		{"zero time", time.Time{}, math.MinInt64},
		{"far future", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
	}
	for _, tt := range tests {
		if got := nanos(tt.t); got != tt.want {
			t.Errorf("%s: nanos(%v) = %d, want %d", tt.name, tt.t, got, tt.want)
		}
	}
	for i, tt := range []struct {
		t    int64
		d    time.Duration
		want int64
	}{
		{nanos(base), time.Second, nanos(base.Add(time.Second))},
		{nanos(base), -time.Hour, nanos(base.Add(-time.Hour))},
		{math.MaxInt64 - 5, 10, math.MaxInt64},
		{math.MinInt64 + 5, -10, math.MinInt64},
		{math.MinInt64, forever, math.MinInt64 + int64(forever)},
	} {
		if got := plus(tt.t, tt.d); got != tt.want {
			t.Errorf("case %d: plus(%d, %v) = %d, want %d", i, tt.t, tt.d, got, tt.want)
		}
	}
}
