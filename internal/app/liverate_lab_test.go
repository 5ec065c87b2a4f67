package app

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/internal/l2frame"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// BenchmarkLabLiveRate blasts the traffic of a healthy VRRP pair (router A
// master of VRIDs 1–4, router B of VRIDs 5–8, VRRPv3 over IPv4, plus
// gratuitous ARPs for their virtual addresses: 8 adverts and 2 ARPs in
// every 10 frames) from a sender namespace over a veth pair at
// `vrrpguard watch` in another namespace, at 20 k, 50 k, 100 k and 200 k
// packets/s for VRRPGUARD_LIVE_SECONDS (default 10) seconds each, once per
// capture path: --capture socket (one recvmsg per packet: the anchor),
// --capture ring (the default 8 MiB ring) and a 32 MiB ring. It reports what reached the watcher's interface
// (rx_packets of its veth: the rate the sender really achieved), what the
// kernel handed to the capture socket and what it dropped
// (PACKET_STATISTICS through vrrpguard's metrics), and the watcher's CPU
// (utime+stime over the blast, % of one core). Run with -benchtime 1x.
func BenchmarkLabLiveRate(b *testing.B) {
	secs := 10
	if s := os.Getenv("VRRPGUARD_LIVE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("VRRPGUARD_LIVE_SECONDS=%q: want a positive number of seconds", s)
		}
		secs = n
	}
	for _, capture := range []string{"socket", "ring", "ring-32MiB"} {
		for _, rate := range []int{20000, 50000, 100000, 200000} {
			b.Run(fmt.Sprintf("capture=%s/rate=%dk", capture, rate/1000), func(b *testing.B) {
				args := []string{"--capture", capture}
				if capture == "ring-32MiB" {
					args = []string{"--capture", "ring", "--capture-ring-mib", "32"}
				}
				var r liveRateResult
				for b.Loop() {
					r = liveRateOnce(b, args, rate, time.Duration(secs)*time.Second)
				}
				b.ReportMetric(r.sentRate, "sent-pps")
				b.ReportMetric(float64(r.wire), "wire-pkts")
				b.ReportMetric(float64(r.received), "received-pkts")
				b.ReportMetric(float64(r.drops), "kernel-drops")
				b.ReportMetric(r.dropPct(), "drop-%")
				b.ReportMetric(r.cpuPct, "cpu-%")
				b.ReportMetric(float64(r.full), "ring-full")
				b.ReportMetric(r.waitPct, "runq-wait-%")
				b.Logf("| %s | %d k | %.0f | %d | %d | %d (%.3f %%) | %.1f %% | %.1f %% |", capture, rate/1000, r.sentRate,
					r.wire, r.received, r.drops, r.dropPct(), r.cpuPct, r.waitPct)
			})
		}
	}
}

// liveRateResult is one blast: sentRate is what reached the watcher's
// interface per second of blast; wire, received and drops are packets
// (on the veth, passed to the capture socket, dropped by the kernel).
type liveRateResult struct {
	sentRate              float64
	wire, received, drops uint64
	full                  uint64 // times the ring was full
	cpuPct                float64
	// waitPct is the time the watcher's threads were runnable but waited
	// for a CPU (schedstat run delay), % of the blast: the machine's load.
	waitPct float64
}

func (r liveRateResult) dropPct() float64 {
	if r.received == 0 {
		return 0
	}
	return 100 * float64(r.drops) / float64(r.received)
}

