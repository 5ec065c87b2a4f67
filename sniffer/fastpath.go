package sniffer

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// decodeFast decodes the common frames straight from the bytes into o,
// without gopacket's layers: untagged Ethernet carrying an IPv4 header
// without options or fragmentation or an IPv6 header without extension
// headers, with a well-formed VRRP message, or an Ethernet/IPv4 ARP packet;
// found says whether the frame carries an observation. It reports ok false,
// having changed nothing, for every other frame (VLAN tags, other link
// types, IP options, truncation, malformed VRRP, ND…), which decodeTo then
// hands to the gopacket path. For the frames it takes it gives exactly the
// observation and counters of that path.
func (d *Decoder) decodeFast(o *obs.Observation, data []byte, ts time.Time, iface string, vlan uint16) (found, ok bool) {
	if d.link != layers.LinkTypeEthernet || len(data) < 14 {
		return false, false
	}
	switch binary.BigEndian.Uint16(data[12:14]) {
	case 0x0800:
		ip := data[14:]
		if len(ip) < 20 || ip[0]&0x0f != 5 || ip[9] != vrrp.IPProtocol {
			return false, false
		}
		length := int(binary.BigEndian.Uint16(ip[2:4]))
		if length < 20 || length > len(ip) || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return false, false // TSO length 0, truncated, or a fragment
		}
		src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		return d.fastAdvert(o, data, ip[20:length], vrrp.IPv4, src, dst, ip[8], ts, iface, vlan)
	case 0x86dd:
		ip := data[14:]
		if len(ip) < 40 || ip[6] != vrrp.IPProtocol {
			return false, false
		}
		length := int(binary.BigEndian.Uint16(ip[4:6]))
		if length == 0 || length > len(ip)-40 {
			return false, false // jumbogram or truncated
		}
		src, dst := netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		return d.fastAdvert(o, data, ip[40:40+length], vrrp.IPv6, src, dst, ip[7], ts, iface, vlan)
	case 0x0806:
		return d.fastARP(o, data, ts, iface, vlan)
	}
	return false, false
}

// begin resets the observation as the gopacket path does.
func begin(o *obs.Observation, data []byte, ts time.Time) {
	o.Advert.Addresses = o.Advert.Addresses[:0]
	*o = obs.Observation{Time: ts, Advert: vrrp.Advertisement{Addresses: o.Advert.Addresses}}
	copy(o.SrcMAC[:], data[6:12])
}

func (d *Decoder) fastAdvert(o *obs.Observation, frame, msg []byte, fam vrrp.Family, src, dst netip.Addr, ttl uint8, ts time.Time, iface string, vlan uint16) (found, ok bool) {
	// A malformed message goes the gopacket way, which reports it; peek
	// first so that o is untouched then.
	if len(msg) < vrrp.HeaderLen || (msg[0]>>4 != 2 && msg[0]>>4 != 3) || msg[0]&0x0f != vrrp.TypeAdvertisement ||
		(msg[0]>>4 == 2 && fam != vrrp.IPv4) {
		return false, false
	}
	need := vrrp.HeaderLen + int(msg[3])*fam.AddrLen()
	if msg[0]>>4 == 2 {
		need += vrrp.AuthDataLen
	}
	if len(msg) < need {
		return false, false
	}
	// Straight into o: its address list is reused (a batch slot's points
	// at the batch's free address space).
	if err := o.Advert.Unmarshal(msg, fam); err != nil {
		return false, false // not reached: checked above
	}
	form := vrrp.VerifyChecksum(msg, src, dst)
	d.Stats.Packets++
	// Field by field, every one of them: no zeroed temporary copied over.
	o.Kind = obs.KindAdvert
	o.Time = ts
	o.Interface = d.ifaceName(iface, vlan)
	o.VLAN = vlan
	o.SrcMAC = obs.MAC(frame[6:12])
	o.Family, o.Src, o.Dst, o.TTL = fam, src, dst, ttl
	o.Checksum = form
	o.ARP = obs.ARPInfo{}
	o.ND = obs.NDInfo{}
	o.Reason = 0
	d.Stats.Adverts++
	return true, true
}

func (d *Decoder) fastARP(o *obs.Observation, data []byte, ts time.Time, iface string, vlan uint16) (found, ok bool) {
	p := data[14:]
	if len(p) < 28 || binary.BigEndian.Uint16(p[0:2]) != uint16(layers.LinkTypeEthernet) ||
		binary.BigEndian.Uint16(p[2:4]) != uint16(layers.EthernetTypeIPv4) || p[4] != 6 || p[5] != 4 {
		return false, false
	}
	d.Stats.Packets++
	op := binary.BigEndian.Uint16(p[6:8])
	sender := netip.AddrFrom4([4]byte(p[14:18]))
	if (op != uint16(obs.ARPRequest) && op != uint16(obs.ARPReply)) || sender.IsUnspecified() {
		d.Stats.Ignored++
		return false, true
	}
	begin(o, data, ts)
	o.Kind = obs.KindARP
	o.Family = vrrp.IPv4
	o.ARP = obs.ARPInfo{
		Op:        obs.ARPOp(op),
		SenderIP:  sender,
		SenderMAC: obs.MAC(p[8:14]),
		TargetIP:  netip.AddrFrom4([4]byte(p[24:28])),
	}
	o.ARP.Gratuitous = o.ARP.SenderIP == o.ARP.TargetIP
	o.Interface = d.ifaceName(iface, vlan)
	o.VLAN = vlan
	d.Stats.ARP++
	return true, true
}
