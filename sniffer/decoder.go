package sniffer

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// DecodeStats counts what a Decoder saw.
type DecodeStats struct {
	Packets uint64 // frames handed to Decode
	Adverts uint64
	ARP     uint64
	ND      uint64
	Invalid uint64 // VRRP packets that failed to decode
	Ignored uint64 // frames that carry nothing of interest
}

// Decoder decodes frames of one link type into Observations without
// allocating per packet. It is not safe for concurrent use.
type Decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	ip4   ipv4Layer
	ip6   ipv6Layer
	ah    layers.IPSecAH
	arp   layers.ARP
	icmp6 layers.ICMPv6
	na    layers.ICMPv6NeighborAdvertisement
	vrrp  VRRPLayer

	link    layers.LinkType
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	vlanIf  map[vlanKey]string
	obs     obs.Observation
	// slowOnly turns the fast path off (tests compare the two).
	slowOnly bool

	Stats DecodeStats
}

type vlanKey struct {
	iface string
	vlan  uint16
}

// ipv4Layer hands the family and addresses of the IPv4 header to the VRRP
// layer decoded after it, so that it can verify the v3 pseudo-header
// checksum without a second pass.
type ipv4Layer struct {
	layers.IPv4
	next *VRRPLayer
}

func (l *ipv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := l.IPv4.DecodeFromBytes(data, df); err != nil {
		return err
	}
	l.next.FamilyHint = vrrp.IPv4
	l.next.Src, _ = netip.AddrFromSlice(l.SrcIP)
	l.next.Dst, _ = netip.AddrFromSlice(l.DstIP)
	return nil
}

type ipv6Layer struct {
	layers.IPv6
	next *VRRPLayer
}

func (l *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := l.IPv6.DecodeFromBytes(data, df); err != nil {
		return err
	}
	l.next.FamilyHint = vrrp.IPv6
	l.next.Src, _ = netip.AddrFromSlice(l.SrcIP)
	l.next.Dst, _ = netip.AddrFromSlice(l.DstIP)
	return nil
}

// Supported reports whether frames of the link type can be decoded:
// Ethernet, Linux cooked capture v1 and v2 ("tcpdump -i any"), and raw IP.
func Supported(link layers.LinkType) bool {
	switch link {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return true
	}
	return false
}

// NewDecoder returns a decoder for frames of the given link type.
func NewDecoder(link layers.LinkType) *Decoder {
	d := &Decoder{link: link, parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}, vlanIf: map[vlanKey]string{}}
	d.ip4.next = &d.vrrp
	d.ip6.next = &d.vrrp
	d.decoded = make([]gopacket.LayerType, 0, 8)
	return d
}

func (d *Decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	p := d.parsers[first]
	if p == nil {
		p = gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.ip4, &d.ip6,
			&d.ah, &d.arp, &d.icmp6, &d.na, &d.vrrp)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return p
}

// Decode decodes one frame captured on iface at ci.Timestamp. It returns
// the observation, owned by the Decoder and valid until the next call, or
// nil when the frame carries nothing of interest. vlan is a VLAN id that the
// capture source stripped from the frame (AF_PACKET auxdata), or 0.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, iface string, vlan uint16) *obs.Observation {
	if d.decodeTo(&d.obs, data, ci.Timestamp, iface, vlan) {
		return &d.obs
	}
	return nil
}

