package participant

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestFirewallLab builds the no_accept firewall in a lab namespace: a
// stale table is replaced, nftables_priority and nftables_counters apply,
// an address shared by two masters stays in the set until both let go,
// and closing deletes the table.
func TestFirewallLab(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.140.0.1/24")
	a.Run(t, "nft", "add table inet vrrpguard")
	a.Run(t, "nft", "add chain inet vrrpguard stale { type filter hook input priority 0 ; ip daddr 10.140.0.1 drop ; }")

	var fw *firewall
	do := func(fn func() error) {
		t.Helper()
		if err := a.Do(fn); err != nil {
			t.Fatal(err)
		}
	}
	do(func() (err error) {
		fw, err = openFirewall(&keepalived.Global{NFTPriority: -5, NFTCounters: true})
		return err
	})
	table := a.Run(t, "nft", "list", "table", "inet", "vrrpguard")
	for _, want := range []string{"chain in {", "type filter hook input priority filter - 5; policy accept;",
		"chain out {", "type filter hook output priority filter - 5; policy accept;",
		"ip daddr @vips4 counter packets 0 bytes 0 drop", "ip6 saddr @vips6 counter packets 0 bytes 0 drop",
		"icmpv6 type nd-neighbor-solicit accept"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
	if strings.Contains(table, "stale") {
		t.Errorf("stale chain kept:\n%s", table)
	}

	v4, v6, other := netip.MustParseAddr("10.140.0.100"), netip.MustParseAddr("fd40::100"), netip.MustParseAddr("10.140.0.101")
	elements := func() string {
		return a.Run(t, "nft", "list", "set", "inet", "vrrpguard", "vips4") + a.Run(t, "nft", "list", "set", "inet", "vrrpguard", "vips6")
	}
	has := func(want map[netip.Addr]bool) {
		t.Helper()
		got := elements()
		for addr, in := range want {
			if strings.Contains(got, addr.String()) != in {
				t.Errorf("%s in the sets: %v, want %v\n%s", addr, !in, in, got)
			}
		}
	}
	do(func() error { return fw.update([]netip.Addr{v4, v6}, 1) })    // instance 1 master
	do(func() error { return fw.update([]netip.Addr{v4, other}, 1) }) // instance 2 master
	has(map[netip.Addr]bool{v4: true, v6: true, other: true})
	do(func() error { return fw.update([]netip.Addr{v4, v6}, -1) }) // instance 1 leaves
	has(map[netip.Addr]bool{v4: true, v6: false, other: true})
	do(func() error { return fw.update([]netip.Addr{v4, other}, -1) }) // instance 2 leaves
	has(map[netip.Addr]bool{v4: false, v6: false, other: false})
	do(func() error { return fw.close() })
	if left := a.Run(t, "nft", "list", "tables"); strings.TrimSpace(left) != "" {
		t.Errorf("tables left after close: %s", left)
	}
}
