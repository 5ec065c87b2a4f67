// Package netlab builds throwaway layer-2 segments out of Linux network
// namespaces and runs real keepalived peers on them, for integration tests
// of a VRRP (RFC 5798, RFC 3768) monitor.
//
// A [Lab] is one Ethernet segment: a namespace holding a Linux bridge br0
// (multicast snooping off, so VRRP multicast floods like on a dumb switch)
// plus one namespace per [Host], each joined to the bridge by a veth pair
// whose host end is called eth0. Every name carries a short random prefix
// (for example "vg3fa9c1-"), so labs in parallel tests never collide.
// Everything is torn down by t.Cleanup, even when the test fails or panics;
// [Lab.Close] does the same on demand and is idempotent.
//
//	lab := netlab.New(t)
//	a := lab.AddHost("a", "10.99.0.1/24")
//	b := lab.AddHost("b", "10.99.0.2/24")
//	a.StartKeepalived(t, netlab.Conf(netlab.Instance{VRID: 51, Priority: 150, VIPs: []string{"10.99.0.100/24"}}))
//	b.StartKeepalived(t, netlab.Conf(netlab.Instance{VRID: 51, Priority: 100, VIPs: []string{"10.99.0.100/24"}}))
//	master := lab.WaitVIP(t, "10.99.0.100", 10*time.Second)
//
// Hosts run programs through ip netns exec ([Host.Cmd], [Host.Start],
// [Host.StartKeepalived], [Host.StartCapture]); in-process code, such as a
// sniffer under test, can open its sockets inside a namespace with
// [Host.Do]. A host added without addresses (only its link-local one) is a
// passive watcher; [Lab.Bridge] captures the whole segment on br0.
//
// A lab needs root and the programs ip, keepalived, tcpdump, nft and arping
// (Debian: iproute2, keepalived, tcpdump, nftables, arping). [Require] skips
// the test when something is missing, or fails it when the environment
// variable VRRPGUARD_REQUIRE_LAB is 1, so CI cannot skip silently.
package netlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns the skips of [Require]
// into failures when set to "1".
const RequireEnv = "VRRPGUARD_REQUIRE_LAB"

// requiredTools are the programs a lab runs.
var requiredTools = []string{"ip", "keepalived", "tcpdump", "nft", "arping"}

// Require skips the test, with the reason, unless it runs as root with
// network namespace support and the programs ip, keepalived, tcpdump, nft
// and arping available. When the environment variable VRRPGUARD_REQUIRE_LAB
// is "1" it fails the test instead of skipping it.
func Require(t testing.TB) {
	t.Helper()
	require(t, requiredTools)
}

func require(t testing.TB, tools []string) {
	t.Helper()
	var reasons []string
	if os.Geteuid() != 0 {
		reasons = append(reasons, "not running as root")
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		reasons = append(reasons, "kernel without network namespaces")
	}
	var missing []string
	for _, name := range tools {
		if _, err := lookTool(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		reasons = append(reasons, "missing programs: "+strings.Join(missing, ", ")+
			" (apt-get install iproute2 keepalived tcpdump nftables arping)")
	}
	if len(reasons) == 0 {
		return
	}
	msg := "netlab: " + strings.Join(reasons, "; ")
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1 forbids skipping)", msg, RequireEnv)
		return
	}
	t.Skip(msg)
}

// Lab is one throwaway layer-2 segment: a bridge namespace and the host
// namespaces attached to it. Create it with [New].
type Lab struct {
	t      testing.TB
	id     string
	prefix string
	bridge *Host

	mu         sync.Mutex
	hosts      []*Host
	procs      []*Proc
	namespaces []string // in creation order; the bridge's first
	closed     bool

	closeOnce sync.Once
	closeErr  error
}

// labPrefix matches the namespaces of every lab: "vg", six hex digits, "-".
var labPrefix = regexp.MustCompile(`^vg[0-9a-f]{6}-`)

// labMarker is the alias of a lab's br0; it names the owning process so that
// a later test run can remove labs left behind by a killed one.
const labMarker = "vrrpguard-netlab"

var sweepOnce sync.Once

// New calls [Require] and creates an empty segment: a namespace holding the
// bridge br0 (mcast_snooping 0, mcast_querier 0, no STP, no IPv6 of its
// own so it adds no traffic), up. Teardown is registered with t.Cleanup.
// The first New of a test process also removes labs whose owning process is
// gone (left by a test binary killed on timeout).
func New(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	sweepOnce.Do(func() { _ = sweepStale() })

	l := &Lab{t: t}
	for range 16 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatalf("netlab: random lab id: %v", err)
		}
		id := hex.EncodeToString(b[:])
		if _, err := os.Stat(filepath.Join("/run/netns", "vg"+id+"-br")); errors.Is(err, os.ErrNotExist) {
			l.id = id
			break
		}
	}
	if l.id == "" {
		t.Fatalf("netlab: no free lab id")
	}
	l.prefix = "vg" + l.id + "-"
	l.bridge = &Host{lab: l, name: "bridge", ns: l.prefix + "br", bridge: true}

	t.Cleanup(func() {
		if t.Failed() {
			l.dumpOutputs()
		}
		if err := l.Close(); err != nil {
			t.Errorf("netlab: teardown: %v", err)
		}
	})
	if err := l.setupBridge(); err != nil {
		t.Fatalf("netlab: create bridge: %v", err)
	}
	return l
}

