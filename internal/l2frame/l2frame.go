// Package l2frame builds the Ethernet frames vrrpguard sends to announce or
// find the holders of an address: gratuitous ARP and ARP probes (RFC 826,
// RFC 5227), unsolicited neighbour advertisements and neighbour
// solicitations (RFC 4861). The participant announces its VIPs with them;
// the watcher probes who holds a VIP.
package l2frame

import (
	"encoding/binary"
	"net/netip"
)

var (
	broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	allNodes  = netip.MustParseAddr("ff02::1")
)

// arp builds an ARP request from mac with the given sender and target
// addresses and target hardware address, to the broadcast address.
func arp(mac [6]byte, sender, target netip.Addr, targetMAC [6]byte) []byte {
	f := make([]byte, 42)
	copy(f[0:6], broadcast[:])
	copy(f[6:12], mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 1) // request
	copy(a[8:14], mac[:])
	if sender.Is4() {
		s := sender.As4()
		copy(a[14:18], s[:])
	}
	copy(a[18:24], targetMAC[:])
	t := target.As4()
	copy(a[24:28], t[:])
	return f
}

// GARP is a gratuitous ARP request announcing that mac holds ip (sender =
// target = ip, target hardware address broadcast, as keepalived sends).
func GARP(mac [6]byte, ip netip.Addr) []byte { return arp(mac, ip, ip, broadcast) }

// ARPProbe is an ARP probe for target (sender IP 0.0.0.0, so no cache
// learns from it); every holder of target answers.
func ARPProbe(mac [6]byte, target netip.Addr) []byte {
	return arp(mac, netip.IPv4Unspecified(), target, [6]byte{})
}

// icmp6 wraps an ICMPv6 message from src to dst (hop limit 255) in IPv6 and
// Ethernet (to ethDst), filling in its checksum.
func icmp6(mac, ethDst [6]byte, src, dst netip.Addr, msg []byte) []byte {
	s, d := src.As16(), dst.As16()
	var sum uint32
	for i := 0; i < 16; i += 2 {
		sum += uint32(s[i])<<8 | uint32(s[i+1])
		sum += uint32(d[i])<<8 | uint32(d[i+1])
	}
	sum += uint32(len(msg)) + 58
	msg[2], msg[3] = 0, 0
	for i := 0; i+1 < len(msg); i += 2 {
		sum += uint32(msg[i])<<8 | uint32(msg[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(msg[2:4], ^uint16(sum))
	f := make([]byte, 14+40+len(msg))
	copy(f[0:6], ethDst[:])
	copy(f[6:12], mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x86dd)
	ip := f[14:54]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(msg)))
	ip[6], ip[7] = 58, 255
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	copy(f[54:], msg)
	return f
}

// UnsolicitedNA is a neighbour advertisement from src (the interface's
// link-local address) to all nodes announcing that mac holds target
// (override flag, target link-layer address option).
func UnsolicitedNA(mac [6]byte, src, target netip.Addr) []byte {
	msg := make([]byte, 32)
	msg[0] = 136
	msg[4] = 0x20 // override
	t := target.As16()
	copy(msg[8:24], t[:])
	msg[24], msg[25] = 2, 1 // target link-layer address, 8 bytes
	copy(msg[26:32], mac[:])
	return icmp6(mac, [6]byte{0x33, 0x33, 0, 0, 0, 1}, src, allNodes, msg)
}

// NeighborSolicitation is a solicitation for target from the unspecified
// address (as in duplicate address detection, RFC 4862) to its
// solicited-node group: every holder answers to all nodes.
func NeighborSolicitation(mac [6]byte, target netip.Addr) []byte {
	t := target.As16()
	group := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]})
	msg := make([]byte, 24)
	msg[0] = 135
	copy(msg[8:24], t[:])
	return icmp6(mac, [6]byte{0x33, 0x33, 0xff, t[13], t[14], t[15]}, netip.IPv6Unspecified(), group, msg)
}
