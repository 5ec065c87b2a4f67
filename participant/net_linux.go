package participant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/l2frame"
	"github.com/vrrpguard/vrrpguard/internal/nlwatch"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// netEnv is the real system: raw sockets, netlink, AF_PACKET.
type netEnv struct {
	// own are the virtual routes and rules this instance added; cleaned
	// says the start-up removal of configured ones has been done.
	own     owned
	cleaned bool

	in     *keepalived.Instance
	log    *slog.Logger
	ifi    *net.Interface
	src    netip.Addr
	ll     netip.Addr // IPv6 link-local of the interface (NA source)
	dsts   []netip.Addr
	filter rxFilter

	conn net.PacketConn
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	pf   int // AF_PACKET socket for GARP / NA

	// fw drops traffic to the virtual addresses while they are added
	// (no accept mode; nil otherwise); fwHeld says this instance's
	// addresses are in it.
	fw     *firewall
	fwHeld bool

	rx     chan packet
	linkCh chan linkState
	addrCh chan addrEvent
	done   chan struct{}
	// nl is the netlink subscription to link and address events
	// (watchNetlink); close closes it.
	nlMu     sync.Mutex
	nl       *nlwatch.Watch
	wg       sync.WaitGroup
	buf      []byte
	tx       []*sendMsg // prepared sends, one per destination
	onSent   func(*Sent)
	sent     Sent     // reused for onSent
	ifr      [40]byte // struct ifreq for SIOCGIFHWADDR
	closeMu  sync.Once
	readOnce sync.Once
}

// openNetEnv opens the sockets of an instance and subscribes to link and
// address events. fw, if not nil, drops traffic to the addresses while
// they are added.
func openNetEnv(in *keepalived.Instance, glob *keepalived.Global, log *slog.Logger, fw *firewall, onSent func(*Sent)) (e *netEnv, err error) {
	ifi, err := net.InterfaceByName(in.Interface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", in.Interface, err)
	}
	e = &netEnv{in: in, log: log, ifi: ifi, pf: -1, fw: fw, rx: make(chan packet, 128),
		linkCh: make(chan linkState, 16), done: make(chan struct{}), onSent: onSent}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	fam := in.Family()
	e.ll, _ = linkLocal(ifi)
	e.src = in.SrcIP()
	if !e.src.IsValid() {
		if fam == vrrp.IPv6 {
			e.src = e.ll
		} else {
			e.src, err = primaryIPv4(ifi, in)
		}
		if !e.src.IsValid() {
			return nil, fmt.Errorf("interface %s has no usable %s address to send from: %w", in.Interface, fam, errors.Join(err, errors.New("none")))
		}
	}
	group := groupOf(in, glob)
	e.filter = rxFilter{in: in, unicast: in.Unicast(), ifindex: ifi.Index, self: e.src}
	if in.Unicast() {
		e.dsts = in.UnicastPeers
	} else {
		e.dsts = []netip.Addr{group}
		e.filter.group = group
	}
	if err := e.openVRRP(group); err != nil {
		return nil, err
	}
	if e.pf, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("open packet socket for gratuitous ARP: %w", err)
	}
	// Address events serve the local VIP guard (added addresses) and the
	// restoration of a master's removed ones; watched whatever guard says.
	if err := e.watchNetlink(); err != nil {
		return nil, err
	}
	return e, nil
}

// openVRRP opens the raw socket for protocol 112 on the instance's
// interface, joining group unless unicast.
func (e *netEnv) openVRRP(group netip.Addr) (err error) {
	in, ifi := e.in, e.ifi
	if in.Family() == vrrp.IPv6 {
		if e.conn, err = net.ListenPacket("ip6:112", "::"); err != nil {
			return fmt.Errorf("open raw IPv6 socket: %w", err)
		}
		p := ipv6.NewPacketConn(e.conn)
		e.p6 = p
		err = errors.Join(
			p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
			p.SetHopLimit(advertTTL(in)), p.SetMulticastHopLimit(vrrp.TTL),
			p.SetMulticastInterface(ifi), p.SetMulticastLoopback(false))
		if err == nil && !in.Unicast() {
			err = p.JoinGroup(ifi, &net.IPAddr{IP: group.AsSlice()})
		}
	} else {
		if e.conn, err = net.ListenPacket("ip4:112", "0.0.0.0"); err != nil {
			return fmt.Errorf("open raw IPv4 socket: %w", err)
		}
		p := ipv4.NewPacketConn(e.conn)
		e.p4 = p
		err = errors.Join(
			p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
			p.SetTTL(advertTTL(in)), p.SetMulticastTTL(vrrp.TTL),
			p.SetMulticastInterface(ifi), p.SetMulticastLoopback(false))
		if err == nil && !in.Unicast() {
			err = p.JoinGroup(ifi, &net.IPAddr{IP: group.AsSlice()})
		}
	}
	if err != nil {
		return fmt.Errorf("configure VRRP socket on %s: %w", in.Interface, err)
	}
	return nil
}

