// Package obs defines the observations that flow from capture to detection:
// a VRRP advertisement (RFC 3768, RFC 5798), an ARP announcement or reply
// (RFC 826, RFC 5227), an IPv6 neighbour advertisement (RFC 4861), or a VRRP
// packet that failed validation, each with its time, interface and source
// MAC. It is a leaf: the sniffer produces these values and the rules engine
// consumes them, and neither side's dependencies (gopacket, AF_PACKET) reach
// the other through it.
package obs

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Kind says what an Observation carries.
type Kind uint8

// Observation kinds.
const (
	KindAdvert  Kind = iota + 1 // a decoded VRRP advertisement
	KindARP                     // an ARP request or reply that claims an IPv4 address
	KindND                      // an IPv6 neighbour advertisement
	KindInvalid                 // a VRRP packet that could not be decoded
)

// String returns "advert", "arp", "nd" or "invalid".
func (k Kind) String() string {
	switch k {
	case KindAdvert:
		return "advert"
	case KindARP:
		return "arp"
	case KindND:
		return "nd"
	case KindInvalid:
		return "invalid"
	}
	return "unknown"
}

// MAC is an Ethernet address. Unlike net.HardwareAddr it is comparable and
// never allocates.
type MAC [6]byte

// String formats the address as aa:bb:cc:dd:ee:ff.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// IsZero reports whether the address is all zeros (unknown).
func (m MAC) IsZero() bool { return m == MAC{} }

// ParseMAC parses aa:bb:cc:dd:ee:ff.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	n, err := fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
	if err != nil || n != 6 || len(s) != 17 {
		return MAC{}, fmt.Errorf("invalid MAC address %q", s)
	}
	return m, nil
}

// ARPOp is the ARP operation.
type ARPOp uint8

// ARP operations.
const (
	ARPRequest ARPOp = 1
	ARPReply   ARPOp = 2
)

// String returns "request" or "reply".
func (o ARPOp) String() string {
	if o == ARPReply {
		return "reply"
	}
	return "request"
}

// ARPInfo is an ARP packet in which SenderMAC claims SenderIP. ARP probes
// (sender 0.0.0.0) claim nothing and are not reported.
type ARPInfo struct {
	Op        ARPOp
	SenderIP  netip.Addr
	SenderMAC MAC
	TargetIP  netip.Addr
	// Gratuitous: sender and target IP are equal (a GARP announcement, as
	// keepalived sends on becoming master).
	Gratuitous bool
}

// NDInfo is an IPv6 neighbour advertisement: TargetMAC answers for Target.
type NDInfo struct {
	Target netip.Addr
	// TargetMAC is the target link-layer address option, or the frame's
	// source MAC when the option is absent.
	TargetMAC MAC
	Router    bool
	Solicited bool
	Override  bool
}

// Observation is one relevant packet. An Observation handed to a Handler,
// and the slices inside it, are valid only during the call: use Clone to
// keep one.
type Observation struct {
	Kind Kind
	Time time.Time
	// Interface is where the frame was seen; for 802.1Q-tagged frames it is
	// "IF.VLAN", like a Linux VLAN device name.
	Interface string
	VLAN      uint16 // 0 when untagged
	SrcMAC    MAC
	Family    vrrp.Family
	Src, Dst  netip.Addr
	// TTL is the IPv4 TTL or IPv6 hop limit.
	TTL uint8

	// For KindAdvert.
	Advert   vrrp.Advertisement
	Checksum vrrp.ChecksumForm
	// For KindARP.
	ARP ARPInfo
	// For KindND.
	ND NDInfo
	// For KindInvalid.
	Reason vrrp.Reason
}

// Clone returns a copy that owns its address slice.
func (o *Observation) Clone() Observation {
	c := *o
	if o.Advert.Addresses != nil {
		c.Advert.Addresses = append([]netip.Addr(nil), o.Advert.Addresses...)
	}
	return c
}

// Handler receives observations in capture order.
type Handler func(*Observation)
