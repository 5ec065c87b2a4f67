package netlab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestPing(t *testing.T) {
	t.Parallel()
	lab := New(t)
	a := lab.AddHost("a", "10.99.0.1/24", "fd99::1/64")
	b := lab.AddHost("b", "10.99.0.2/24", "fd99::2/64")

	if got, want := a.MAC().String(), "02:00:00:00:00:01"; got != want {
		t.Errorf("a.MAC() = %s, want %s", got, want)
	}
	if got, want := b.LinkLocal().String(), "fe80::ff:fe00:2"; got != want {
		t.Errorf("b.LinkLocal() = %s, want %s", got, want)
	}
	if !strings.HasPrefix(a.NS(), lab.Prefix()) {
		t.Errorf("a.NS() = %s, want prefix %s", a.NS(), lab.Prefix())
	}

	a.Ping(t, "10.99.0.2")
	a.Ping(t, "fd99::2")
	a.Ping(t, b.LinkLocal().String()+"%eth0")
	b.Ping(t, "10.99.0.1")
	b.Ping(t, "fd99::1")
	if err := a.Reach("10.99.0.3", 300*time.Millisecond); err == nil {
		t.Errorf("ping of an absent address succeeded")
	}
	if !a.HasAddr("10.99.0.1") || !a.HasAddr("fd99::1/64") || a.HasAddr("10.99.0.2") {
		t.Errorf("HasAddr disagrees with the configuration of a")
	}
}

func TestArpingCapture(t *testing.T) {
	t.Parallel()
	lab := New(t)
	a := lab.AddHost("a", "10.99.0.1/24")
	b := lab.AddHost("b", "10.99.0.2/24")
	c := b.StartCapture(t, "eth0", "arp")
	a.Arping(t, "10.99.0.1", 3)
	a.Arping(t, "10.99.0.77", 1) // not configured anywhere: still sent
	lines := c.Read(t)
	var fromA int
	for _, l := range lines {
		if strings.Contains(l, "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff") {
			fromA++
		}
	}
	if fromA != 4 || !strings.Contains(strings.Join(lines, "\n"), "tell 10.99.0.77") {
		t.Errorf("capture has %d broadcast ARPs from a, want 4:\n%s", fromA, strings.Join(lines, "\n"))
	}
}

func vrrpConf(version int, interval time.Duration, prio int, vip string) string {
	return Conf(Instance{VRID: 51, Priority: prio, Version: version, AdvertInt: interval, VIPs: []string{vip}})
}

