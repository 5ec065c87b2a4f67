package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestConfigChangeMidRun: when the master's configuration changes after
// the segment's routers agreed for a while with nothing raised, the
// routers are compared again at once (the engine skips the comparisons
// while they agree).
func TestConfigChangeMidRun(t *testing.T) {
	tests := []struct {
		name   string
		backup ad
		change func(*ad)
		want   Kind
	}{
		{"interval", B, func(a *ad) { a.interval = 2 * time.Second }, IntervalMismatch},
		{"authentication", B, func(a *ad) { a.auth = "secret" }, AuthMismatch},
		{"version", B, func(a *ad) { a.version = 3 }, VersionMismatch},
		{"addresses", B, func(a *ad) { a.vips = []string{"10.0.0.100", "10.0.0.101"} }, VRIDConflict},
		{"second owner", with(B, func(a *ad) { a.prio = 255 }), func(a *ad) { a.prio = 255 }, OwnerConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The backup advertised once, before it heard A; A is
			// reloaded with another configuration at 20.5.
			r := runScript(t, DefaultParams(), nil, 40, []obs.Observation{tt.backup.obs(0)}, every(A, 0.5, 20, 1),
				every(with(A, tt.change), 20.5, 40, 1))
			r.raisedBetween(t, tt.want, 20.5, 20.5)
			if len(r.findings) != 1 {
				t.Errorf("findings:\n%s", r.dump())
			}
		})
	}
}

// TestVRIDMismatchOfALoneRouter: an address advertised under one VRID only,
// which the configuration expects under another, raises vrid_mismatch; a
// reload that expects it there resolves it (the engine skips this check
// for addresses under one VRID when nothing needs clearing).
func TestVRIDMismatchOfALoneRouter(t *testing.T) {
	exp := func(vrid uint8) []Expected {
		return []Expected{{VRID: vrid, Family: vrrp.IPv4, VIPs: []netip.Addr{ip("10.0.0.100")}, Sources: []string{"k.conf:1"}}}
	}
	e, err := New(DefaultParams(), exp(51))
	if err != nil {
		t.Fatal(err)
	}
	b := with(B, func(a *ad) { a.vrid = 52 })
	var got []string
	for _, o := range every(b, 0, 30, 1) {
		if o.Time.Equal(at(10)) {
			e.SetExpected(exp(52), at(10))
		}
		for _, out := range noteRaised(t, e.Observe(&o)) {
			if f := out.Finding; f != nil && f.Kind == VRIDMismatch {
				got = append(got, fmt.Sprintf("%s at %v", f.State, f.At.Sub(t0)))
			}
		}
	}
	if want := []string{"raised at 0s", "resolved at 15s"}; !slices.Equal(got, want) {
		t.Errorf("vrid_mismatch %q, want %q", got, want)
	}
}

// TestOthersAliveUntilBoundsEveryOtherRouter: after any sequence of adverts,
// the bound a segment gives for "another router than x is alive until" is
// at or after the alive-until of every router other than x (the duplicate
// check skips its walk past the bound).
func TestOthersAliveUntilBoundsEveryOtherRouter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 200; run++ {
		s := &segment{}
		rs := make([]*router, 1+rng.IntN(5))
		until := make([]int64, len(rs))
		for i := range rs {
			rs[i] = &router{}
			until[i] = math.MinInt64
		}
		now := int64(0)
		for step := 0; step < 50; step++ {
			now += rng.Int64N(3e9)
			i := rng.IntN(len(rs))
			// The interval may change between adverts: the new bound can
			// be earlier than the last one.
			u := now + rng.Int64N(5e9)
			s.noteLive(rs[i], u)
			until[i] = u
			for x := range rs {
				for y := range rs {
					if y != x && until[y] > s.othersAliveUntil(rs[x]) {
						t.Fatalf("run %d step %d: router %d is alive until %d, after the bound %d for the others of %d",
							run, step, y, until[y], s.othersAliveUntil(rs[x]), x)
					}
				}
			}
		}
	}
}
