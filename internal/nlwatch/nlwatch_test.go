package nlwatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// nlmsg builds a netlink message of typ with body and attributes.
func nlmsg(typ uint16, body []byte, attrs ...[]byte) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN)
	b = append(b, body...)
	for _, a := range attrs {
		b = append(b, a...)
	}
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	return append(b, make([]byte, nlmAlign(len(b))-len(b))...)
}

// rtattr builds a route attribute, padded.
func rtattr(typ uint16, v []byte) []byte {
	b := make([]byte, unix.SizeofRtAttr, rtaAlign(unix.SizeofRtAttr+len(v)))
	binary.NativeEndian.PutUint16(b[0:2], uint16(unix.SizeofRtAttr+len(v)))
	binary.NativeEndian.PutUint16(b[2:4], typ)
	b = append(b, v...)
	return b[:cap(b)]
}

func ifinfo(index int32, flags uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	binary.NativeEndian.PutUint32(b[8:12], flags)
	return b
}

func ifaddr(fam, plen byte, index uint32) []byte {
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0], b[1] = fam, plen
	binary.NativeEndian.PutUint32(b[4:8], index)
	return b
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

// event is what a Handler got, for comparison.
type event struct {
	Link *Link
	Addr *Addr
}

// lines formats events one a line, for testenv.DiffLines.
func lines(evs []event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Link != nil {
			out = append(out, fmt.Sprintf("link %+v", *ev.Link))
		}
		if ev.Addr != nil {
			out = append(out, fmt.Sprintf("addr %+v", *ev.Addr))
		}
	}
	return out
}

func collect(b []byte) ([]event, error) {
	var got []event
	err := dispatch(b, Handler{
		Link: func(l Link) { got = append(got, event{Link: &l}) },
		Addr: func(a Addr) { got = append(got, event{Addr: &a}) },
	})
	return got, err
}

// bridgeFamily sets an ifinfomsg's family to AF_BRIDGE.
func bridgeFamily(b []byte) []byte {
	b[0] = unix.AF_BRIDGE
	return b
}