// TestKeepalivedCrash: a VRRPv2 pair converges, a crash of the master moves
// the VIP to the backup without a priority-0 advert, and a capture on the
// bridge sees the adverts of both.
func TestKeepalivedCrash(t *testing.T) {
	t.Parallel()
	lab := New(t)
	a := lab.AddHost("a", "10.99.0.1/24")
	b := lab.AddHost("b", "10.99.0.2/24")
	capt := lab.Bridge().StartCapture(t, "br0")
	const vip = "10.99.0.100"

	start := time.Now()
	ka := a.StartKeepalived(t, vrrpConf(2, time.Second, 150, vip+"/24"))
	kb := b.StartKeepalived(t, vrrpConf(2, time.Second, 100, vip+"/24"))
	if got := lab.WaitVIP(t, vip, 10*time.Second); got != a {
		t.Fatalf("VIP on %s, want a", got)
	}
	t.Logf("converged in %v", time.Since(start).Round(time.Millisecond))
	ka.WaitLog(t, "(VI_1) Entering MASTER STATE", time.Second)
	kb.WaitLog(t, "(VI_1) Entering BACKUP STATE", time.Second)

	start = time.Now()
	ka.Crash()
	if ka.Running() {
		t.Fatalf("keepalived still running after Crash")
	}
	b.WaitAddr(t, vip, 10*time.Second)
	t.Logf("takeover %v after the crash", time.Since(start).Round(time.Millisecond))
	kb.WaitLog(t, "(VI_1) Entering MASTER STATE", time.Second)
	if strings.Contains(ka.Log(), "sent 0 priority") {
		t.Errorf("crashed keepalived resigned:\n%s", ka.Log())
	}
	if !a.HasAddr(vip) {
		t.Errorf("crash removed the VIP from a; a crash should leave it")
	}
	time.Sleep(1200 * time.Millisecond) // let b advertise as master

	path := capt.Stop()
	if fi, err := os.Stat(path); err != nil || fi.Size() <= 24 {
		t.Fatalf("pcap %s: %v, size %d, want more than its 24-byte header", path, err, fi.Size())
	}
	lines := capt.Read(t, "vrrp")
	all := strings.Join(lines, "\n")
	for _, want := range []string{"10.99.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150", "10.99.0.2 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 100"} {
		if !strings.Contains(all, want) {
			t.Errorf("capture lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "prio 0,") {
		t.Errorf("capture has a priority-0 advert after a crash:\n%s", all)
	}
}

// TestKeepalivedStop: a clean stop of a VRRPv3 master sends priority 0 and
// the backup takes over after Skew_Time.
func TestKeepalivedStop(t *testing.T) {
	t.Parallel()
	lab := New(t)
	a := lab.AddHost("a", "10.99.0.1/24")
	b := lab.AddHost("b", "10.99.0.2/24")
	capt := lab.Bridge().StartCapture(t, "br0", "vrrp")
	const vip = "10.99.0.100"

	ka := a.StartKeepalived(t, vrrpConf(3, 100*time.Millisecond, 150, vip+"/24"))
	kb := b.StartKeepalived(t, vrrpConf(3, 100*time.Millisecond, 100, vip+"/24"))
	if got := lab.WaitVIP(t, vip, 5*time.Second); got != a {
		t.Fatalf("VIP on %s, want a", got)
	}
	kb.WaitLog(t, "Entering BACKUP STATE", time.Second)
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- ka.Stop() }()
	b.WaitAddr(t, vip, 5*time.Second)
	t.Logf("takeover %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start).Round(time.Millisecond))
	if got := lab.WaitVIP(t, vip, time.Second); got != b {
		t.Fatalf("VIP on %s after the stop, want b", got)
	}
	kb.WaitLog(t, "(VI_1) Backup received priority 0 advertisement", 0)
	ka.WaitLog(t, "sent 0 priority", 0)
	all := strings.Join(capt.Read(t), "\n")
	if !strings.Contains(all, "10.99.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 0,") {
		t.Errorf("capture lacks the priority-0 advert of a:\n%s", all)
	}
}

// TestDropVRRP: dropping the master's adverts on the backup makes both
// masters; removing the drop restores a single one.
func TestDropVRRP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		version  int
		interval time.Duration
		vip      string
		src      func(a *Host) string
	}{
		{"ipv4-v2", 2, time.Second, "10.99.0.100/24", func(*Host) string { return "10.99.0.1" }},
		{"ipv6-v3", 3, 100 * time.Millisecond, "fd99::100/64", func(a *Host) string { return a.LinkLocal().String() }},
		{"mac-v3", 3, 100 * time.Millisecond, "10.99.0.100/24", func(a *Host) string { return a.MAC().String() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lab := New(t)
			a := lab.AddHost("a", "10.99.0.1/24", "fd99::1/64")
			b := lab.AddHost("b", "10.99.0.2/24", "fd99::2/64")
			vip := tc.vip[:strings.IndexByte(tc.vip, '/')]
			wait := 4*tc.interval + time.Second

			start := time.Now()
			a.StartKeepalived(t, vrrpConf(tc.version, tc.interval, 150, tc.vip))
			kb := b.StartKeepalived(t, vrrpConf(tc.version, tc.interval, 100, tc.vip))
			if got := lab.WaitVIP(t, vip, 2*wait); got != a {
				t.Fatalf("VIP on %s, want a", got)
			}
			t.Logf("converged in %v", time.Since(start).Round(time.Millisecond))

			start = time.Now()
			b.DropVRRPFrom(t, tc.src(a))
			b.WaitAddr(t, vip, wait)
			t.Logf("split brain %v after the drop", time.Since(start).Round(time.Millisecond))
			kb.WaitLog(t, "Entering MASTER STATE", time.Second)
			time.Sleep(3 * tc.interval)
			if n := len(lab.Holders(vip)); n != 2 {
				t.Fatalf("%d hosts hold %s, want 2", n, vip)
			}
			out := b.Run(t, "nft", "list", "table", "inet", dropTable)
			if !strings.Contains(out, "drop") || strings.Contains(out, "packets 0 ") {
				t.Errorf("drop rule did not count packets:\n%s", out)
			}

			b.ClearDrops(t)
			b.ClearDrops(t) // idempotent
			if got := lab.WaitVIP(t, vip, wait); got != a {
				t.Fatalf("VIP on %s after clearing drops, want a", got)
			}
			kb.WaitLogN(t, "Entering BACKUP STATE", 2, time.Second) // init, after clearing
		})
	}
}