// decodeTo is Decode writing the observation into o instead of the
// Decoder's own: it reports whether the frame carries one. o is
// overwritten (also when it reports false); its address list points into
// the Decoder, valid until the next call.
func (d *Decoder) decodeTo(o *obs.Observation, data []byte, ts time.Time, iface string, vlan uint16) bool {
	if !d.slowOnly {
		if found, ok := d.decodeFast(o, data, ts, iface, vlan); ok {
			return found
		}
	}
	d.Stats.Packets++
	var first gopacket.LayerType
	switch d.link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(data) == 0 {
			d.Stats.Ignored++
			return false
		}
		first = layers.LayerTypeIPv4
		if data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	default:
		d.Stats.Ignored++
		return false
	}
	d.vrrp.FamilyHint = vrrp.FamilyUnknown
	err := d.parser(first).DecodeLayers(data, &d.decoded)

	o.Advert.Addresses = o.Advert.Addresses[:0]
	*o = obs.Observation{Time: ts, Advert: vrrp.Advertisement{Addresses: o.Advert.Addresses}}
	vrrpSeen := false
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeEthernet:
			o.SrcMAC = mac(d.eth.SrcMAC)
		case layers.LayerTypeLinuxSLL:
			if d.sll.AddrLen == 6 {
				o.SrcMAC = mac(d.sll.Addr)
			}
		case layers.LayerTypeLinuxSLL2:
			if d.sll2.AddrLength == 6 {
				o.SrcMAC = mac(d.sll2.Addr)
			}
		case layers.LayerTypeDot1Q:
			if vlan == 0 {
				vlan = d.dot1q.VLANIdentifier
			}
		case layers.LayerTypeIPv4:
			o.Family = vrrp.IPv4
			o.Src, _ = netip.AddrFromSlice(d.ip4.SrcIP)
			o.Dst, _ = netip.AddrFromSlice(d.ip4.DstIP)
			o.TTL = d.ip4.TTL
		case layers.LayerTypeIPv6:
			o.Family = vrrp.IPv6
			o.Src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			o.Dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			o.TTL = d.ip6.HopLimit
		case layers.LayerTypeVRRP, LayerTypeVRRP:
			vrrpSeen = true
		case layers.LayerTypeARP:
			if !d.fillARP(o) {
				d.Stats.Ignored++
				return false
			}
		case layers.LayerTypeICMPv6NeighborAdvertisement:
			d.fillND(o)
		}
	}
	o.Interface = d.ifaceName(iface, vlan)
	o.VLAN = vlan

	reason, isReason := err.(vrrp.Reason) // errors.As would allocate
	switch {
	case vrrpSeen:
		o.Kind = obs.KindAdvert
		o.Advert = d.vrrp.Advertisement
		o.Checksum = d.vrrp.ChecksumForm
		d.Stats.Adverts++
	case isReason && d.carriesVRRP():
		o.Kind = obs.KindInvalid
		o.Reason = reason
		d.Stats.Invalid++
	case o.Kind == obs.KindARP:
		d.Stats.ARP++
	case o.Kind == obs.KindND:
		d.Stats.ND++
	default:
		d.Stats.Ignored++
		return false
	}
	return true
}

// carriesVRRP reports whether the last decoded layer was about to hand its
// payload to the VRRP decoder.
func (d *Decoder) carriesVRRP() bool {
	if len(d.decoded) == 0 {
		return false
	}
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeIPv4:
		return d.ip4.NextLayerType() == layers.LayerTypeVRRP
	case layers.LayerTypeIPv6:
		return d.ip6.NextLayerType() == layers.LayerTypeVRRP
	case layers.LayerTypeIPSecAH:
		return d.ah.NextLayerType() == layers.LayerTypeVRRP
	}
	return false
}

func (d *Decoder) fillARP(o *obs.Observation) bool {
	a := &d.arp
	if a.AddrType != layers.LinkTypeEthernet || a.Protocol != layers.EthernetTypeIPv4 ||
		a.HwAddressSize != 6 || a.ProtAddressSize != 4 || len(a.SourceProtAddress) != 4 {
		return false
	}
	if a.Operation != uint16(obs.ARPRequest) && a.Operation != uint16(obs.ARPReply) {
		return false
	}
	sender := netip.AddrFrom4([4]byte(a.SourceProtAddress))
	if sender.IsUnspecified() {
		return false // an ARP probe (RFC 5227) claims nothing
	}
	o.Kind = obs.KindARP
	o.Family = vrrp.IPv4
	o.ARP = obs.ARPInfo{
		Op:        obs.ARPOp(a.Operation),
		SenderIP:  sender,
		SenderMAC: mac(a.SourceHwAddress),
		TargetIP:  netip.AddrFrom4([4]byte(a.DstProtAddress)),
	}
	o.ARP.Gratuitous = o.ARP.SenderIP == o.ARP.TargetIP
	return true
}

func (d *Decoder) fillND(o *obs.Observation) {
	n := &d.na
	o.Kind = obs.KindND
	o.ND = obs.NDInfo{
		Router:    n.Router(),
		Solicited: n.Solicited(),
		Override:  n.Override(),
		TargetMAC: o.SrcMAC,
	}
	o.ND.Target, _ = netip.AddrFromSlice(n.TargetAddress)
	for _, opt := range n.Options {
		if opt.Type == layers.ICMPv6OptTargetAddress && len(opt.Data) == 6 {
			o.ND.TargetMAC = mac(opt.Data)
		}
	}
}

func (d *Decoder) ifaceName(iface string, vlan uint16) string {
	if vlan == 0 {
		return iface
	}
	k := vlanKey{iface, vlan}
	name, ok := d.vlanIf[k]
	if !ok {
		name = iface + "." + strconv.Itoa(int(vlan))
		if len(d.vlanIf) < 4096 {
			d.vlanIf[k] = name
		}
	}
	return name
}

func mac(b []byte) obs.MAC {
	var m obs.MAC
	if len(b) == 6 {
		copy(m[:], b)
	}
	return m
}