// FuzzDispatch: any bytes from the netlink socket give events or an
// error, never a panic.
func FuzzDispatch(f *testing.F) {
	up := uint32(unix.IFF_UP | unix.IFF_RUNNING)
	f.Add(nlmsg(unix.RTM_NEWLINK, ifinfo(7, up), rtattr(unix.IFLA_IFNAME, []byte("eth0\x00"))))
	f.Add(nlmsg(unix.RTM_NEWADDR, ifaddr(unix.AF_INET, 32, 3), rtattr(unix.IFA_ADDRESS, ip("10.0.0.9")), rtattr(unix.IFA_LOCAL, ip("10.0.0.5"))))
	f.Add(nlmsg(unix.RTM_DELADDR, ifaddr(unix.AF_INET6, 64, 4), rtattr(unix.IFA_ADDRESS, ip("2001:db8::1"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = collect(b)
	})
}

func TestDispatch(t *testing.T) {
	up := uint32(unix.IFF_UP | unix.IFF_RUNNING)
	tests := []struct {
		name    string
		in      []byte
		want    []event
		wantErr bool
	}{
		{
			name: "new and deleted link",
			in: append(nlmsg(unix.RTM_NEWLINK, ifinfo(7, up), rtattr(unix.IFLA_MTU, []byte{0, 5, 0, 0}), rtattr(unix.IFLA_IFNAME, []byte("eth0\x00"))),
				nlmsg(unix.RTM_DELLINK, ifinfo(8, 0), rtattr(unix.IFLA_IFNAME, []byte("veth12\x00")))...),
			want: []event{{Link: &Link{Index: 7, Name: "eth0", Flags: up}}, {Link: &Link{Index: 8, Name: "veth12", Deleted: true}}},
		},
		{
			name: "a bridge port's messages of family AF_BRIDGE skipped (the port leaving its bridge is no deleted link)",
			in: append(nlmsg(unix.RTM_DELLINK, bridgeFamily(ifinfo(9, up)), rtattr(unix.IFLA_IFNAME, []byte("eth1\x00"))),
				nlmsg(unix.RTM_NEWLINK, ifinfo(9, up), rtattr(unix.IFLA_IFNAME, []byte("eth1\x00")))...),
			want: []event{{Link: &Link{Index: 9, Name: "eth1", Flags: up}}},
		},
		{
			name: "IPv4 address: local and address equal",
			in:   nlmsg(unix.RTM_NEWADDR, ifaddr(unix.AF_INET, 24, 3), rtattr(unix.IFA_ADDRESS, ip("10.0.0.5")), rtattr(unix.IFA_LOCAL, ip("10.0.0.5"))),
			want: []event{{Addr: &Addr{Index: 3, Prefix: netip.MustParsePrefix("10.0.0.5/24")}}},
		},
		{
			name: "IPv4 point-to-point: the local side, full length",
			in:   nlmsg(unix.RTM_NEWADDR, ifaddr(unix.AF_INET, 32, 3), rtattr(unix.IFA_ADDRESS, ip("10.0.0.9")), rtattr(unix.IFA_LOCAL, ip("10.0.0.5"))),
			want: []event{{Addr: &Addr{Index: 3, Prefix: netip.MustParsePrefix("10.0.0.5/32")}}},
		},
		{
			name: "IPv6 address deleted",
			in:   nlmsg(unix.RTM_DELADDR, ifaddr(unix.AF_INET6, 64, 4), rtattr(unix.IFA_ADDRESS, ip("2001:db8::1")), rtattr(unix.IFA_FLAGS, []byte{0, 0, 0, 0})),
			want: []event{{Addr: &Addr{Index: 4, Prefix: netip.MustParsePrefix("2001:db8::1/64"), Deleted: true}}},
		},
		{
			name: "other family and other messages skipped",
			in: append(nlmsg(unix.RTM_NEWADDR, ifaddr(unix.AF_UNSPEC, 0, 4)),
				nlmsg(unix.RTM_NEWROUTE, make([]byte, 12))...),
		},
		{
			name:    "message longer than the buffer",
			in:      nlmsg(unix.RTM_NEWLINK, ifinfo(1, 0))[:unix.NLMSG_HDRLEN+4],
			wantErr: true,
		},
		{
			name:    "short link message",
			in:      nlmsg(unix.RTM_NEWLINK, make([]byte, 8)),
			wantErr: true,
		},
		{
			name:    "attribute longer than the message",
			in:      nlmsg(unix.RTM_NEWLINK, ifinfo(1, 0), []byte{200, 0, 3, 0}),
			wantErr: true,
		},
		{
			name:    "address with a prefix longer than the address",
			in:      nlmsg(unix.RTM_NEWADDR, ifaddr(unix.AF_INET, 40, 3), rtattr(unix.IFA_ADDRESS, ip("10.0.0.5"))),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("dispatch: err %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := testenv.DiffLines(lines(tt.want), lines(got)); diff != "" {
				t.Errorf("dispatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenNoGroup(t *testing.T) {
	if _, err := Open(0); err == nil {
		t.Fatal("Open(0): no error")
	}
}

// TestWatchNamespace subscribes in a new network namespace, adds a veth
// pair and an address to one side, removes it, and expects the notifications;
// then Close ends the Read.
func TestWatchNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	type result struct {
		w   *Watch
		h   *netlink.Handle
		err error
	}
	res := make(chan result, 1)
	go func() {
		// This thread enters the new namespace and is never unlocked, so
		// it ends with the goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			res <- result{err: err}
			return
		}
		w, err := Open(Links | Addrs)
		if err != nil {
			res <- result{err: err}
			return
		}
		h, err := netlink.NewHandle()
		res <- result{w, h, err}
	}()
	r := <-res
	if r.err != nil {
		t.Skipf("network namespace: %v", r.err)
	}
	defer r.h.Close()
	events := make(chan event, 64)
	done := make(chan error, 1)
	go func() {
		done <- r.w.Read(Handler{
			Link: func(l Link) { events <- event{Link: &l} },
			Addr: func(a Addr) { events <- event{Addr: &a} },
		})
	}()
	la := netlink.NewLinkAttrs()
	la.Name = "nlw0"
	if err := r.h.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "nlw1"}); err != nil {
		t.Fatalf("add veth pair: %v", err)
	}
	l, err := r.h.LinkByName("nlw0")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.h.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	if err := r.h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("192.0.2.7").To4(), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	if err := r.h.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	idx := l.Attrs().Index
	var sawUp, sawAddr, sawDel bool
	for timeout := time.After(5 * time.Second); !(sawUp && sawAddr && sawDel); {
		select {
		case ev := <-events:
			switch {
			case ev.Link != nil && ev.Link.Name == "nlw0" && ev.Link.Index == idx:
				if ev.Link.Deleted {
					sawDel = true
				} else if ev.Link.Flags&unix.IFF_UP != 0 {
					sawUp = true
				}
			case ev.Addr != nil && ev.Addr.Index == idx && !ev.Addr.Deleted:
				if want := netip.MustParsePrefix("192.0.2.7/24"); ev.Addr.Prefix != want {
					t.Errorf("address %v, want %v", ev.Addr.Prefix, want)
				}
				sawAddr = true
			}
		case err := <-done:
			t.Fatalf("Read ended: %v", err)
		case <-timeout:
			t.Fatalf("after 5 s: link up %v, address %v, link deleted %v", sawUp, sawAddr, sawDel)
		}
	}
	if err := r.w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not end after Close")
	}
}
