package rules

import (
	"net/netip"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Expected is one virtual router as the configuration describes it (from
// keepalived.conf vrrp_instance blocks or vrrpguard YAML). Zero fields are
// unknown and not checked.
type Expected struct {
	Interface  string // "" matches any interface
	Family     vrrp.Family
	VRID       uint8
	Version    uint8
	Interval   time.Duration
	VIPs       []netip.Addr
	AuthType   vrrp.AuthType // checked when HasAuth
	HasAuth    bool
	AuthDigest string // vrrp.AuthDigest of the 8-byte auth field, for simple auth
	Peers      []netip.Addr
	// Source names where it was configured (file:line), for messages.
	Source string
}

func (x *Expected) matches(iface string, fam vrrp.Family, vrid uint8) bool {
	return x.VRID == vrid && (x.Family == fam || x.Family == vrrp.FamilyUnknown) && (x.Interface == "" || x.Interface == iface)
}

// expectedFor returns the expectation for a segment, if any.
func (e *Engine) expectedFor(k segKey) (*Expected, int) {
	for i := range e.expected {
		if e.expected[i].matches(k.iface, k.fam, k.vrid) {
			return &e.expected[i], i
		}
	}
	return nil, -1
}

// expectedByVIP returns the expectation that lists vip, if any.
func (e *Engine) expectedByVIP(iface string, vip netip.Addr) *Expected {
	for i := range e.expected {
		x := &e.expected[i]
		if x.Interface != "" && x.Interface != iface {
			continue
		}
		for _, v := range x.VIPs {
			if v == vip {
				return x
			}
		}
	}
	return nil
}
