package netlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Host is a network namespace attached to the lab's bridge through its
// interface eth0. [Lab.Bridge] returns a Host for the bridge namespace
// itself, which has no eth0.
type Host struct {
	lab       *Lab
	name      string
	ns        string
	idx       int
	mac       net.HardwareAddr
	linkLocal netip.Addr
	port      string // its veth peer, a port of br0 in the bridge namespace
	bridge    bool
}

var hostName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,19}$`)

// AddHost creates a host: a namespace whose eth0 is one end of a veth pair
// (the other end is a port of br0), with the given addresses (CIDR, e.g.
// "10.99.0.1/24" or "fd99::1/64") on eth0, lo and eth0 up, and IPv6
// duplicate address detection off so that link-local and VRRP IPv6
// addresses are usable at once. The n-th host (from 1) gets the MAC
// 02:00:00:00:00:n and hence the link-local address fe80::ff:fe00:n. A host
// without addresses (only link-local) suits a passive watcher.
//
// name must be 1-20 characters of [a-z0-9_-] and unique in the lab; "br" is
// reserved. AddHost fails the lab's test on error, so call it from the
// goroutine of the test that called [New].
func (l *Lab) AddHost(name string, addrs ...string) *Host {
	l.t.Helper()
	h, err := l.addHost(name, addrs)
	if err != nil {
		l.t.Fatalf("netlab: add host %q: %v", name, err)
	}
	return h
}

func (l *Lab) addHost(name string, addrs []string) (*Host, error) {
	if !hostName.MatchString(name) || name == "br" {
		return nil, fmt.Errorf("invalid host name (want [a-z0-9][a-z0-9_-]{0,19}, not \"br\")")
	}
	var prefixes []netip.Prefix
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("address %q: want CIDR notation: %w", a, err)
		}
		prefixes = append(prefixes, p)
	}

	l.mu.Lock()
	for _, o := range l.hosts {
		if o.name == name {
			l.mu.Unlock()
			return nil, errors.New("duplicate host name")
		}
	}
	if len(l.hosts) >= 254 {
		l.mu.Unlock()
		return nil, errors.New("too many hosts")
	}
	h := &Host{lab: l, name: name, ns: l.prefix + name, idx: len(l.hosts) + 1}
	h.port = fmt.Sprintf("p%d-%s", h.idx, name)
	if len(h.port) > 15 {
		h.port = h.port[:15]
	}
	h.mac = net.HardwareAddr{0x02, 0, 0, 0, 0, byte(h.idx)}
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()

	if err := l.addNetns(h.ns); err != nil {
		return nil, err
	}
	if err := h.Do(func() error {
		return writeSysctls(map[string]string{
			"net/ipv6/conf/all/accept_dad":     "0",
			"net/ipv6/conf/default/accept_dad": "0",
		})
	}); err != nil {
		return nil, err
	}
	port := h.port
	br := l.bridge.ns
	// Both ends are created directly in their namespaces, so nothing ever
	// lives in the test's own namespace.
	if _, err := run("ip", "link", "add", "eth0", "netns", h.ns, "address", h.mac.String(),
		"type", "veth", "peer", "name", port, "netns", br); err != nil {
		return nil, err
	}
	if _, err := run("ip", "-n", br, "link", "set", port, "master", "br0", "up"); err != nil {
		return nil, err
	}
	if err := h.Do(func() error {
		return writeSysctls(map[string]string{"net/ipv6/conf/eth0/accept_dad": "0"})
	}); err != nil {
		return nil, err
	}
	for _, p := range prefixes {
		args := []string{"-n", h.ns, "addr", "add", p.String(), "dev", "eth0"}
		if p.Addr().Is6() {
			args = append(args, "nodad")
		}
		if _, err := run("ip", args...); err != nil {
			return nil, err
		}
	}
	for _, dev := range []string{"lo", "eth0"} {
		if _, err := run("ip", "-n", h.ns, "link", "set", dev, "up"); err != nil {
			return nil, err
		}
	}
	// Wait for a usable (non-tentative) link-local address: IPv6 VRRP
	// adverts are sent from it.
	var last string
	if !poll(5*time.Second, func() bool {
		out, err := run("ip", "-n", h.ns, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link")
		last = out
		if err != nil || strings.Contains(out, "tentative") {
			return false
		}
		f := strings.Fields(out)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet6" {
				if p, err := netip.ParsePrefix(f[i+1]); err == nil {
					h.linkLocal = p.Addr()
					return true
				}
			}
		}
		return false
	}) {
		return nil, fmt.Errorf("no usable link-local address on eth0: %q", last)
	}
	return h, nil
}

// Name returns the name given to [Lab.AddHost] ("bridge" for the bridge).
func (h *Host) Name() string { return h.name }

// NS returns the name of the host's network namespace (for ip -n, ip netns exec).
func (h *Host) NS() string { return h.ns }

// MAC returns the MAC address of eth0 (nil for the bridge).
func (h *Host) MAC() net.HardwareAddr { return h.mac }

// LinkLocal returns the fe80:: address of eth0, without zone (invalid for
// the bridge).
func (h *Host) LinkLocal() netip.Addr { return h.linkLocal }

// Port returns the name of the bridge port (in the bridge namespace) that
// the host's eth0 is plugged into, e.g. "p1-a" (empty for the bridge).
func (h *Host) Port() string { return h.port }

// String returns the host name.
func (h *Host) String() string { return h.name }

// Cmd returns a command that runs name inside the host's namespace (through
// ip netns exec). Programs are looked up in PATH and the sbin directories.
func (h *Host) Cmd(name string, args ...string) *exec.Cmd {
	return exec.Command(tool("ip"), append([]string{"netns", "exec", h.ns, tool(name)}, args...)...)
}

// Run runs name inside the namespace and returns its combined output; it
// fails the test, showing the output, if the command fails.
func (h *Host) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := h.Cmd(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("netlab: %s: %s %s: %v\n%s", h.name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Do runs fn on an OS thread that has entered the host's network namespace
// and returns its error. Sockets (including AF_PACKET and netlink sockets)
// opened by fn belong to the namespace and keep working after Do returns;
// goroutines started by fn do not run in the namespace. fn must not call
// t.FailNow; a panic in fn is re-raised in the caller. Afterwards the thread
// returns to its original namespace (or, failing that, is thrown away), so
// the namespace never leaks into other goroutines.
func (h *Host) Do(fn func() error) error {
	type result struct {
		err   error
		panic any
	}
	ch := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if r := recover(); r != nil {
				res.panic = r
			}
			ch <- res
		}()
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			res.err = fmt.Errorf("enter namespace: %w", err)
			return // still locked: the runtime ends the thread
		}
		defer orig.Close()
		if err := setns(filepath.Join("/run/netns", h.ns)); err != nil {
			res.err = fmt.Errorf("enter namespace %s: %w", h.ns, err)
			return
		}
		defer func() {
			if setnsFd(orig.Fd()) == nil {
				runtime.UnlockOSThread()
			} // else the thread stays locked and the runtime ends it
		}()
		res.err = fn()
	}()
	res := <-ch
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

// setns moves the calling thread into the network namespace at path.
func setns(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return setnsFd(f.Fd())
}

func setnsFd(fd uintptr) error {
	if sysSetns == 0 {
		return fmt.Errorf("setns: unknown system call number on %s", runtime.GOARCH)
	}
	if _, _, errno := syscall.RawSyscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); errno != 0 {
		return fmt.Errorf("setns: %w", errno)
	}
	return nil
}

// sysSetns is the setns(2) system call number, which the frozen syscall
// package does not define.
var sysSetns = map[string]uintptr{
	"amd64": 308, "arm64": 268, "riscv64": 268, "loong64": 268,
	"386": 346, "arm": 375, "ppc64": 350, "ppc64le": 350, "s390x": 339,
}[runtime.GOARCH]

// writeSysctls writes /proc/sys values for the calling thread's namespace.
func writeSysctls(kv map[string]string) error {
	for k, v := range kv {
		if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(k, "/", "."), v, err)
		}
	}
	return nil
}

// parseIP accepts an address with or without zone or prefix length.
func parseIP(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr().WithZone("").Unmap(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.WithZone("").Unmap(), nil
}

// HasAddr reports whether ip (optionally with a prefix length) is
// configured on any interface of the host's namespace.
func (h *Host) HasAddr(ip string) bool {
	want, err := parseIP(ip)
	if err != nil {
		return false
	}
	found := false
	_ = h.Do(func() error {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if got, ok := netip.AddrFromSlice(n.IP); ok && got.Unmap() == want {
					found = true
				}
			}
		}
		return nil
	})
	return found
}

// WaitAddr waits until ip is configured in the namespace; it fails the test
// after timeout.
func (h *Host) WaitAddr(t testing.TB, ip string, timeout time.Duration) {
	t.Helper()
	if !poll(timeout, func() bool { return h.HasAddr(ip) }) {
		t.Fatalf("netlab: %s: %s not configured after %v", h.name, ip, timeout)
	}
}

// WaitAddrGone waits until ip is no longer configured in the namespace; it
// fails the test after timeout.
func (h *Host) WaitAddrGone(t testing.TB, ip string, timeout time.Duration) {
	t.Helper()
	if !poll(timeout, func() bool { return !h.HasAddr(ip) }) {
		t.Fatalf("netlab: %s: %s still configured after %v", h.name, ip, timeout)
	}
}

// AddAddr adds an address in CIDR notation to eth0 (IPv6 without DAD).
func (h *Host) AddAddr(t testing.TB, cidr string) {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("netlab: %s: add address %q: want CIDR notation: %v", h.name, cidr, err)
	}
	args := []string{"-n", h.ns, "addr", "add", p.String(), "dev", "eth0"}
	if p.Addr().Is6() {
		args = append(args, "nodad")
	}
	if _, err := run("ip", args...); err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
}

// DelAddr removes an address in CIDR notation (with the prefix length it was
// added with) from eth0.
func (h *Host) DelAddr(t testing.TB, cidr string) {
	t.Helper()
	if _, err := netip.ParsePrefix(cidr); err != nil {
		t.Fatalf("netlab: %s: delete address %q: want CIDR notation: %v", h.name, cidr, err)
	}
	if _, err := run("ip", "-n", h.ns, "addr", "del", cidr, "dev", "eth0"); err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
}

// SetLink sets eth0 administratively up or down. Down also drops the
// carrier of the bridge port, as unplugging a cable would.
func (h *Host) SetLink(t testing.TB, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	if _, err := run("ip", "-n", h.ns, "link", "set", "eth0", state); err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
}

// Arping sends count unsolicited (gratuitous) ARP requests for the IPv4
// address ip from eth0, 100 ms apart, with ip as sender address whether or
// not it is configured. It uses Debian's arping (Thomas Habets' arping 2.x).
func (h *Host) Arping(t testing.TB, ip string, count int) {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		t.Fatalf("netlab: %s: arping %q: want an IPv4 address", h.name, ip)
	}
	out, err := h.Cmd("arping", "-U", "-c", fmt.Sprint(count), "-W", "0.1", "-i", "eth0", "-S", ip, ip).CombinedOutput()
	// arping exits 1 when nothing answers, which is the normal outcome of an
	// unsolicited ARP; success is having sent them all.
	if !strings.Contains(string(out), fmt.Sprintf("%d packets transmitted", count)) {
		t.Fatalf("netlab: %s: arping %s: %v\n%s", h.name, ip, err, out)
	}
}

// Reach sends ICMP (or ICMPv6) echo requests to ip from inside the
// namespace until a reply arrives or timeout passes. Link-local IPv6
// addresses need a zone, e.g. "fe80::ff:fe00:2%eth0".
func (h *Host) Reach(ip string, timeout time.Duration) error {
	dst, err := net.ResolveIPAddr("ip", ip)
	if err != nil {
		return err
	}
	return h.Do(func() error { return ping(dst, timeout) })
}

// Ping fails the test unless ip answers an echo request within 5 s; see
// [Host.Reach].
func (h *Host) Ping(t testing.TB, ip string) {
	t.Helper()
	if err := h.Reach(ip, 5*time.Second); err != nil {
		t.Fatalf("netlab: %s: ping %s: %v", h.name, ip, err)
	}
}

func ping(dst *net.IPAddr, timeout time.Duration) error {
	network, reqType, replyType := "ip6:ipv6-icmp", byte(128), byte(129)
	if dst.IP.To4() != nil {
		network, reqType, replyType = "ip4:icmp", 8, 0
	}
	c, err := net.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	id := uint16(os.Getpid()) ^ uint16(time.Now().UnixNano())
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1500)
	var lastErr error
	for seq := uint16(1); time.Now().Before(deadline); seq++ {
		msg := []byte{reqType, 0, 0, 0, 0, 0, 0, 0, 'n', 'e', 't', 'l', 'a', 'b'}
		binary.BigEndian.PutUint16(msg[4:], id)
		binary.BigEndian.PutUint16(msg[6:], seq)
		if reqType == 8 { // the kernel fills in ICMPv6 checksums, not ICMP ones
			binary.BigEndian.PutUint16(msg[2:], inetChecksum(msg))
		}
		if _, err := c.WriteTo(msg, dst); err != nil {
			lastErr = err
		}
		rd := time.Now().Add(200 * time.Millisecond)
		if rd.After(deadline) {
			rd = deadline
		}
		_ = c.SetReadDeadline(rd)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			fa, ok := from.(*net.IPAddr)
			if n >= 8 && buf[0] == replyType && ok && fa.IP.Equal(dst.IP) &&
				binary.BigEndian.Uint16(buf[4:]) == id {
				return nil
			}
		}
	}
	if lastErr != nil {
		return fmt.Errorf("no echo reply within %v: %w", timeout, lastErr)
	}
	return fmt.Errorf("no echo reply within %v", timeout)
}

// inetChecksum is the RFC 1071 Internet checksum.
func inetChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// dropTable is the nftables table used by [Host.DropVRRPFrom].
const dropTable = "vrrpguard_lab"

// DropVRRPFrom makes the host's namespace drop incoming VRRP (IP protocol
// 112) whose source is src: an IPv4 address, an IPv6 address (link-local
// without zone, as VRRPv3 over IPv6 is sent from it) or a MAC address (which
// covers both families). It adds a rule to the nftables table
// "inet vrrpguard_lab" (input hook); calls accumulate. keepalived in the
// namespace then stops hearing that peer, a one-way loss: if the peer was
// master, this host becomes master too.
func (h *Host) DropVRRPFrom(t testing.TB, src string) {
	t.Helper()
	var match string
	if a, err := netip.ParseAddr(src); err == nil {
		a = a.WithZone("").Unmap()
		if a.Is4() {
			match = "ip saddr " + a.String() + " ip protocol 112"
		} else {
			match = "ip6 saddr " + a.String() + " meta l4proto 112"
		}
	} else if mac, err := net.ParseMAC(src); err == nil {
		match = "ether saddr " + mac.String() + " meta l4proto 112"
	} else {
		t.Fatalf("netlab: %s: drop VRRP from %q: want an IP or MAC address", h.name, src)
	}
	script := fmt.Sprintf("table inet %[1]s {\n"+
		"\tchain input {\n\t\ttype filter hook input priority -300; policy accept;\n\t}\n}\n"+
		"add rule inet %[1]s input %[2]s counter drop\n", dropTable, match)
	if _, err := runIn(script, "ip", "netns", "exec", h.ns, tool("nft"), "-f", "-"); err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
}

// ClearDrops removes every rule added by [Host.DropVRRPFrom] (the whole
// table); it is a no-op when there is none.
func (h *Host) ClearDrops(t testing.TB) {
	t.Helper()
	// Declaring the table first makes the delete succeed when it is absent.
	script := fmt.Sprintf("table inet %[1]s\ndelete table inet %[1]s\n", dropTable)
	if _, err := runIn(script, "ip", "netns", "exec", h.ns, tool("nft"), "-f", "-"); err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
}
