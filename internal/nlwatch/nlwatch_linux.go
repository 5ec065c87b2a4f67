// Package nlwatch reads rtnetlink notifications (RFC 3549) of link and
// address changes from one netlink socket, through the Go runtime's
// poller, on the caller's goroutine: no goroutine of its own and a
// page-sized receive buffer on the heap (grown only for a larger message).
// It decodes only what vrrpguard uses of a notification: a link's index,
// name and flags, an address with its prefix length and interface index.
package nlwatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Groups selects the notifications a Watch receives.
type Groups uint32

const (
	// Links: links added, changed or removed (RTNLGRP_LINK).
	Links Groups = 1 << iota
	// Addrs: IPv4 and IPv6 addresses added or removed
	// (RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR).
	Addrs
)

// Link is a link notification (RTM_NEWLINK or RTM_DELLINK).
type Link struct {
	Index   int
	Name    string // IFLA_IFNAME
	Flags   uint32 // ifi_flags (IFF_UP, IFF_RUNNING, …)
	Deleted bool   // RTM_DELLINK
}

// Addr is an address notification (RTM_NEWADDR or RTM_DELADDR).
type Addr struct {
	Index int // interface index
	// Prefix is the local address with the prefix length of the
	// notification; a point-to-point address whose peer differs has its
	// full length (as `ip addr` shows the local side).
	Prefix  netip.Prefix
	Deleted bool // RTM_DELADDR
}

// Handler receives the notifications a Read decodes; either may be nil.
type Handler struct {
	Link func(Link)
	Addr func(Addr)
}

// Watch is a netlink socket subscribed to some groups of rtnetlink
// notifications, in the network namespace of the thread that opened it.
type Watch struct {
	f      *os.File
	buf    []byte
	closed atomic.Bool
}

// Open subscribes to groups in the calling thread's network namespace.
// Notifications are queued in the socket from then on; read them with
// Read.
func Open(groups Groups) (*Watch, error) {
	var mask uint32
	if groups&Links != 0 {
		mask |= unix.RTMGRP_LINK
	}
	if groups&Addrs != 0 {
		mask |= unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR
	}
	if mask == 0 {
		return nil, errors.New("nlwatch: no group to subscribe to")
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("nlwatch: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: mask}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("nlwatch: subscribe: %w", err)
	}
	// A non-blocking descriptor goes into the runtime poller.
	return &Watch{f: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, os.Getpagesize())}, nil
}

// Close ends the subscription; a Read in progress returns os.ErrClosed.
func (w *Watch) Close() error {
	w.closed.Store(true)
	return w.f.Close()
}

// Read waits for notifications and hands each to h, until the socket
// fails or is closed: it returns os.ErrClosed (wrapped) after Close, and
// ENOBUFS (wrapped) when the kernel dropped notifications because the
// socket's buffer was full — then subscribe again and look at the state
// as it is. Messages not from the kernel, and kinds h does not take, are
// skipped; a malformed notification is an error.
func (w *Watch) Read(h Handler) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("nlwatch: %w", err)
	}
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			// Peek at the length first: a notification larger than the
			// buffer grows it instead of being cut.
			n, _, rerr = unix.Recvfrom(int(fd), w.buf, unix.MSG_PEEK|unix.MSG_TRUNC)
			if rerr == nil && n > len(w.buf) {
				w.buf = make([]byte, n)
			}
			if rerr == nil {
				n, from, rerr = unix.Recvfrom(int(fd), w.buf, 0)
			}
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			if w.closed.Load() {
				return fmt.Errorf("nlwatch: %w", os.ErrClosed)
			}
			return fmt.Errorf("nlwatch: receive: %w", err)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not the kernel's
		}
		if err := dispatch(w.buf[:n], h); err != nil {
			return err
		}
	}
}