func (e *netEnv) source() netip.Addr { return e.src }

// packets starts reading the receive socket into a channel (for a driver
// without the pollWaiter, which reads the socket itself).
func (e *netEnv) packets() <-chan packet {
	e.readOnce.Do(func() {
		e.wg.Add(1)
		go e.read()
	})
	return e.rx
}

func (e *netEnv) links() <-chan linkState { return e.linkCh }

func (e *netEnv) validate(p packet, a *vrrp.Advertisement) error { return e.filter.validate(p, a) }

func (e *netEnv) close() {
	e.closeMu.Do(func() {
		if e.fwHeld {
			// Not left master through delVIPs (a failed start): let go.
			if err := e.fw.update(e.vipAddrs(), -1); err != nil {
				e.log.Warn("nftables", "err", err)
			}
		}
		e.nlMu.Lock()
		close(e.done)
		if e.nl != nil {
			e.nl.Close()
		}
		e.nlMu.Unlock()
		if e.conn != nil {
			e.conn.Close()
		}
		if e.pf >= 0 {
			unix.Close(e.pf)
		}
		e.wg.Wait()
	})
}

// readPacket reads one packet with what the IP layer says of it.
func (e *netEnv) readPacket(b []byte) (packet, error) {
	p := packet{ttl: -1}
	var (
		n   int
		src net.Addr
		err error
	)
	if e.p6 != nil {
		var cm *ipv6.ControlMessage
		if n, cm, src, err = e.p6.ReadFrom(b); cm != nil {
			p.ttl, p.ifindex = cm.HopLimit, cm.IfIndex
			p.dst, _ = netip.AddrFromSlice(cm.Dst)
		}
	} else {
		var cm *ipv4.ControlMessage
		if n, cm, src, err = e.p4.ReadFrom(b); cm != nil {
			p.ttl, p.ifindex = cm.TTL, cm.IfIndex
			p.dst, _ = netip.AddrFromSlice(cm.Dst)
		}
	}
	if err != nil {
		return p, err
	}
	p.at = time.Now()
	if ia, ok := src.(*net.IPAddr); ok {
		p.src, _ = netip.AddrFromSlice(ia.IP)
	}
	p.data = append([]byte(nil), b[:n]...)
	return p, nil
}

// read delivers received packets until the socket is closed.
func (e *netEnv) read() {
	defer e.wg.Done()
	defer close(e.rx)
	b := make([]byte, 65536)
	for {
		p, err := e.readPacket(b)
		if err != nil {
			return
		}
		p.src, p.dst = p.src.Unmap().WithZone(""), p.dst.Unmap()
		select {
		case e.rx <- p:
		case <-e.done:
			return
		}
	}
}

// sendAdvert sends a to every destination, with the checksum computed for
// each (the version 3 pseudo-header includes the destination). It encodes
// into a reused buffer and writes with a raw sendmsg on the non-blocking
// socket (no allocation, and no wake-up of the Go runtime's monitor thread
// that a blocking-capable system call costs); only if the socket buffer is
// full does it fall back to the runtime's write, which waits.
func (e *netEnv) sendAdvert(a *vrrp.Advertisement) error {
	var errs []error
	for n, dst := range e.dsts {
		b, err := a.AppendMarshal(e.buf[:0], vrrp.EncodeOptions{Src: e.src, Dst: dst})
		if err != nil {
			return fmt.Errorf("encode advertisement: %w", err)
		}
		e.buf = b
		if e.tx == nil {
			e.tx = e.newSendMsgs()
		}
		if errno := e.tx[n].send(b); errno == 0 {
			e.sentTo(dst, b)
			continue
		} else if errno != unix.EAGAIN {
			errs = append(errs, fmt.Errorf("send advertisement to %s: %w", dst, errno))
			continue
		}
		ip := &net.IPAddr{IP: dst.AsSlice()}
		if e.p6 != nil {
			if dst.IsLinkLocalUnicast() {
				ip.Zone = e.ifi.Name
			}
			_, err = e.p6.WriteTo(b, &ipv6.ControlMessage{Src: e.src.AsSlice(), IfIndex: e.ifi.Index, HopLimit: advertTTL(e.in)}, ip)
		} else {
			_, err = e.p4.WriteTo(b, &ipv4.ControlMessage{Src: e.src.AsSlice(), IfIndex: e.ifi.Index}, ip)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("send advertisement to %s: %w", dst, err))
		} else {
			e.sentTo(dst, b)
		}
	}
	return errors.Join(errs...)
}

