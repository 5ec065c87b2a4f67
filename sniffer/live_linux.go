package sniffer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
)

// InterfaceStats are the counters of one live capture.
type InterfaceStats struct {
	Interface string
	// Received and KernelDrops come from the packet socket
	// (PACKET_STATISTICS): packets that passed the filter, and packets the
	// kernel dropped because vrrpguard did not read fast enough.
	Received    uint64
	KernelDrops uint64
	Decode      DecodeStats
}

// Live captures on several interfaces at once.
type Live struct {
	ifs []*liveIf
	mu  sync.Mutex // serialises obs.Handler calls
}

type liveIf struct {
	name    string
	h       *pcapgo.EthernetHandle
	dec     *Decoder
	statsMu sync.Mutex
	recv    uint64
	drops   uint64
}

// LiveOptions configure live capture.
type LiveOptions struct {
	// Promiscuous also captures unicast frames for other hosts (ARP
	// replies); on by default in DefaultInterfaces' caller.
	Promiscuous bool
}

// DefaultInterfaces lists every interface that is up and not loopback,
// leaving out interfaces enslaved to another (bond slaves, bridge ports):
// their traffic is seen on the bond or bridge device, and capturing both
// would report every packet twice.
func DefaultInterfaces() ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []string
	for _, l := range links {
		a := l.Attrs()
		if a.Flags&net.FlagUp == 0 || a.Flags&net.FlagLoopback != 0 || a.MasterIndex != 0 {
			continue
		}
		out = append(out, a.Name)
	}
	if len(out) == 0 {
		return nil, errors.New("no interface is up (other than loopback and enslaved ones)")
	}
	return out, nil
}

// OpenLive opens an AF_PACKET socket with the capture filter on each
// interface. It needs CAP_NET_RAW.
func OpenLive(ifaces []string, opt LiveOptions) (*Live, error) {
	raw, err := bpf.Assemble(Filter())
	if err != nil {
		return nil, fmt.Errorf("assemble capture filter: %w", err)
	}
	l := &Live{}
	for _, name := range ifaces {
		h, err := pcapgo.NewEthernetHandle(name)
		if err != nil {
			l.Close()
			if errors.Is(err, os.ErrPermission) {
				return nil, fmt.Errorf("capture on %s: %w (needs root or CAP_NET_RAW)", name, err)
			}
			return nil, fmt.Errorf("capture on %s: %w", name, err)
		}
		if err := h.SetBPF(raw); err != nil {
			h.Close()
			l.Close()
			return nil, fmt.Errorf("capture filter on %s: %w", name, err)
		}
		if opt.Promiscuous {
			if err := h.SetPromiscuous(true); err != nil {
				h.Close()
				l.Close()
				return nil, fmt.Errorf("promiscuous mode on %s: %w", name, err)
			}
		}
		li := &liveIf{name: name, h: h, dec: NewDecoder(layers.LinkTypeEthernet)}
		l.ifs = append(l.ifs, li)
	}
	return l, nil
}

// Interfaces returns the names of the captured interfaces.
func (l *Live) Interfaces() []string {
	out := make([]string, len(l.ifs))
	for i, li := range l.ifs {
		out[i] = li.name
	}
	return out
}

// Run captures until ctx is done or a socket fails, calling h for every
// observation; calls are serialised across interfaces. It closes the
// sockets before returning. A cancelled context is not an error.
func (l *Live) Run(ctx context.Context, h obs.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(l.ifs))
	var wg sync.WaitGroup
	for _, li := range l.ifs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- l.read(ctx, li, h)
		}()
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	wg.Wait()
	close(errc)
	var first error
	for err := range errc {
		if err != nil && first == nil {
			first = err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}

func (l *Live) read(ctx context.Context, li *liveIf, h obs.Handler) error {
	for {
		data, ci, err := li.h.ZeroCopyReadPacketData()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if isTemporary(err) {
				continue
			}
			return fmt.Errorf("capture on %s: %w", li.name, err)
		}
		var vlan uint16
		if len(ci.AncillaryData) > 0 {
			if v, ok := ci.AncillaryData[0].(int); ok {
				vlan = uint16(v)
			}
		}
		l.mu.Lock()
		if o := li.dec.Decode(data, ci, li.name, vlan); o != nil {
			h(o)
		}
		l.mu.Unlock()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Stats reads the kernel counters of every interface.
func (l *Live) Stats() []InterfaceStats {
	out := make([]InterfaceStats, 0, len(l.ifs))
	for _, li := range l.ifs {
		li.statsMu.Lock()
		if s, err := li.h.Stats(); err == nil {
			// PACKET_STATISTICS resets on read: accumulate.
			li.recv += uint64(s.Packets)
			li.drops += uint64(s.Drops)
		}
		st := InterfaceStats{Interface: li.name, Received: li.recv, KernelDrops: li.drops}
		li.statsMu.Unlock()
		l.mu.Lock()
		st.Decode = li.dec.Stats
		l.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Close closes every socket; Run returns soon after.
func (l *Live) Close() {
	for _, li := range l.ifs {
		li.h.Close()
	}
}
