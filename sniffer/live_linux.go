package sniffer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket"
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
	// RingFull counts the times every block of the ring was waiting for
	// vrrpguard (tp_freeze_q_cnt; always 0 with CaptureSocket).
	RingFull uint64
	// Capture is how the interface is read (the ring, or one packet per
	// system call when the ring could not be set up or was not asked for).
	Capture CaptureMode
	Decode  DecodeStats
}

// CaptureMode is how live capture reads packets from the kernel.
type CaptureMode string

const (
	// CaptureRing reads a memory-mapped TPACKET_V3 receive ring: the
	// kernel hands packets over in blocks, with no system call per packet
	// (see RingConfig). The default.
	CaptureRing CaptureMode = "ring"
	// CaptureSocket reads one packet per system call (recvmsg) from the
	// socket's receive buffer.
	CaptureSocket CaptureMode = "socket"
)

// ParseCaptureMode parses "ring" or "socket" ("" is the default, ring).
func ParseCaptureMode(s string) (CaptureMode, error) {
	switch CaptureMode(s) {
	case "", CaptureRing:
		return CaptureRing, nil
	case CaptureSocket:
		return CaptureSocket, nil
	}
	return "", fmt.Errorf("capture mode %q: want ring or socket", s)
}

// Live captures on several interfaces at once.
type Live struct {
	ifs []*liveIf
	mu  sync.Mutex // serialises obs.Handler calls
}

type liveIf struct {
	name    string
	mode    CaptureMode
	h       *pcapgo.EthernetHandle // CaptureSocket
	r       *ring                  // CaptureRing
	dec     *Decoder
	statsMu sync.Mutex
	recv    uint64
	drops   uint64
	full    uint64
}

// LiveOptions configure live capture.
type LiveOptions struct {
	// Promiscuous also captures unicast frames for other hosts (ARP
	// replies); on by default in DefaultInterfaces' caller.
	Promiscuous bool
	// Capture is how packets are read; "" means CaptureRing. When the ring
	// cannot be set up on an interface, that interface falls back to
	// CaptureSocket with a warning on Log.
	Capture CaptureMode
	// Ring sizes the ring of CaptureRing (zero: the defaults).
	Ring RingConfig
	// Log receives the fallback warning; nil discards it.
	Log *slog.Logger
	// Own, by interface name, are the adverts a local participant sends
	// there and hands over itself: the filter leaves them out (see Own).
	Own map[string]Own

	// openRing replaces openRing in tests (to make the ring fail).
	openRing func(name string, filter []bpf.RawInstruction, promisc bool, cfg RingConfig) (*ring, error)
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
// interface, with a receive ring unless opt.Capture is CaptureSocket. It
// needs CAP_NET_RAW.
func OpenLive(ifaces []string, opt LiveOptions) (*Live, error) {
	mode, err := ParseCaptureMode(string(opt.Capture))
	if err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &Live{}
	for _, name := range ifaces {
		raw, err := bpf.Assemble(FilterExcept(opt.Own[name]))
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("assemble capture filter: %w", err)
		}
		li := &liveIf{name: name, mode: mode, dec: NewDecoder(layers.LinkTypeEthernet)}
		if mode == CaptureRing {
			open := openRing
			if opt.openRing != nil {
				open = opt.openRing
			}
			r, err := open(name, raw, opt.Promiscuous, opt.Ring)
			var se *ringSetupError
			switch {
			case err == nil:
				li.r = r
			case errors.As(err, &se):
				log.Warn("capture ring unavailable; reading one packet per system call", "interface", name, "err", err)
				li.mode = CaptureSocket
			default:
				l.Close()
				return nil, captureError(name, err)
			}
		}
		if li.mode == CaptureSocket {
			if li.h, err = openSocket(name, raw, opt.Promiscuous); err != nil {
				l.Close()
				return nil, err
			}
		}
		l.ifs = append(l.ifs, li)
	}
	return l, nil
}

// captureError words an error opening capture on name.
func captureError(name string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("capture on %s: %w (needs root or CAP_NET_RAW)", name, err)
	}
	return fmt.Errorf("capture on %s: %w", name, err)
}

// openSocket opens the CaptureSocket handle of one interface.
func openSocket(name string, raw []bpf.RawInstruction, promisc bool) (*pcapgo.EthernetHandle, error) {
	h, err := pcapgo.NewEthernetHandle(name)
	if err != nil {
		return nil, captureError(name, err)
	}
	if err := h.SetBPF(raw); err != nil {
		h.Close()
		return nil, fmt.Errorf("capture filter on %s: %w", name, err)
	}
	if promisc {
		if err := h.SetPromiscuous(true); err != nil {
			h.Close()
			return nil, fmt.Errorf("promiscuous mode on %s: %w", name, err)
		}
	}
	return h, nil
}

// SetOwn replaces the filter of the capture on iface with one that leaves
// out own (see Own); it reports whether iface is captured here.
func (l *Live) SetOwn(iface string, own Own) (bool, error) {
	raw, err := bpf.Assemble(FilterExcept(own))
	if err != nil {
		return false, fmt.Errorf("assemble capture filter: %w", err)
	}
	for _, li := range l.ifs {
		if li.name != iface {
			continue
		}
		if li.r != nil {
			err = li.r.setFilter(raw)
		} else {
			err = li.h.SetBPF(raw)
		}
		if err != nil {
			return true, fmt.Errorf("capture filter on %s: %w", iface, err)
		}
		return true, nil
	}
	return false, nil
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
// sockets (and unmaps the rings) before returning. A cancelled context is
// not an error.
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
	l.Close() // and wait until the rings are unmapped
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
	if li.r != nil {
		return l.readRing(ctx, li, h)
	}
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

// readRing hands over the ring's packets a block at a time: one wake-up
// and one lock for every packet of the block.
func (l *Live) readRing(ctx context.Context, li *liveIf, h obs.Handler) error {
	deliver := func(data []byte, ci gopacket.CaptureInfo, vlan uint16) {
		if o := li.dec.Decode(data, ci, li.name, vlan); o != nil {
			h(o)
		}
	}
	for {
		err := li.r.wait()
		if err == nil {
			l.mu.Lock()
			_, err = li.r.consume(deliver)
			l.mu.Unlock()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("capture on %s: %w", li.name, err)
		}
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
		// PACKET_STATISTICS resets on read: accumulate.
		if li.r != nil {
			if s, err := li.r.stats(); err == nil {
				li.recv += s.packets
				li.drops += s.drops
				li.full += s.freezes
			}
		} else if s, err := li.h.Stats(); err == nil {
			li.recv += uint64(s.Packets)
			li.drops += uint64(s.Drops)
		}
		st := InterfaceStats{Interface: li.name, Received: li.recv, KernelDrops: li.drops, RingFull: li.full, Capture: li.mode}
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
		if li.r != nil {
			li.r.Close()
		}
		if li.h != nil {
			li.h.Close()
		}
	}
}