func (l *Lab) setupBridge() error {
	ns := l.bridge.ns
	if err := l.addNetns(ns); err != nil {
		return err
	}
	// No IPv6 in the bridge namespace: the bridge and its ports would send
	// router solicitations and MLD reports that pollute every capture.
	if err := l.bridge.Do(func() error {
		return writeSysctls(map[string]string{
			"net/ipv6/conf/all/disable_ipv6":     "1",
			"net/ipv6/conf/default/disable_ipv6": "1",
		})
	}); err != nil {
		return err
	}
	st, err := procStart(os.Getpid())
	if err != nil {
		return err
	}
	for _, args := range [][]string{
		{"-n", ns, "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0", "mcast_querier", "0"},
		{"-n", ns, "link", "set", "br0", "alias", fmt.Sprintf("%s pid=%d start=%d", labMarker, os.Getpid(), st)},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "set", "br0", "up"},
	} {
		if _, err := run("ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// addNetns creates a namespace and records it for teardown.
func (l *Lab) addNetns(ns string) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("lab is closed")
	}
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	_, err := run("ip", "netns", "add", ns)
	return err
}

// Prefix returns the prefix of every namespace of the lab, e.g. "vg3fa9c1-".
func (l *Lab) Prefix() string { return l.prefix }

// Bridge returns a handle on the bridge namespace. Use it to capture on
// "br0", which sees every frame of the segment, or to run a watcher process
// there. It has no eth0, so address, ARP and drop helpers do not apply.
func (l *Lab) Bridge() *Host { return l.bridge }

// Hosts returns the hosts added so far, in order.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Holders returns the hosts (not the bridge) that have ip on any interface.
func (l *Lab) Holders(ip string) []*Host {
	var hs []*Host
	for _, h := range l.Hosts() {
		if h.HasAddr(ip) {
			hs = append(hs, h)
		}
	}
	return hs
}

// WaitVIP waits until exactly one host holds ip and returns it; it fails the
// test if that does not happen within timeout. Note that a keepalived killed
// with [Keepalived.Crash] leaves its VIPs configured, as a real crash does:
// wait for the new holder with [Host.WaitAddr] instead.
func (l *Lab) WaitVIP(t testing.TB, ip string, timeout time.Duration) *Host {
	t.Helper()
	var holders []*Host
	if poll(timeout, func() bool {
		holders = l.Holders(ip)
		return len(holders) == 1
	}) {
		return holders[0]
	}
	names := make([]string, len(holders))
	for i, h := range holders {
		names[i] = h.name
	}
	t.Fatalf("netlab: %s held by %d hosts %v after %v, want exactly one", ip, len(holders), names, timeout)
	return nil
}

// Close stops every process the lab started and deletes its namespaces
// (which deletes the veth pairs and the bridge). It is idempotent and safe
// to call concurrently; t.Cleanup calls it too.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		procs := append([]*Proc(nil), l.procs...)
		nss := append([]string(nil), l.namespaces...)
		l.mu.Unlock()

		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].Kill()
		}
		var errs []error
		// Hosts first, the bridge (which carries the owner marker) last.
		for i := len(nss) - 1; i >= 0; i-- {
			if err := deleteNetns(nss[i]); err != nil {
				errs = append(errs, err)
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// register records a process for teardown; it refuses once the lab is closed.
func (l *Lab) register(p *Proc) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab is closed")
	}
	l.procs = append(l.procs, p)
	return nil
}

// dumpOutputs logs the tail of every process's output, for failed tests.
func (l *Lab) dumpOutputs() {
	l.mu.Lock()
	procs := append([]*Proc(nil), l.procs...)
	l.mu.Unlock()
	const max = 8 << 10
	for _, p := range procs {
		out := p.Output()
		if len(out) > max {
			out = "…" + out[len(out)-max:]
		}
		l.t.Logf("netlab: output of %s:\n%s", p.desc, out)
	}
}

// deleteNetns kills whatever still runs in ns and deletes it. A namespace
// that is already gone is not an error.
func deleteNetns(ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	killNetnsPids(ns)
	if out, err := run("ip", "netns", "del", ns); err != nil {
		if strings.Contains(out, "No such file") {
			return nil
		}
		return err
	}
	return nil
}

// killNetnsPids SIGKILLs every process in ns and waits briefly for them to
// exit, so the namespace is really released when it is deleted.
func killNetnsPids(ns string) {
	pids := func() []int {
		out, err := run("ip", "netns", "pids", ns)
		if err != nil {
			return nil
		}
		var ps []int
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				ps = append(ps, pid)
			}
		}
		return ps
	}
	ps := pids()
	if len(ps) == 0 {
		return
	}
	for _, pid := range ps {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	poll(2*time.Second, func() bool { return len(pids()) == 0 })
}