// sentTo reports an advert sent to dst to onSent, if set.
func (e *netEnv) sentTo(dst netip.Addr, b []byte) {
	if e.onSent == nil {
		return
	}
	s := &e.sent
	if s.Interface == "" {
		s.Interface, s.Src = e.ifi.Name, e.src
		copy(s.MAC[:], e.ifi.HardwareAddr)
		copy(e.ifr[:unix.IFNAMSIZ-1], e.ifi.Name)
	}
	// The interface's MAC as of now (a bond's fail_over_mac, ip link set
	// address): the frame on the wire carries it.
	if _, _, errno := unix.RawSyscall(unix.SYS_IOCTL, uintptr(e.pf), unix.SIOCGIFHWADDR, uintptr(unsafe.Pointer(&e.ifr[0]))); errno == 0 {
		copy(s.MAC[:], e.ifr[unix.IFNAMSIZ+2:unix.IFNAMSIZ+8]) // ifr_hwaddr: sa_family, then the address
	}
	s.At, s.Dst, s.Payload = time.Now(), dst, b
	s.TTL = vrrp.TTL
	if !dst.IsMulticast() {
		s.TTL = uint8(advertTTL(e.in))
	}
	e.onSent(s)
}

// sendMsg is a prepared sendmsg to one destination: its address and the
// control messages that the x/net packet connections would build (IPv4:
// IP_PKTINFO with the interface and source; IPv6: IPV6_PKTINFO and
// IPV6_HOPLIMIT).
type sendMsg struct {
	fd  int
	sa4 unix.RawSockaddrInet4
	sa6 unix.RawSockaddrInet6
	oob []byte
	iov unix.Iovec
	msg unix.Msghdr
}

// newSendMsgs prepares a sendMsg per destination.
func (e *netEnv) newSendMsgs() []*sendMsg {
	fd := -1
	if sc, ok := e.conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			_ = rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	out := make([]*sendMsg, len(e.dsts))
	for n, dst := range e.dsts {
		m := &sendMsg{fd: fd}
		if e.p6 != nil {
			m.sa6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst.As16()}
			if dst.IsLinkLocalUnicast() {
				m.sa6.Scope_id = uint32(e.ifi.Index)
			}
			m.oob = make([]byte, unix.CmsgSpace(20)+unix.CmsgSpace(4))
			h := (*unix.Cmsghdr)(unsafe.Pointer(&m.oob[0]))
			h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
			h.SetLen(unix.CmsgLen(20))
			d := m.oob[unix.CmsgLen(0):]
			src := e.src.As16()
			copy(d, src[:])
			binary.NativeEndian.PutUint32(d[16:], uint32(e.ifi.Index))
			h2 := (*unix.Cmsghdr)(unsafe.Pointer(&m.oob[unix.CmsgSpace(20)]))
			h2.Level, h2.Type = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
			h2.SetLen(unix.CmsgLen(4))
			binary.NativeEndian.PutUint32(m.oob[unix.CmsgSpace(20)+unix.CmsgLen(0):], uint32(advertTTL(e.in)))
			m.msg.Name, m.msg.Namelen = (*byte)(unsafe.Pointer(&m.sa6)), unix.SizeofSockaddrInet6
		} else {
			m.sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.As4()}
			m.oob = make([]byte, unix.CmsgSpace(12))
			h := (*unix.Cmsghdr)(unsafe.Pointer(&m.oob[0]))
			h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			h.SetLen(unix.CmsgLen(12))
			d := m.oob[unix.CmsgLen(0):]
			binary.NativeEndian.PutUint32(d, uint32(e.ifi.Index))
			src := e.src.As4()
			copy(d[4:8], src[:]) // ipi_spec_dst: the source address
			m.msg.Name, m.msg.Namelen = (*byte)(unsafe.Pointer(&m.sa4)), unix.SizeofSockaddrInet4
		}
		m.msg.Control = &m.oob[0]
		m.msg.SetControllen(len(m.oob))
		m.msg.Iov, m.msg.Iovlen = &m.iov, 1
		out[n] = m
	}
	return out
}

