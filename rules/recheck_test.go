package rules

import (
	"fmt"
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
