package sniffer

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// Prober sends the probes that find every holder of an address: an ARP
// probe (RFC 5227: sender IP 0.0.0.0, so no cache learns from it) for
// IPv4, and a neighbour solicitation from the unspecified address (as in
// duplicate address detection, RFC 4862) for IPv6, whose answers go to all
// nodes. Holders answer; the live capture sees the answers. It needs
// CAP_NET_RAW. Safe for concurrent use.
type Prober struct {
	mu  sync.Mutex
	ifs map[string]*probeIf
}

type probeIf struct {
	fd    int
	index int
	mac   MAC
	err   error
}

// NewProber returns a prober; sockets are opened on first use per
// interface.
func NewProber() *Prober { return &Prober{ifs: map[string]*probeIf{}} }

func (p *Prober) iface(name string) *probeIf {
	if pi, ok := p.ifs[name]; ok {
		return pi
	}
	pi := &probeIf{fd: -1}
	p.ifs[name] = pi
	in, err := net.InterfaceByName(name)
	if err != nil {
		pi.err = fmt.Errorf("probe on %s: %w", name, err)
		return pi
	}
	if len(in.HardwareAddr) != 6 {
		pi.err = fmt.Errorf("probe on %s: not an Ethernet interface", name)
		return pi
	}
	copy(pi.mac[:], in.HardwareAddr)
	pi.index = in.Index
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: send only
	if err != nil {
		pi.err = fmt.Errorf("probe on %s: %w", name, err)
		return pi
	}
	pi.fd = fd
	return pi
}

// Probe sends one probe for addr out of the named interface.
func (p *Prober) Probe(ifname string, addr netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pi := p.iface(ifname)
	if pi.err != nil {
		return pi.err
	}
	var frame []byte
	var dst [6]byte
	switch {
	case addr.Is4():
		frame = ARPProbe(pi.mac, addr)
		dst = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case addr.Is6():
		frame = NeighborSolicitation(pi.mac, addr)
		copy(dst[:], frame[:6])
	default:
		return fmt.Errorf("probe: invalid address %v", addr)
	}
	sa := &unix.SockaddrLinklayer{Ifindex: pi.index, Halen: 6}
	copy(sa.Addr[:], dst[:])
	if err := unix.Sendto(pi.fd, frame, 0, sa); err != nil {
		return fmt.Errorf("probe %s on %s: %w", addr, ifname, err)
	}
	return nil
}

// Close closes the sockets.
func (p *Prober) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pi := range p.ifs {
		if pi.fd >= 0 {
			unix.Close(pi.fd)
		}
	}
	p.ifs = map[string]*probeIf{}
}

// ARPProbe builds an Ethernet frame with an ARP probe for target.
func ARPProbe(src MAC, target netip.Addr) []byte {
	f := make([]byte, 42)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 1) // request
	copy(a[8:14], src[:])
	// sender IP 0.0.0.0, target MAC zero
	t := target.As4()
	copy(a[24:28], t[:])
	return f
}

// NeighborSolicitation builds an Ethernet frame with a neighbour
// solicitation for target from the unspecified address to its
// solicited-node multicast group.
func NeighborSolicitation(src MAC, target netip.Addr) []byte {
	t := target.As16()
	group := [16]byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]}
	f := make([]byte, 14+40+24)
	copy(f[0:6], []byte{0x33, 0x33, 0xff, t[13], t[14], t[15]})
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], 0x86dd)
	ip := f[14:54]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], 24)
	ip[6], ip[7] = 58, 255
	// source :: (zero), destination the group
	copy(ip[24:40], group[:])
	icmp := f[54:]
	icmp[0] = 135
	copy(icmp[8:24], t[:])
	var sum uint32
	for i := 0; i < 16; i += 2 {
		sum += uint32(group[i])<<8 | uint32(group[i+1])
	}
	sum += 24 + 58
	for i := 0; i < len(icmp); i += 2 {
		sum += uint32(icmp[i])<<8 | uint32(icmp[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(icmp[2:], ^uint16(sum))
	return f
}