// send writes b with one non-blocking sendmsg.
func (m *sendMsg) send(b []byte) unix.Errno {
	if m.fd < 0 {
		return unix.EAGAIN // no descriptor: use the runtime's write
	}
	m.iov.Base = &b[0]
	m.iov.SetLen(len(b))
	_, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(m.fd), uintptr(unsafe.Pointer(&m.msg)), 0)
	return errno
}

// linkUp reports whether an interface is up and running (keepalived's
// IFF_UP and IFF_RUNNING).
func (e *netEnv) linkUp(name string) (bool, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", name, err)
	}
	return linkIsUp(l.Attrs().RawFlags), nil
}

func linkIsUp(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}

func (e *netEnv) addrs() <-chan addrEvent { return e.addrCh }

// watchNetlink subscribes, on one netlink socket read by one goroutine, to
// link changes of the instance's interface and its tracked interfaces,
// and to address events for the local VIP guard and the restoration of
// removed virtual addresses (those of the instance's virtual addresses are
// forwarded). If the subscription ends (the kernel drops events when its
// socket buffer overflows: ENOBUFS) it subscribes again, retrying every
// second, reports each watched link's state as it is then and asks the
// driver to rescan the addresses, so a change lost with the old
// subscription is not missed for good.
func (e *netEnv) watchNetlink() error {
	names := map[string]bool{e.in.Interface: true}
	for _, t := range e.in.TrackInterfaces {
		names[t.Name] = true
	}
	want := map[netip.Addr]bool{}
	for _, v := range e.allVIPs() {
		want[v.Prefix.Addr()] = true
	}
	e.addrCh = make(chan addrEvent, 16)
	w, err := nlwatch.Open(nlwatch.Links | nlwatch.Addrs)
	if err != nil {
		return fmt.Errorf("watch links and addresses: %w", err)
	}
	e.nlMu.Lock()
	e.nl = w
	e.nlMu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		last := map[string]bool{}
		report := func(name string, up bool) {
			if prev, seen := last[name]; seen && prev == up {
				return
			}
			last[name] = up
			select {
			case e.linkCh <- linkState{name: name, up: up}:
			case <-e.done:
			}
		}
		h := nlwatch.Handler{
			Link: func(l nlwatch.Link) {
				if names[l.Name] {
					report(l.Name, !l.Deleted && linkIsUp(l.Flags))
				}
			},
			Addr: func(a nlwatch.Addr) {
				if ev, ok := e.addrEvent(a, want); ok {
					e.sendAddr(ev)
				}
			},
		}
		for {
			err := w.Read(h) // until the subscription ends
			select {
			case <-e.done: // closing: the socket went away
				return
			default:
			}
			e.log.Warn("link and address watch", "err", err)
			w.Close()
			if w = e.resubscribe(); w == nil {
				return
			}
			for name := range names {
				up, err := e.linkUp(name)
				report(name, up && err == nil)
			}
			e.sendAddr(addrEvent{rescan: true, at: time.Now()})
		}
	}()
	return nil
}