// TestDropVRRPOnWire: dropping the master's adverts on the bridge, towards
// the backup's port only, makes both masters while a third host still sees
// both; captures on the backup see none of the master's adverts but its
// ARP; clearing the drop restores a single master.
func TestDropVRRPOnWire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		version  int
		interval time.Duration
		vip      string
		filter   func(a *Host) string // tcpdump: a's adverts
	}{
		{"ipv4-v2", 2, time.Second, "10.99.0.100/24", func(*Host) string { return "vrrp and src host 10.99.0.1" }},
		{"ipv6-v3", 3, 100 * time.Millisecond, "fd99::100/64", func(a *Host) string { return "ip6 proto 112 and src host " + a.LinkLocal().String() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lab := New(t)
			a := lab.AddHost("a", "10.99.0.1/24", "fd99::1/64")
			b := lab.AddHost("b", "10.99.0.2/24", "fd99::2/64")
			c := lab.AddHost("c", "10.99.0.3/24", "fd99::3/64")
			if a.Port() != "p1-a" || c.Port() != "p3-c" {
				t.Errorf("ports %q, %q, want p1-a, p3-c", a.Port(), c.Port())
			}
			vip := tc.vip[:strings.IndexByte(tc.vip, '/')]
			wait := 4*tc.interval + time.Second

			a.StartKeepalived(t, vrrpConf(tc.version, tc.interval, 150, tc.vip))
			kb := b.StartKeepalived(t, vrrpConf(tc.version, tc.interval, 100, tc.vip))
			if got := lab.WaitVIP(t, vip, 2*wait); got != a {
				t.Fatalf("VIP on %s, want a", got)
			}

			lab.DropVRRPOnWire(t, a, b)
			capB := b.StartCapture(t, "eth0")
			capC := c.StartCapture(t, "eth0")
			b.WaitAddr(t, vip, wait)
			kb.WaitLog(t, "Entering MASTER STATE", time.Second)
			time.Sleep(3 * tc.interval)
			if n := len(lab.Holders(vip)); n != 2 {
				t.Fatalf("%d hosts hold %s, want 2", n, vip)
			}
			a.Ping(t, "10.99.0.2") // other traffic passes
			if n := lab.WireDrops(t); n == 0 {
				t.Errorf("the wire drop counted no frames")
			}
			if got := capB.Read(t, tc.filter(a)); len(got) != 0 {
				t.Errorf("b captured %d adverts of a despite the drop:\n%s", len(got), strings.Join(got, "\n"))
			}
			if got := capC.Read(t, tc.filter(a)); len(got) < 2 {
				t.Errorf("c captured %d adverts of a, want them all", len(got))
			}

			lab.ClearWireDrops(t)
			lab.ClearWireDrops(t) // idempotent
			if got := lab.WaitVIP(t, vip, wait); got != a {
				t.Fatalf("VIP on %s after clearing drops, want a", got)
			}
		})
	}
}