func liveRateOnce(b *testing.B, captureArgs []string, rate int, dur time.Duration) liveRateResult {
	netlab.Require(b)
	bin := binary(b)
	lab := netlab.New(b)
	defer lab.Close()
	snd := lab.AddHost("snd", "10.68.0.1/24")
	mon := lab.AddHost("mon")
	// A veth pair straight from the sender to the watcher (lr0 → lr1): the
	// kernel's cost per packet, paid by the sender, is half that of going
	// through the bridge, so the sender can reach the rate on a loaded
	// machine.
	lab.Bridge().Run(b, "ip", "link", "add", "lr0", "netns", snd.NS(), "type", "veth", "peer", "name", "lr1", "netns", mon.NS())
	snd.Run(b, "ip", "link", "set", "lr0", "up")
	mon.Run(b, "ip", "link", "set", "lr1", "up")
	// The watcher runs in a session of its own, as a systemd service does:
	// with the kernel's autogroup scheduling (on in Debian), a session
	// shares one slice of the CPU, which it would otherwise split with the
	// sender. setsid -w forks (netlab makes it a process group leader) and
	// waits; the watcher is its child.
	watch := mon.Start(b, "setsid", append([]string{"-w", bin, "watch", "--interface", "lr1", "--format", "json", "--listen", "127.0.0.1:9812"}, captureArgs...)...)
	watch.WaitOutput(b, "watching", 10*time.Second)
	pid := childPid(b, watch.Pid())

	bl := newBlaster(b, snd, "lr0")
	defer bl.close()
	time.Sleep(500 * time.Millisecond)

	wire0 := linkRxPackets(b, mon, "lr1")
	m0 := scrapeWatch(b, mon)
	cpu0, wait0 := procCPU(b, pid), procRunDelay(b, pid)
	// VRRPGUARD_LIVE_PERF=DIR records a perf profile of the watcher during
	// each blast into DIR (perf report -i DIR/capture-rate.data).
	var perf *exec.Cmd
	if dir := os.Getenv("VRRPGUARD_LIVE_PERF"); dir != "" {
		out := filepath.Join(dir, fmt.Sprintf("%s-%dk.data", strings.Join(captureArgs, ""), rate/1000))
		perf = exec.Command("perf", "record", "-q", "-F", "999", "-g", "-p", strconv.Itoa(pid), "-o", out)
		if err := perf.Start(); err != nil {
			b.Fatalf("perf: %v", err)
		}
	}
	took, err := bl.blast(rate, dur)
	if err != nil {
		b.Fatal(err)
	}
	if perf != nil {
		perf.Process.Signal(os.Interrupt)
		perf.Wait()
	}
	// Let the watcher drain what it holds (the ring or the socket buffer).
	m1 := scrapeWatch(b, mon)
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		m := scrapeWatch(b, mon)
		if metricSum(b, m, "vrrpguard_observations_total") == metricSum(b, m1, "vrrpguard_observations_total") {
			break
		}
		m1 = m
	}
	cpu1, wait1 := procCPU(b, pid), procRunDelay(b, pid)
	wire1 := linkRxPackets(b, mon, "lr1")
	if strings.Contains(watch.Output(), `"type":"finding"`) {
		b.Logf("watch raised findings on the healthy pair's traffic:\n%s", watch.Output())
	}
	r := liveRateResult{
		wire:     wire1 - wire0,
		received: uint64(metricSum(b, m1, "vrrpguard_capture_received_packets_total") - metricSum(b, m0, "vrrpguard_capture_received_packets_total")),
		drops:    uint64(metricSum(b, m1, "vrrpguard_capture_kernel_drops_total") - metricSum(b, m0, "vrrpguard_capture_kernel_drops_total")),
		full:     uint64(metricSum(b, m1, "vrrpguard_capture_ring_full_total") - metricSum(b, m0, "vrrpguard_capture_ring_full_total")),
		cpuPct:   100 * (cpu1 - cpu0).Seconds() / took.Seconds(),
		waitPct:  100 * (wait1 - wait0).Seconds() / took.Seconds(),
	}
	r.sentRate = float64(r.wire) / took.Seconds()
	return r
}

// scrapeWatch returns the /metrics of the watcher in h's namespace.
func scrapeWatch(b *testing.B, h *netlab.Host) string {
	b.Helper()
	out := h.Run(b, "curl", "-s", "http://127.0.0.1:9812/metrics")
	if !strings.Contains(out, "vrrpguard_capture_kernel_drops_total") {
		b.Fatalf("%s: no capture metrics:\n%s", h, out)
	}
	return out
}

// linkRxPackets is rx_packets of iface in h's namespace.
func linkRxPackets(b *testing.B, h *netlab.Host, iface string) uint64 {
	b.Helper()
	var links []struct {
		Stats64 struct {
			RX struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	out := h.Run(b, "ip", "-j", "-s", "link", "show", iface)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		b.Fatalf("ip -j -s link show %s: %v\n%s", iface, err, out)
	}
	return links[0].Stats64.RX.Packets
}

// childPid is the only child of pid.
func childPid(b *testing.B, pid int) int {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw))
	if len(f) != 1 {
		b.Fatalf("process %d has children %q, want one", pid, f)
	}
	c, err := strconv.Atoi(f[0])
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// procRunDelay is the time pid's threads spent runnable, waiting for a
// CPU (the second field of /proc/PID/task/TID/schedstat).
func procRunDelay(b *testing.B, pid int) time.Duration {
	b.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		b.Fatal(err)
	}
	var sum time.Duration
	for _, t := range tasks {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(raw))
		if len(f) < 2 {
			b.Fatalf("schedstat of %d/%s: %q", pid, t.Name(), raw)
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		sum += time.Duration(ns)
	}
	return sum
}