// resubscribe replaces an ended netlink subscription, retrying every
// second; nil once e is closed.
func (e *netEnv) resubscribe() *nlwatch.Watch {
	for {
		w, err := nlwatch.Open(nlwatch.Links | nlwatch.Addrs)
		if err == nil {
			e.nlMu.Lock()
			defer e.nlMu.Unlock()
			select {
			case <-e.done:
				w.Close()
				return nil
			default:
			}
			e.nl = w
			return w
		}
		e.log.Warn("link and address watch: subscribe again", "err", err)
		select {
		case <-e.done:
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (e *netEnv) addrEvent(u nlwatch.Addr, want map[netip.Addr]bool) (addrEvent, bool) {
	at := time.Now()
	a := u.Prefix.Addr().Unmap()
	if !want[a] {
		return addrEvent{}, false
	}
	l, err := netlink.LinkByIndex(u.Index)
	if err != nil {
		e.log.Warn("address watch: interface of a virtual address", "address", a, "ifindex", u.Index, "err", err)
		return addrEvent{}, false
	}
	return addrEvent{dev: l.Attrs().Name, prefix: netip.PrefixFrom(a, u.Prefix.Bits()), at: at, deleted: u.Deleted}, true
}

func (e *netEnv) sendAddr(ev addrEvent) {
	select {
	case e.addrCh <- ev:
	case <-e.done:
	}
}

// presentVIPs lists the instance's virtual addresses configured now on
// their interfaces.
func (e *netEnv) presentVIPs() ([]addrEvent, error) {
	now := time.Now()
	lists := map[string][]netlink.Addr{}
	var out []addrEvent
	var errs []error
	for _, v := range e.allVIPs() {
		dev := vipDev(e.in, v)
		addrs, seen := lists[dev]
		if !seen {
			l, err := netlink.LinkByName(dev)
			if err == nil {
				addrs, err = netlink.AddrList(l, netlink.FAMILY_ALL)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("addresses of %s: %w", dev, err))
			}
			lists[dev] = addrs
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if ok && ip.Unmap() == v.Prefix.Addr() {
				ones, _ := a.Mask.Size()
				out = append(out, addrEvent{dev: dev, prefix: netip.PrefixFrom(ip.Unmap(), ones), at: now})
			}
		}
	}
	return out, errors.Join(errs...)
}

// delAddr removes an address with the prefix length it was found with.
func (e *netEnv) delAddr(a addrEvent) (bool, error) {
	l, err := netlink.LinkByName(a.dev)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return false, nil
		}
		return false, fmt.Errorf("remove %s from %s: %w", a.prefix, a.dev, err)
	}
	ip := a.prefix.Addr()
	na := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(a.prefix.Bits(), ip.BitLen())}}
	err = netlink.AddrDel(l, na)
	if errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove %s from %s: %w", a.prefix, a.dev, err)
	}
	return true, nil
}

// vipAddr converts a configured VIP into a netlink address and its link.
func (e *netEnv) vipAddr(v keepalived.VIP) (netlink.Link, *netlink.Addr, error) {
	dev := v.Dev
	if dev == "" {
		dev = e.in.Interface
	}
	l, err := netlink.LinkByName(dev)
	if err != nil {
		return nil, nil, fmt.Errorf("address %s: interface %s: %w", v.Prefix, dev, err)
	}
	a := v.Prefix.Addr()
	ipn := &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(v.Prefix.Bits(), a.BitLen())}
	na := &netlink.Addr{IPNet: ipn, Label: v.Label}
	if a.Is6() {
		na.Flags = unix.IFA_F_NODAD
	} else {
		switch v.Brd {
		case "", "-":
		case "+":
			b := a.As4()
			m := binary.BigEndian.Uint32(b[:]) | ^binary.BigEndian.Uint32(ipn.Mask)
			binary.BigEndian.PutUint32(b[:], m)
			na.Broadcast = net.IP(b[:])
		default:
			na.Broadcast = net.ParseIP(v.Brd)
		}
	}
	if v.Peer.IsValid() {
		na.Peer = &net.IPNet{IP: v.Peer.AsSlice(), Mask: net.CIDRMask(v.Peer.BitLen(), v.Peer.BitLen())}
	}
	if v.Scope != "" {
		s, err := parseScope(v.Scope)
		if err != nil {
			return nil, nil, fmt.Errorf("address %s: %w", v.Prefix, err)
		}
		na.Scope = s
	}
	return l, na, nil
}

func parseScope(s string) (int, error) {
	switch s {
	case "global", "universe":
		return unix.RT_SCOPE_UNIVERSE, nil
	case "site":
		return unix.RT_SCOPE_SITE, nil
	case "link":
		return unix.RT_SCOPE_LINK, nil
	case "host":
		return unix.RT_SCOPE_HOST, nil
	case "nowhere":
		return unix.RT_SCOPE_NOWHERE, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown scope %q", s)
	}
	return int(n), nil
}

func (e *netEnv) allVIPs() []keepalived.VIP {
	return append(append([]keepalived.VIP(nil), e.in.VIPs...), e.in.ExcludedVIPs...)
}

// addVIPs becomes master on the system, in keepalived's order: the
// firewall drop rule (no accept mode), the virtual addresses (present ones
// are kept), virtual_routes, virtual_rules.
func (e *netEnv) addVIPs() error {
	var errs []error
	if e.fw != nil && !e.fwHeld {
		if err := e.fw.update(e.vipAddrs(), 1); err != nil {
			errs = append(errs, err)
		} else {
			e.fwHeld = true
		}
	}
	if e.own == nil {
		e.own = owned{}
	}
	errs = append(errs, e.eachVIP("add", func(v keepalived.VIP) bool { return true }, netlink.AddrAdd, syscall.EEXIST),
		addRoutes(e.in.Routes, e.own), addRules(e.in.Rules, e.own))
	return errors.Join(errs...)
}

