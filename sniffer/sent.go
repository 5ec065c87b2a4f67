package sniffer

import (
	"encoding/binary"
	"net/netip"

	"github.com/vrrpguard/vrrpguard/obs"
)

// SentFrame appends to b the Ethernet frame of a VRRP packet (payload, no
// IP header) that this host sent from src to dst with TTL or hop limit
// ttl out of an interface whose MAC is mac: the frame a capture of that
// interface shows of it, as far as the Decoder reads it. The destination
// MAC is the group's for a multicast destination and all zeros for a
// unicast one (the neighbour's is not known here; the Decoder does not
// read it); the IPv4 header has no options, DF set, identification 0 and
// traffic class 0, as the participant's raw socket sends it.
// A `vrrpguard run` hands the frames of the adverts it sent to its
// watcher this way, and its capture filter leaves them out (see Own).
func SentFrame(b []byte, mac obs.MAC, src, dst netip.Addr, ttl uint8, payload []byte) []byte {
	var dmac [6]byte
	switch {
	case dst.Is4() && dst.IsMulticast():
		a := dst.As4()
		dmac = [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
	case dst.Is6() && dst.IsMulticast():
		a := dst.As16()
		dmac = [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}
	}
	b = append(b, dmac[:]...)
	b = append(b, mac[:]...)
	if src.Is4() {
		b = append(b, 0x08, 0x00)
		h := len(b)
		b = append(b, 0x45, 0, 0, 0, 0, 0, 0x40, 0, ttl, 112, 0, 0)
		s, d := src.As4(), dst.As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		binary.BigEndian.PutUint16(b[h+2:], uint16(20+len(payload)))
		binary.BigEndian.PutUint16(b[h+10:], ipv4HeaderChecksum(b[h:h+20]))
	} else {
		b = append(b, 0x86, 0xdd)
		b = append(b, 0x60, 0, 0, 0, byte(len(payload)>>8), byte(len(payload)), 112, ttl)
		s, d := src.As16(), dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	return append(b, payload...)
}

// ipv4HeaderChecksum is the Internet checksum of an IPv4 header whose
// checksum field is zero.
func ipv4HeaderChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