// procCPU is the user + system CPU time pid has used (/proc/PID/stat).
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (in parentheses, which may hold spaces).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// utime and stime are fields 14 and 15 of stat, 12 and 13 here.
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// blaster sends pre-built frames out of an interface through an AF_PACKET
// socket, in batches of one sendmmsg call.
type blaster struct {
	fd     int
	frames [][]byte
	sa     unix.RawSockaddrLinklayer
	msgs   []unix.Mmsghdr
	iovs   []unix.Iovec
}

const blastBatch = 64

func newBlaster(b *testing.B, h *netlab.Host, iface string) *blaster {
	bl := &blaster{fd: -1}
	var idx int
	if err := h.Do(func() error {
		in, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		idx = in.Index
		bl.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: send only
		return err
	}); err != nil {
		b.Fatalf("sender socket: %v", err)
	}
	bl.sa = unix.RawSockaddrLinklayer{Family: unix.AF_PACKET, Ifindex: int32(idx), Halen: 6}
	bl.frames = healthyPairFrames(b)
	bl.msgs = make([]unix.Mmsghdr, blastBatch)
	bl.iovs = make([]unix.Iovec, blastBatch)
	return bl
}

func (bl *blaster) close() {
	if bl.fd >= 0 {
		unix.Close(bl.fd)
	}
}

// blast sends rate frames per second for dur, paced against the clock,
// and returns how long it took.
func (bl *blaster) blast(rate int, dur time.Duration) (time.Duration, error) {
	total := int(float64(rate) * dur.Seconds())
	start := time.Now()
	sent := 0
	for sent < total {
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for sent < due {
			n, err := bl.send(sent, min(due-sent, blastBatch))
			if err != nil {
				return 0, err
			}
			sent += n
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Since(start), nil
}

// send sends n frames starting at frame number first (frames repeat in a
// cycle) with one sendmmsg and returns how many the kernel took.
func (bl *blaster) send(first, n int) (int, error) {
	for i := range n {
		f := bl.frames[(first+i)%len(bl.frames)]
		bl.iovs[i].Base = &f[0]
		bl.iovs[i].SetLen(len(f))
		bl.msgs[i].Hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&bl.sa)), Namelen: unix.SizeofSockaddrLinklayer, Iov: &bl.iovs[i], Iovlen: 1}
	}
	for {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(bl.fd), uintptr(unsafe.Pointer(&bl.msgs[0])), uintptr(n), 0, 0, 0)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR, unix.EAGAIN, unix.ENOBUFS:
			time.Sleep(50 * time.Microsecond)
		default:
			return 0, fmt.Errorf("sendmmsg: %w", errno)
		}
	}
}

// healthyPairFrames are 10 frames of a healthy pair: A (10.68.0.11)
// master of VRIDs 1–4, B (10.68.0.12) of VRIDs 5–8, VRRPv3 adverts at 1 s
// with one virtual address each (10.68.0.100+VRID), and one gratuitous ARP
// of each master for its first address.
func healthyPairFrames(b *testing.B) [][]byte {
	b.Helper()
	macA := [6]byte{0x02, 0, 0, 0, 0x68, 0x0a}
	macB := [6]byte{0x02, 0, 0, 0, 0x68, 0x0b}
	ipA, ipB := netip.MustParseAddr("10.68.0.11"), netip.MustParseAddr("10.68.0.12")
	vip := func(vrid int) netip.Addr { return netip.AddrFrom4([4]byte{10, 68, 0, byte(100 + vrid)}) }
	var out [][]byte
	for vrid := 1; vrid <= 8; vrid++ {
		mac, src := macA, ipA
		if vrid > 4 {
			mac, src = macB, ipB
		}
		out = append(out, advertFrame(b, mac, src, vrid, vip(vrid)))
		if vrid == 4 || vrid == 8 {
			out = append(out, l2frame.GARP(mac, vip(vrid-3)))
		}
	}
	return out
}

// advertFrame is an Ethernet frame with a VRRPv3 advert (priority 150,
// 1 s) from src for vrid.
func advertFrame(b *testing.B, mac [6]byte, src netip.Addr, vrid int, vip netip.Addr) []byte {
	b.Helper()
	a := vrrp.Advertisement{Version: 3, Type: 1, VRID: uint8(vrid), Priority: 150, Interval: time.Second,
		Family: vrrp.IPv4, Addresses: []netip.Addr{vip}}
	payload, err := a.Marshal(vrrp.EncodeOptions{Src: src, Dst: vrrp.MulticastIPv4})
	if err != nil {
		b.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: mac[:], DstMAC: net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 255, Protocol: 112, SrcIP: src.AsSlice(), DstIP: vrrp.MulticastIPv4.AsSlice()}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, gopacket.Payload(payload)); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