// sweepStale deletes the namespaces of labs whose owning process is gone.
func sweepStale() error {
	out, err := run("ip", "netns", "list")
	if err != nil {
		return err
	}
	groups := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !labPrefix.MatchString(f[0]) {
			continue
		}
		p := labPrefix.FindString(f[0])
		groups[p] = append(groups[p], f[0])
	}
	owner := regexp.MustCompile(labMarker + ` pid=(\d+) start=(\d+)`)
	var errs []error
	for prefix, names := range groups {
		out, err := run("ip", "-n", prefix+"br", "-o", "link", "show", "dev", "br0")
		if err != nil {
			continue // no bridge namespace, or one being built: not ours to judge
		}
		m := owner.FindStringSubmatch(out)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		start, _ := strconv.ParseUint(m[2], 10, 64)
		if st, err := procStart(pid); err == nil && st == start {
			continue // owner alive
		}
		for _, ns := range names {
			if ns != prefix+"br" {
				if err := deleteNetns(ns); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if err := deleteNetns(prefix + "br"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// procStart returns the start time (in clock ticks since boot) of pid, which
// with the pid identifies a process across pid reuse.
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// Fields after the command: state is field 3 of stat, starttime field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// lookTool finds a program in PATH or, failing that, in the sbin
// directories a non-login root shell may lack.
func lookTool(name string) (string, error) {
	if strings.ContainsRune(name, '/') {
		return name, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or the sbin directories", name)
}

// tool returns the path of a program, or its bare name when not found (so
// the eventual exec error names it).
func tool(name string) string {
	if p, err := lookTool(name); err == nil {
		return p
	}
	return name
}

// run runs a program in the test's own namespace and returns its combined
// output; the error includes the command line and the output.
func run(name string, args ...string) (string, error) {
	return runIn("", name, args...)
}

// runIn is run with optional standard input.
func runIn(stdin, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool(name), args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// poll calls cond every 20 ms until it is true or timeout passes; it reports
// whether cond became true. cond is always called at least once.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wireTable is the nftables table (bridge family, in the bridge namespace)
// used by [Lab.DropVRRPOnWire].
const wireTable = "vrrpguard_wire"

// DropVRRPOnWire makes the bridge drop the VRRP frames (IPv4 protocol or
// IPv6 next header 112) that host from sends towards host to, as a faulty
// switch port or filter between them would: neither to's namespace nor
// anything it runs ever sees them, not even on a packet socket, while every
// other host of the lab still does. Everything else (ARP, ND, other IP
// traffic) passes. It adds a rule, matching from's and to's bridge ports,
// to the forward hook of the nftables table "bridge vrrpguard_wire" in the
// bridge namespace; calls accumulate (call it twice, swapped, for a loss in
// both directions).
func (l *Lab) DropVRRPOnWire(t testing.TB, from, to *Host) {
	t.Helper()
	if from == nil || to == nil || from.port == "" || to.port == "" || from == to {
		t.Fatalf("netlab: drop VRRP on the wire: want two different hosts of the lab")
	}
	script := fmt.Sprintf("table bridge %[1]s {\n"+
		"\tchain forward {\n\t\ttype filter hook forward priority -300; policy accept;\n\t}\n}\n"+
		"add rule bridge %[1]s forward iifname %[2]q oifname %[3]q meta l4proto 112 counter drop\n",
		wireTable, from.port, to.port)
	if _, err := runIn(script, "ip", "netns", "exec", l.bridge.ns, tool("nft"), "-f", "-"); err != nil {
		t.Fatalf("netlab: drop VRRP from %s to %s on the wire: %v", from, to, err)
	}
}

// WireDrops returns how many frames the rules of [Lab.DropVRRPOnWire] have
// dropped so far.
func (l *Lab) WireDrops(t testing.TB) int {
	t.Helper()
	out, err := run("ip", "netns", "exec", l.bridge.ns, tool("nft"), "list", "table", "bridge", wireTable)
	if err != nil {
		t.Fatalf("netlab: list wire drops: %v", err)
	}
	n := 0
	for _, m := range wirePackets.FindAllStringSubmatch(out, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

var wirePackets = regexp.MustCompile(`counter packets (\d+) `)

// ClearWireDrops removes every rule added by [Lab.DropVRRPOnWire] (the
// whole table); it is a no-op when there is none.
func (l *Lab) ClearWireDrops(t testing.TB) {
	t.Helper()
	script := fmt.Sprintf("table bridge %[1]s\ndelete table bridge %[1]s\n", wireTable)
	if _, err := runIn(script, "ip", "netns", "exec", l.bridge.ns, tool("nft"), "-f", "-"); err != nil {
		t.Fatalf("netlab: clear wire drops: %v", err)
	}
}
