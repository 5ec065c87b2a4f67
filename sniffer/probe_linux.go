package sniffer

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vrrpguard/vrrpguard/obs"

	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/internal/l2frame"
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
	mac   obs.MAC
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
		frame = l2frame.ARPProbe(pi.mac, addr)
		dst = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case addr.Is6():
		frame = l2frame.NeighborSolicitation(pi.mac, addr)
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
