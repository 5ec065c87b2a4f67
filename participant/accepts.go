package participant

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Accepts reports whether instance in would accept an advertisement seen
// on the wire (from src to dst with TTL ttl, checksum verdict csum) as
// one of its own virtual router's — the checks of its receive path (RFC
// 5798 section 7.1, RFC 3768 section 7.1, keepalived's authentication and
// interval checks). The self-demotion policy asks: an advertisement of
// this VRID that the instance rejects is one its election never acts on.
func Accepts(in *config.Instance, g *config.Global, a *vrrp.Advertisement, src, dst netip.Addr, ttl uint8, csum vrrp.ChecksumForm) bool {
	if a.VRID != in.VRID || a.Family != in.Family() || vrrp.FamilyOf(src) != in.Family() {
		return false
	}
	if !in.Unicast() && (dst != groupOf(in, g) || ttl != vrrp.TTL) {
		return false
	}
	if !csum.OK() || int(a.Version) != in.Version {
		return false
	}
	if a.Version != 2 {
		return true
	}
	want := vrrp.AuthNone
	if in.Auth.Type == "PASS" {
		want = vrrp.AuthSimple
	}
	if a.AuthType != want || (want == vrrp.AuthSimple && a.AuthData != in.Auth.AuthData()) {
		return false
	}
	return a.Interval == in.AdvertInt
}
