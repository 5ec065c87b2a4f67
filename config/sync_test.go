package config_test

import (
	"slices"
	"testing"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/rules"
)

// TestDefaultsMatchRules keeps default.yaml's documented rule defaults equal
// to the engine's own.
func TestDefaultsMatchRules(t *testing.T) {
	got := config.Default().Rules
	p := rules.DefaultParams()
	want := config.Rules{
		FlapWindow: p.FlapWindow, FlapThreshold: p.FlapThreshold, NoMasterMargin: p.NoMasterMargin,
		ResolveHold: p.ResolveHold, QuietPeriod: p.QuietPeriod, RouterTimeout: p.RouterTimeout,
		MaxSegments: p.MaxSegments, MaxRouters: p.MaxRouters, MaxRoutersPerSegment: p.MaxRoutersPerSegment,
		MaxVIPs: p.MaxVIPs,
	}
	if got != want {
		t.Errorf("default.yaml rules = %+v\nrules.DefaultParams() = %+v", got, want)
	}
}

// TestFindingKindsMatchRules keeps the kinds accepted in alert filters equal
// to the engine's.
func TestFindingKindsMatchRules(t *testing.T) {
	var want []string
	for _, k := range rules.Kinds() {
		want = append(want, string(k))
	}
	if !slices.Equal(config.FindingKinds, want) {
		t.Errorf("config.FindingKinds = %q\nrules.Kinds() = %q", config.FindingKinds, want)
	}
}