// delVIPs undoes addVIPs in reverse order: virtual_rules, virtual_routes,
// the virtual addresses (absent ones are fine; never the instance's own
// source address, an address owner's real address), the firewall rule.
//
// Routes and rules: the first call (start-up, or leaving master for the
// first time) removes every configured one, as keepalived's start-up
// cleanup does after a crash; later calls only those this run added.
func (e *netEnv) delVIPs() error {
	own := e.own
	if !e.cleaned {
		own, e.cleaned = nil, true
	}
	errs := []error{delRules(e.in.Rules, own), delRoutes(e.in.Routes, own),
		e.eachVIP("remove", func(v keepalived.VIP) bool { return v.Prefix.Addr() != e.src }, netlink.AddrDel,
			syscall.EADDRNOTAVAIL, syscall.ENOENT, syscall.ESRCH)}
	if e.fwHeld {
		if err := e.fw.update(e.vipAddrs(), -1); err != nil {
			errs = append(errs, err)
		} else {
			e.fwHeld = false
		}
	}
	return errors.Join(errs...)
}

// vipAddrs lists the addresses of the instance's virtual addresses.
func (e *netEnv) vipAddrs() []netip.Addr {
	var out []netip.Addr
	for _, v := range e.allVIPs() {
		out = append(out, v.Prefix.Addr())
	}
	return out
}

