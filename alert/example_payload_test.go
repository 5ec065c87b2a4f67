package alert

import (
	"encoding/json"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestPrintExamplePayload prints the webhook payload of a typical finding
// (for the README) when VRRPGUARD_PRINT_PAYLOAD=1; otherwise it only checks
// that it encodes.
func TestPrintExamplePayload(t *testing.T) {
	ts := time.Date(2026, 11, 23, 22, 13, 12, 783000000, time.UTC)
	f := rules.Finding{Kind: rules.DuplicateMaster, State: rules.Raised, Severity: rules.Critical, Interface: "eth0", Family: vrrp.IPv4, VRID: 51,
		Sources: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}, MACs: []obs.MAC{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}},
		VIPs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}, FirstSeen: ts, LastSeen: ts, At: ts,
		Message:     "split brain: VRID 51 on eth0 has 2 masters at once (...) — check firewalls for IP protocol 112 in both directions, ...",
		Fingerprint: "1ad352f07da00f91"}
	m := webhookMessage("webhook 127.0.0.1:8080/hook", []Alert{FromFinding(f, "monitor-1")})
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("VRRPGUARD_PRINT_PAYLOAD") == "1" {
		os.Stdout.Write(append(b, '\n'))
	}
}
