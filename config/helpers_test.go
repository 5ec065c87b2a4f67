package config

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

// diff returns a (-want +got) diff of want and got, "" when equal.
func diff(want, got any) string { return jsondiff.Diff(want, got) }

func warningStrings(w []Warning) []string {
	s := make([]string, len(w))
	for i, x := range w {
		s[i] = x.String()
	}
	return s
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}