// eachVIP applies op to every virtual address that pick selects; errors
// in fine are success (already done).
func (e *netEnv) eachVIP(what string, pick func(keepalived.VIP) bool, op func(netlink.Link, *netlink.Addr) error, fine ...syscall.Errno) error {
	var errs []error
	for _, v := range e.allVIPs() {
		if !pick(v) {
			continue
		}
		l, a, err := e.vipAddr(v)
		if err == nil {
			err = op(l, a)
			for _, f := range fine {
				if errors.Is(err, f) {
					err = nil
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", what, v.Prefix, err))
		}
	}
	return errors.Join(errs...)
}

// announce sends a gratuitous ARP (request, sender = target = VIP,
// broadcast) per IPv4 virtual address and an unsolicited neighbour
// advertisement (override flag, to ff02::1) per IPv6 one.
func (e *netEnv) announce() error {
	var errs []error
	// The interface as of now: its MAC may have changed since the start
	// (a bond's fail_over_mac, ip link set address), and announcing the
	// old one would send the addresses' traffic to nowhere.
	cur := e.ifi
	if fresh, err := net.InterfaceByName(e.ifi.Name); err == nil {
		cur = fresh
	}
	for _, v := range e.allVIPs() {
		ifi, own := cur, true
		if v.Dev != "" && v.Dev != e.in.Interface {
			own = false
			var err error
			if ifi, err = net.InterfaceByName(v.Dev); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if len(ifi.HardwareAddr) != 6 {
			continue // not Ethernet
		}
		a := v.Prefix.Addr()
		var frame []byte
		var dst [8]byte
		var proto uint16
		if a.Is4() {
			frame = l2frame.GARP([6]byte(ifi.HardwareAddr), a)
			copy(dst[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			proto = unix.ETH_P_ARP
		} else {
			src := e.ll
			if !own {
				src, _ = linkLocal(ifi)
			}
			if !src.IsValid() {
				src = a
			}
			frame = l2frame.UnsolicitedNA([6]byte(ifi.HardwareAddr), src, a)
			copy(dst[:], []byte{0x33, 0x33, 0, 0, 0, 1})
			proto = unix.ETH_P_IPV6
		}
		sa := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifi.Index, Halen: 6, Addr: dst}
		if err := unix.Sendto(e.pf, frame, 0, sa); err != nil {
			errs = append(errs, fmt.Errorf("announce %s on %s: %w", a, ifi.Name, err))
		}
	}
	return errors.Join(errs...)
}

// pollWaiter is the driver's waiter on Linux: an epoll set of the receive
// socket, a timerfd for the deadlines (precise to microseconds, like
// keepalived's, where a Go timer can be up to a millisecond late) and an
// eventfd for the rare events, itself waited on through the Go runtime's
// poller by the driver's goroutine. An advertisement received or due thus
// costs one wake-up of one goroutine and no allocation. The rare events
// (links, scripts, control, addresses, the end) are forwarded by a
// goroutine of their own, which kicks the eventfd.
type pollWaiter struct {
	e        *netEnv
	ep       *os.File // the epoll set, in Go's poller
	rc       syscall.RawConn
	tfd, efd int
	sock     int
	armed    time.Time // what tfd is set to (zero: disarmed or expired)
	rare     chan event
	stop     chan struct{}
	wg       sync.WaitGroup
	evs      [4]unix.EpollEvent
	readable bool // the socket has data (level-triggered)
	streak   int  // packets returned since the socket was last drained or a deadline passed
	// epollWait is rc.Read's callback, made once (a closure per wait
	// allocated twice per advert); it leaves the count of events in nevs.
	epollWait func(fd uintptr) bool
	nevs      int
	// Receive buffers, reused: a received packet's data is valid until
	// the next wait.
	buf []byte
	oob [128]byte
	sa  unix.RawSockaddrAny
	iov unix.Iovec
	msg unix.Msghdr
}

// maxStreak is how many packets in a row a pollWaiter returns while a
// deadline has passed before it returns the deadline.
const maxStreak = 16

// newWaiter returns a pollWaiter on the receive socket; the packets
// channel is then never used.
func (e *netEnv) newWaiter(src sources) (w waiter, err error) {
	pw := &pollWaiter{e: e, tfd: -1, efd: -1, sock: -1, rare: make(chan event, 16), stop: make(chan struct{}),
		buf: make([]byte, 65536)}
	pw.epollWait = func(fd uintptr) bool {
		r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&pw.evs[0])), uintptr(len(pw.evs)), 0, 0, 0)
		pw.nevs = int(r)
		if errno != 0 {
			pw.nevs = 0
			return errno != unix.EINTR && errno != unix.EAGAIN
		}
		return pw.nevs > 0
	}
	defer func() {
		if err != nil {
			pw.closeFds()
		}
	}()
	sc, ok := e.conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("receive socket has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	if err := rc.Control(func(fd uintptr) { pw.sock = int(fd) }); err != nil {
		return nil, err
	}
	if pw.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	if pw.efd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	for _, fd := range []int{pw.tfd, pw.efd, pw.sock} {
		if err == nil {
			err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
		}
	}
	if err == nil {
		err = unix.SetNonblock(epfd, true)
	}
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	pw.ep = os.NewFile(uintptr(epfd), "epoll")
	if pw.rc, err = pw.ep.SyscallConn(); err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	pw.wg.Add(1)
	go pw.forward(src)
	return pw, nil
}

// forward hands the rare events to the loop and kicks the eventfd.
func (pw *pollWaiter) forward(src sources) {
	defer pw.wg.Done()
	one := [8]byte{1}
	for {
		ev := src.block(nil, nil, pw.stop)
		select {
		case pw.rare <- ev:
		case <-pw.stop:
			return
		}
		_, _ = unix.Write(pw.efd, one[:])
		if ev.kind == evDone {
			return
		}
	}
}

func (pw *pollWaiter) wait(deadline time.Time) event {
	for {
		select {
		case ev := <-pw.rare:
			return ev
		default:
		}
		// Packets already received go first (an advert that arrived
		// before the deadline must not lose to it), but a flood that keeps
		// the socket busy yields to a passed deadline every maxStreak
		// packets: a master keeps advertising under any load.
		due := !deadline.IsZero() && !time.Now().Before(deadline)
		if pw.readable && (!due || pw.streak < maxStreak) {
			if ev, ok := pw.receive(); ok {
				pw.streak++
				return ev
			}
		}
		pw.streak = 0
		if due {
			return event{kind: evTimer}
		}
		pw.arm(deadline)
		pw.nevs = 0
		if err := pw.rc.Read(pw.epollWait); err != nil {
			return event{kind: evClosed}
		}
		for _, ev := range pw.evs[:pw.nevs] {
			switch int(ev.Fd) {
			case pw.tfd:
				pw.drain(pw.tfd)
				pw.armed = time.Time{}
			case pw.efd:
				pw.drain(pw.efd)
			case pw.sock:
				pw.readable = true
			}
		}
	}
}

// receive reads one packet; ok false when there is none (the socket is
// drained).
func (pw *pollWaiter) receive() (event, bool) {
	for {
		p, ok, errno := pw.recv()
		switch {
		case errno == unix.EAGAIN || errno == unix.EINTR:
			pw.readable = false
			return event{}, false
		case errno != 0:
			return event{kind: evClosed}, true
		case ok:
			return event{kind: evPacket, p: p}, true
		}
		// Not an IPv4 packet with a header: skip it.
	}
}

// recv reads one packet from the raw socket without blocking and without
// allocating (its data is in pw.buf): for IPv4 the kernel hands over the
// IP header, which gives the source, destination and TTL; for IPv6 the
// source comes from the socket address and the destination and hop limit
// from control messages. The interface index comes from the packet-info
// control message of either family.
func (pw *pollWaiter) recv() (packet, bool, unix.Errno) {
	pw.iov = unix.Iovec{Base: &pw.buf[0]}
	pw.iov.SetLen(len(pw.buf))
	pw.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&pw.sa)), Namelen: uint32(unsafe.Sizeof(pw.sa)), Iov: &pw.iov, Iovlen: 1,
		Control: &pw.oob[0]}
	pw.msg.SetControllen(len(pw.oob))
	n, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(pw.sock), uintptr(unsafe.Pointer(&pw.msg)), 0)
	if errno != 0 {
		return packet{}, false, errno
	}
	p := packet{ttl: -1, at: time.Now()}
	b := pw.buf[:n]
	six := pw.e.p6 != nil
	oob := pw.oob[:pw.msg.Controllen]
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		data := oob[hdr:l]
		switch {
		case !six && h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= 4:
			p.ifindex = int(binary.NativeEndian.Uint32(data))
		case six && h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= 20:
			p.dst = netip.AddrFrom16([16]byte(data[:16]))
			p.ifindex = int(binary.NativeEndian.Uint32(data[16:]))
		case six && h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT && len(data) >= 4:
			p.ttl = int(int32(binary.NativeEndian.Uint32(data)))
		}
		next := unix.CmsgSpace(l - hdr)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	if six {
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&pw.sa))
		p.src = netip.AddrFrom16(sa.Addr)
		p.data = b
	} else {
		if len(b) < 20 || b[0]>>4 != 4 {
			return packet{}, false, 0
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return packet{}, false, 0
		}
		p.src = netip.AddrFrom4([4]byte(b[12:16]))
		p.dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.ttl = int(b[8])
		p.data = b[ihl:]
	}
	p.src, p.dst = p.src.Unmap(), p.dst.Unmap()
	return p, true, 0
}