// dispatch decodes the netlink messages in b and hands them to h.
func dispatch(b []byte, h Handler) error {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return fmt.Errorf("nlwatch: message of %d bytes in %d", l, len(b))
		}
		body := b[unix.NLMSG_HDRLEN:l]
		switch typ {
		case unix.RTM_NEWLINK, unix.RTM_DELLINK:
			// AF_BRIDGE messages are about a bridge port's bridging (an
			// RTM_DELLINK of that family when a port leaves its bridge,
			// `ip link set X nomaster`): the link itself stays.
			if h.Link != nil && !(len(body) > 0 && body[0] == unix.AF_BRIDGE) {
				ln, err := parseLink(body)
				if err != nil {
					return err
				}
				ln.Deleted = typ == unix.RTM_DELLINK
				h.Link(ln)
			}
		case unix.RTM_NEWADDR, unix.RTM_DELADDR:
			if h.Addr != nil {
				a, ok, err := parseAddr(body)
				if err != nil {
					return err
				}
				if ok {
					a.Deleted = typ == unix.RTM_DELADDR
					h.Addr(a)
				}
			}
		}
		b = b[min(nlmAlign(l), len(b)):]
	}
	return nil
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
func rtaAlign(n int) int { return (n + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1) }

// attrs calls f for every route attribute in b.
func attrs(b []byte, f func(typ uint16, v []byte)) error {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < unix.SizeofRtAttr || l > len(b) {
			return fmt.Errorf("nlwatch: attribute of %d bytes in %d", l, len(b))
		}
		f(binary.NativeEndian.Uint16(b[2:4])&^unix.NLA_F_NESTED, b[unix.SizeofRtAttr:l])
		b = b[min(rtaAlign(l), len(b)):]
	}
	return nil
}

// parseLink decodes an ifinfomsg and its IFLA_IFNAME.
func parseLink(b []byte) (Link, error) {
	if len(b) < unix.SizeofIfInfomsg {
		return Link{}, fmt.Errorf("nlwatch: link message of %d bytes", len(b))
	}
	ln := Link{Index: int(int32(binary.NativeEndian.Uint32(b[4:8]))), Flags: binary.NativeEndian.Uint32(b[8:12])}
	err := attrs(b[unix.SizeofIfInfomsg:], func(typ uint16, v []byte) {
		if typ == unix.IFLA_IFNAME {
			for len(v) > 0 && v[len(v)-1] == 0 {
				v = v[:len(v)-1]
			}
			ln.Name = string(v)
		}
	})
	return ln, err
}

// parseAddr decodes an ifaddrmsg and its IFA_LOCAL and IFA_ADDRESS; false
// for a family other than IPv4 and IPv6 or a message without an address.
func parseAddr(b []byte) (Addr, bool, error) {
	if len(b) < unix.SizeofIfAddrmsg {
		return Addr{}, false, fmt.Errorf("nlwatch: address message of %d bytes", len(b))
	}
	fam, plen := b[0], int(b[1])
	a := Addr{Index: int(binary.NativeEndian.Uint32(b[4:8]))}
	var local, addr netip.Addr
	err := attrs(b[unix.SizeofIfAddrmsg:], func(typ uint16, v []byte) {
		switch typ {
		case unix.IFA_LOCAL:
			local, _ = netip.AddrFromSlice(v)
		case unix.IFA_ADDRESS:
			addr, _ = netip.AddrFromSlice(v)
		}
	})
	if err != nil || fam != unix.AF_INET && fam != unix.AF_INET6 {
		return Addr{}, false, err
	}
	// IPv4 sends IFA_LOCAL and IFA_ADDRESS (the peer's, if any); IPv6
	// IFA_ADDRESS alone unless point-to-point.
	switch {
	case local.IsValid() && (!addr.IsValid() || addr != local):
		a.Prefix = netip.PrefixFrom(local, local.BitLen())
	case addr.IsValid():
		a.Prefix = netip.PrefixFrom(addr, plen)
	default:
		return Addr{}, false, nil
	}
	if !a.Prefix.IsValid() {
		return Addr{}, false, fmt.Errorf("nlwatch: address %s with prefix length %d", addr, plen)
	}
	return a, true, nil
}
