package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Expected is one virtual router as the configuration describes it (from
// keepalived.conf vrrp_instance blocks or vrrpguard YAML expect entries,
// merged per segment by package config). Zero fields are unknown and not
// checked.
type Expected struct {
	// Names are the names of the instances and entries it was merged from,
	// for messages.
	Names     []string
	Interface string // "" matches any interface
	Family    vrrp.Family
	VRID      uint8
	Version   uint8
	Interval  time.Duration
	// VIPs are the advertised addresses, checked when there are any.
	// VIPsKnown tells whether the configuration gave them (a
	// keepalived.conf instance always does, a YAML entry may not).
	VIPs      []netip.Addr
	VIPsKnown bool
	// ExcludedVIPs (keepalived virtual_ipaddress_excluded) are held by the
	// master but not advertised: only their ARP/ND claims are checked.
	ExcludedVIPs []netip.Addr
	AuthType     vrrp.AuthType // checked when HasAuth
	HasAuth      bool
	AuthDigest   string // vrrp.AuthDigest of the 8-byte auth field, for simple auth
	// Peers are the routers' addresses (unicast_src_ip, mcast_src_ip and
	// unicast_peer, YAML peers).
	Peers []netip.Addr
	// Priorities are the configured priorities of the keepalived instances
	// it was merged from.
	Priorities []Priority
	// Sources name where it was configured (file:line of each instance or
	// entry), for messages.
	Sources []string

	source string // Sources joined, for messages
}

// Priority is one router's configured priority for a virtual router.
type Priority struct {
	// Source is "file:line" of the vrrp_instance.
	Source string
	// RouterID is the file's global router_id ("" if not set).
	RouterID string
	// Priority is the configured base priority.
	Priority uint8
	// State is the configured initial state, MASTER or BACKUP.
	State string
}

// Key returns the segment as "interface/family/VRID", e.g. "eth0/ipv4/51"
// ("*" for any interface).
func (x *Expected) Key() string {
	iface := x.Interface
	if iface == "" {
		iface = "*"
	}
	return iface + "/" + x.Family.String() + "/" + strconv.Itoa(int(x.VRID))
}

// prepared is x as the engine keeps it: VIPs sorted, sources joined.
func prepared(x Expected) Expected {
	x.VIPs = sortedAddrs(x.VIPs)
	x.source = strings.Join(x.Sources, ", ")
	return x
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
		for _, v := range x.ExcludedVIPs {
			if v == vip {
				return x
			}
		}
	}
	return nil
}

// SetExpected replaces the expected configuration (a reload). Findings
// raised from the old expectations resolve by themselves when no longer
// asserted; configured VRIDs are given a fresh start-up grace from now.
func (e *Engine) SetExpected(expected []Expected, now time.Time) {
	e.expected = e.expected[:0]
	for _, x := range expected {
		e.expected = append(e.expected, prepared(x))
	}
	e.expSeen = map[int]bool{}
	if !now.IsZero() {
		e.start = now
	}
	// "Configured but never seen" findings: kept if still configured,
	// else resolved.
	for k, a := range e.active {
		if k.kind != NoMaster || k.sub != "expected" {
			continue
		}
		kept := false
		for i := range e.expected {
			x := &e.expected[i]
			if x.Interface == k.iface && x.Family == k.fam && x.VRID == k.vrid {
				e.expSeen[i], kept = true, true
			}
		}
		if !kept {
			a.resolveAt = e.now.Add(e.p.ResolveHold)
			e.resolvesAt(a.resolveAt)
		}
	}
}