// arm sets the timerfd to expire at deadline (disarms it for zero).
func (pw *pollWaiter) arm(deadline time.Time) {
	if deadline.Equal(pw.armed) {
		return
	}
	var spec unix.ItimerSpec
	if !deadline.IsZero() {
		spec.Value = unix.NsecToTimespec(max(int64(time.Until(deadline)), 1))
	}
	_, _, _ = unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(pw.tfd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	pw.armed = deadline
}

// drain reads a timerfd's or eventfd's counter (clearing its readiness).
func (pw *pollWaiter) drain(fd int) {
	var b [8]byte
	_, _, _ = unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

func (pw *pollWaiter) close() {
	close(pw.stop)
	pw.wg.Wait()
	pw.closeFds()
}

func (pw *pollWaiter) closeFds() {
	if pw.ep != nil {
		pw.ep.Close()
	}
	for _, fd := range []int{pw.tfd, pw.efd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// linkLocal returns an IPv6 link-local address of the interface.
func linkLocal(ifi *net.Interface) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Is6() && ip.IsLinkLocalUnicast() {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, errors.New("no IPv6 link-local address")
}

// primaryIPv4 returns the first primary (not secondary) IPv4 address of the
// interface that is not one of the instance's virtual addresses.
func primaryIPv4(ifi *net.Interface, in *keepalived.Instance) (netip.Addr, error) {
	l, err := netlink.LinkByIndex(ifi.Index)
	if err != nil {
		return netip.Addr{}, err
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, err
	}
	isVIP := func(a netip.Addr) bool {
		for _, v := range in.VIPs {
			if v.Prefix.Addr() == a {
				return true
			}
		}
		return false
	}
	var fallback netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok || isVIP(ip) {
			continue
		}
		if a.Flags&unix.IFA_F_SECONDARY == 0 {
			return ip, nil
		}
		if !fallback.IsValid() {
			fallback = ip
		}
	}
	return fallback, nil
}
