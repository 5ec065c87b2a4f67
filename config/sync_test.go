package config_test

import (
	"testing"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/rules"
)

// TestDefaultsMatchRules keeps default.yaml's documented rule defaults equal
// to the engine's own.
func TestDefaultsMatchRules(t *testing.T) {
	got, want := config.Default().Rules, rules.DefaultParams()
	if got != want {
		t.Errorf("default.yaml rules = %+v\nrules.DefaultParams() = %+v", got, want)
	}
}
