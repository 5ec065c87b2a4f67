package participant

import (
	"net/netip"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

// TestMissingStatic checks what a reload removes: entries the new
// configuration no longer has, whatever line they moved to.
func TestMissingStatic(t *testing.T) {
	r := func(dst string, line int) keepalived.Route {
		return keepalived.Route{Dst: netip.MustParsePrefix(dst), Type: 1, Table: 254, Protocol: 18, Raw: dst, File: "k.conf", Line: line}
	}
	old := []keepalived.Route{r("10.1.0.0/16", 3), r("10.2.0.0/16", 4), r("10.3.0.0/16", 5)}
	moved := r("10.2.0.0/16", 9)
	metric := r("10.3.0.0/16", 5)
	metric.Metric, metric.HasMetric = 7, true
	got := missing(old, []keepalived.Route{moved, metric}, sameRoute)
	want := []keepalived.Route{old[0], old[2]}
	if d := jsondiff.Diff(want, got); d != "" {
		t.Errorf("removed on reload (-want +got):\n%s", d)
	}
}
