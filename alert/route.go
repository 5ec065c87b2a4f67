package alert

import (
	"slices"

	"github.com/vrrpguard/vrrpguard/rules"
)

// Route selects the alerts a sink receives.
type Route struct {
	// MinSeverity is the least severe finding sent ("" sends all).
	MinSeverity rules.Severity
	// Kinds, if not empty, restricts the finding kinds sent.
	Kinds []string
}

// Match reports whether the route lets a through.
func (r Route) Match(a *Alert) bool {
	if rules.Severity(a.Severity).Rank() < r.MinSeverity.Rank() {
		return false
	}
	return len(r.Kinds) == 0 || slices.Contains(r.Kinds, a.Kind)
}

// filter returns copies of the alerts the route lets through, in order.
func (r Route) filter(alerts []Alert) []Alert {
	var out []Alert
	for _, a := range alerts {
		if r.Match(&a) {
			out = append(out, a.clone())
		}
	}
	return out
}
