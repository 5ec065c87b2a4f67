package participant

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Rejects says why instance in would reject an advertisement seen on the
// wire (from src to dst with TTL ttl, checksum verdict csum) as one of its
// own virtual router's, or "" when it would accept it — the checks of its
// receive path (RFC 5798 section 7.1, RFC 3768 section 7.1, keepalived's
// authentication and interval checks). The self-demotion policy asks: an
// advertisement of this VRID that the instance rejects is one its election
// never acts on. A version mismatch is a rejection here (the socket path
// ignores it as another virtual router's, which to the election is the
// same).
func Rejects(in *keepalived.Instance, g *keepalived.Global, a *vrrp.Advertisement, src, dst netip.Addr, ttl uint8, csum vrrp.ChecksumForm) string {
	switch {
	case a.VRID != in.VRID:
		return "another VRID"
	case a.Family != in.Family() || vrrp.FamilyOf(src) != in.Family():
		return "another address family"
	case !in.Unicast() && dst != groupOf(in, g):
		return "another destination group"
	case !in.Unicast() && ttl != vrrp.TTL:
		return "TTL/hop limit not 255"
	case !csum.OK():
		return "bad checksum"
	case int(a.Version) != in.Version:
		if a.Version == 2 {
			return "VRRP version 2, ours 3"
		}
		return "VRRP version 3, ours 2"
	case a.Version != 2:
		return ""
	}
	want := vrrp.AuthNone
	if in.Auth.Type == "PASS" {
		want = vrrp.AuthSimple
	}
	switch {
	case a.AuthType != want:
		return "another authentication type"
	case want == vrrp.AuthSimple && a.AuthData != in.Auth.AuthData():
		return "authentication password mismatch"
	case a.Interval != in.AdvertInt:
		return "another advertisement interval"
	}
	return ""
}