// TestTeardown: Close kills every process, including strays, and deletes
// every namespace; it is idempotent; t.Cleanup does the same.
func TestTeardown(t *testing.T) {
	t.Parallel()
	var prefix string
	t.Run("cleanup", func(t *testing.T) {
		lab := New(t)
		lab.AddHost("a", "10.99.0.1/24")
		prefix = lab.Prefix()
	})
	if nss := labNamespaces(t, prefix); len(nss) != 0 {
		t.Errorf("t.Cleanup left namespaces %v", nss)
	}

	lab := New(t)
	a := lab.AddHost("a", "10.99.0.1/24")
	b := lab.AddHost("b", "10.99.0.2/24")
	ka := a.StartKeepalived(t, vrrpConf(3, 100*time.Millisecond, 150, "10.99.0.100/24"))
	vrrpPid, err := ka.VRRPPid()
	if err != nil {
		t.Fatal(err)
	}
	sleeper := b.Start(t, "sleep", "600")
	capt := lab.Bridge().StartCapture(t, "br0")
	stray := b.Cmd("sleep", "600") // not started through the lab
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	strayDone := make(chan error, 1)
	go func() { strayDone <- stray.Wait() }()
	if got := labNamespaces(t, lab.Prefix()); len(got) != 3 {
		t.Fatalf("namespaces %v, want 3", got)
	}

	start := time.Now()
	if err := lab.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(start).Round(time.Millisecond))
	if err := lab.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if nss := labNamespaces(t, lab.Prefix()); len(nss) != 0 {
		t.Errorf("Close left namespaces %v", nss)
	}
	if ka.Running() || sleeper.Running() || capt.proc.Running() {
		t.Errorf("processes survive Close")
	}
	// SIGKILLed, the VRRP child may still be finishing its exit (state D).
	var stat []byte
	if !poll(2*time.Second, func() bool {
		stat, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", vrrpPid))
		return err != nil || strings.Contains(string(stat), ") Z")
	}) {
		t.Errorf("keepalived's VRRP child survives Close: %s", stat)
	}
	select {
	case <-strayDone:
	case <-time.After(5 * time.Second):
		t.Errorf("stray process in the namespace survives Close")
	}
}

// TestSweep: labs whose owner died are removed; others are left alone.
func TestSweep(t *testing.T) {
	t.Parallel()
	Require(t)
	var id [3]byte
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	prefix := "vg" + hex.EncodeToString(id[:]) + "-"
	t.Cleanup(func() {
		for _, ns := range []string{prefix + "x", prefix + "br"} {
			_ = deleteNetns(ns)
		}
	})
	for _, args := range [][]string{
		{"netns", "add", prefix + "br"},
		{"netns", "add", prefix + "x"},
		{"-n", prefix + "br", "link", "add", "br0", "type", "bridge"},
		// Our pid with a wrong start time: a process that no longer exists.
		{"-n", prefix + "br", "link", "set", "br0", "alias", fmt.Sprintf("%s pid=%d start=1", labMarker, os.Getpid())},
	} {
		if _, err := run("ip", args...); err != nil {
			t.Fatal(err)
		}
	}
	live := New(t) // owned by this live process: must survive
	if err := sweepStale(); err != nil {
		t.Fatalf("sweepStale: %v", err)
	}
	if nss := labNamespaces(t, prefix); len(nss) != 0 {
		t.Errorf("stale lab survives the sweep: %v", nss)
	}
	if nss := labNamespaces(t, live.Prefix()); len(nss) != 1 {
		t.Errorf("live lab swept: namespaces %v", nss)
	}
}

// labNamespaces lists the namespaces whose name starts with prefix.
func labNamespaces(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := exec.Command(tool("ip"), "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, out)
	}
	var nss []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			nss = append(nss, f[0])
		}
	}
	return nss
}
