package participant

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// errNotOurs marks packets for another virtual router (another VRID,
// version or interface): not counted as dropped.
var errNotOurs = errors.New("not for this virtual router")

// rxFilter is what a received packet is checked against.
type rxFilter struct {
	in      *keepalived.Instance
	group   netip.Addr // multicast destination ("" in unicast mode)
	unicast bool
	ifindex int
	self    netip.Addr
}

// advertTTL returns the IPv4 TTL / IPv6 hop limit of an instance's
// adverts: 255 (RFC 5798 section 5.1.1.3), or for unicast adverts the
// instance's unicast_ttl when given (keepalived: the IPv4 header's TTL,
// the IPv6 hop limit of each packet). Received unicast adverts have no TTL
// check (keepalived's vrrp_check_packet checks 255 only in multicast).
func advertTTL(in *keepalived.Instance) int {
	if in.Unicast() && in.UnicastTTL != nil {
		return int(*in.UnicastTTL)
	}
	return vrrp.TTL
}

// group returns the multicast destination of an instance.
func groupOf(in *keepalived.Instance, g *keepalived.Global) netip.Addr {
	if in.McastDstIP.IsValid() {
		return in.McastDstIP
	}
	if in.Family() == vrrp.IPv6 {
		if g.McastGroup6.IsValid() {
			return g.McastGroup6
		}
		return vrrp.MulticastIPv6
	}
	if g.McastGroup4.IsValid() {
		return g.McastGroup4
	}
	return vrrp.MulticastIPv4
}

// validate checks a received packet as RFC 5798 section 7.1 and keepalived
// do, decoding it into a. Errors wrapping errNotOurs are traffic of other
// virtual routers.
func (f *rxFilter) validate(p packet, a *vrrp.Advertisement) error {
	if f.ifindex != 0 && p.ifindex != 0 && p.ifindex != f.ifindex {
		return fmt.Errorf("received on interface %d: %w", p.ifindex, errNotOurs)
	}
	if p.src == f.self {
		return fmt.Errorf("own packet: %w", errNotOurs)
	}
	if vrrp.FamilyOf(p.src) != f.in.Family() {
		return fmt.Errorf("family %s: %w", vrrp.FamilyOf(p.src), errNotOurs)
	}
	if len(p.data) < vrrp.HeaderLen {
		return vrrp.ErrTruncated
	}
	if p.data[1] != f.in.VRID {
		return fmt.Errorf("vrid %d: %w", p.data[1], errNotOurs)
	}
	if !f.unicast && p.dst.IsValid() && p.dst != f.group {
		return fmt.Errorf("destination %s: %w", p.dst, errNotOurs)
	}
	if !f.unicast && p.ttl >= 0 && p.ttl != vrrp.TTL {
		return fmt.Errorf("ttl/hop limit %d, want 255", p.ttl)
	}
	dst := p.dst
	if !dst.IsValid() {
		dst = f.group
	}
	if !vrrp.VerifyChecksum(p.data, p.src, dst).OK() {
		return vrrp.ErrBadChecksum
	}
	if err := a.Unmarshal(p.data, f.in.Family()); err != nil {
		return err
	}
	if int(a.Version) != f.in.Version {
		return fmt.Errorf("version %d, ours %d: %w", a.Version, f.in.Version, errNotOurs)
	}
	if a.Version == 2 {
		want := vrrp.AuthNone
		if f.in.Auth.Type == "PASS" {
			want = vrrp.AuthSimple
		}
		if a.AuthType != want {
			return fmt.Errorf("auth type %s, want %s", a.AuthType, want)
		}
		if want == vrrp.AuthSimple && a.AuthData != f.in.Auth.AuthData() {
			return errors.New("authentication password mismatch")
		}
		if a.Interval != f.in.AdvertInt {
			return fmt.Errorf("advertisement interval %v, ours %v", a.Interval, f.in.AdvertInt)
		}
	}
	return nil
}
