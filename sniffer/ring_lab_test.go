package sniffer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// labSender is an AF_PACKET socket in a lab host's namespace that sends
// whole Ethernet frames out of its eth0.
type labSender struct {
	fd  int
	sa  *unix.SockaddrLinklayer
	mac [6]byte
}

func newLabSender(t testing.TB, h *netlab.Host) *labSender {
	t.Helper()
	s := &labSender{fd: -1}
	if err := h.Do(func() error {
		in, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		copy(s.mac[:], in.HardwareAddr)
		s.sa = &unix.SockaddrLinklayer{Ifindex: in.Index, Halen: 6}
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatalf("sender: %v", err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

func (s *labSender) send(t testing.TB, frame []byte) {
	t.Helper()
	for {
		err := unix.Sendto(s.fd, frame, 0, s.sa)
		if err == unix.ENOBUFS || err == unix.EAGAIN {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return
	}
}

// seqAdvert is a VRRPv3 advert from src whose VRID and priority encode
// seq (0 ≤ seq < 250·255): VRID 1+seq/250, priority 1+seq%250.
func seqAdvert(t testing.TB, mac [6]byte, src netip.Addr, seq int) []byte {
	t.Helper()
	a := vrrp.Advertisement{Version: 3, Type: 1, VRID: uint8(1 + seq/250), Priority: uint8(1 + seq%250), Interval: time.Second,
		Family: vrrp.IPv4, Addresses: []netip.Addr{netip.MustParseAddr("10.69.0.100")}}
	payload, err := a.Marshal(vrrp.EncodeOptions{Src: src, Dst: vrrp.MulticastIPv4})
	if err != nil {
		t.Fatal(err)
	}
	return ipv4Frame(t, mac, 112, src, vrrp.MulticastIPv4, payload)
}

func seqOf(o *obs.Observation) int {
	return (int(o.Advert.VRID)-1)*250 + int(o.Advert.Priority) - 1
}

func ipv4Frame(t testing.TB, mac [6]byte, proto layers.IPProtocol, src, dst netip.Addr, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: mac[:], DstMAC: net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 255, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openLiveIn opens live capture on eth0 of h's namespace.
func openLiveIn(t testing.TB, h *netlab.Host, opt LiveOptions) *Live {
	t.Helper()
	var l *Live
	if err := h.Do(func() error {
		var err error
		l, err = OpenLive([]string{"eth0"}, opt)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

// collector gathers the adverts of one source MAC seen by a Live.
type collector struct {
	mu   sync.Mutex
	mac  obs.MAC
	seqs []int
	// gate, if set, is waited on by the first call (stalls the reader).
	gate chan struct{}
}

func (c *collector) handle(o *obs.Observation) {
	if c.gate != nil {
		<-c.gate
	}
	if o.Kind != obs.KindAdvert || o.SrcMAC != c.mac {
		return
	}
	c.mu.Lock()
	c.seqs = append(c.seqs, seqOf(o))
	c.mu.Unlock()
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seqs)
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// ringMapped reports whether the process maps the ring of l's only
// interface (/proc/self/maps names the mapping after the socket inode).
func ringInode(t *testing.T, l *Live) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(l.ifs[0].r.file.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("socket:[%d]", st.Ino)
}

func mapped(t *testing.T, name string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(maps), name)
}

// TestLabRingOrderFilterClose sends 2,000 numbered VRRP adverts
// interleaved with 2,000 frames the capture filter must reject (IPv4
// protocol 17 and 113) from one namespace to a ring capture in another:
// every advert arrives, in order; the kernel passed only what the filter
// accepts; closing unmaps the ring and ends Run.
func TestLabRingOrderFilterClose(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	snd := lab.AddHost("snd", "10.69.0.1/24")
	mon := lab.AddHost("mon")
	s := newLabSender(t, snd)
	l := openLiveIn(t, mon, LiveOptions{Capture: CaptureRing})
	if got := l.Stats()[0].Capture; got != CaptureRing {
		t.Fatalf("capture mode %q, want ring", got)
	}
	inode := ringInode(t, l)
	if !mapped(t, inode) {
		t.Fatalf("ring %s not in /proc/self/maps", inode)
	}
	c := &collector{mac: obs.MAC(s.mac)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, c.handle) }()

	src := netip.MustParseAddr("10.69.0.1")
	const n = 2000
	for i := range n {
		s.send(t, seqAdvert(t, s.mac, src, i))
		s.send(t, ipv4Frame(t, s.mac, layers.IPProtocol(17+96*(i%2)), src, vrrp.MulticastIPv4, []byte("not vrrp, filtered")))
	}
	if !waitFor(10*time.Second, func() bool { return c.count() >= n }) {
		t.Fatalf("received %d of %d adverts", c.count(), n)
	}
	c.mu.Lock()
	for i, seq := range c.seqs {
		if seq != i {
			t.Fatalf("advert %d arrived as number %d (want in order); first 20: %v", seq, i, c.seqs[:min(20, len(c.seqs))])
		}
	}
	c.mu.Unlock()
	st := l.Stats()[0]
	// The kernel counts what passed the filter: the adverts, plus at most
	// a little of the segment's own traffic (ARP, neighbour adverts).
	if st.Received < n || st.Received > n+20 {
		t.Errorf("kernel passed %d packets to the ring, want %d adverts (+ ≤ 20 others): the filter let the %d rejected frames in?", st.Received, n, n)
	}
	if st.Decode.Ignored > 20 {
		t.Errorf("decoder ignored %d frames: the filter let uninteresting frames in", st.Decode.Ignored)
	}
	if st.KernelDrops != 0 || st.RingFull != 0 {
		t.Errorf("kernel drops %d, ring full %d; want 0 at this rate", st.KernelDrops, st.RingFull)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if mapped(t, inode) {
		t.Errorf("ring %s still mapped after Run returned", inode)
	}
	l.Close() // idempotent
}

// TestLabRingDropsCounted stalls the reader of a tiny ring (2 blocks of
// one page) while 3,000 adverts arrive: the kernel drops what does not
// fit, and Stats reports it — received = delivered + dropped, ring full
// at least once — then capture resumes.
func TestLabRingDropsCounted(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	snd := lab.AddHost("snd", "10.69.0.1/24")
	mon := lab.AddHost("mon")
	s := newLabSender(t, snd)
	page := os.Getpagesize()
	l := openLiveIn(t, mon, LiveOptions{Ring: RingConfig{BlockSize: page, Blocks: 2, BlockTimeout: time.Millisecond}})
	defer l.Close()
	c := &collector{mac: obs.MAC(s.mac), gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, c.handle) }()

	src := netip.MustParseAddr("10.69.0.1")
	const n = 3000
	for i := range n {
		s.send(t, seqAdvert(t, s.mac, src, i))
	}
	close(c.gate) // the reader was stuck in its first handler call
	// Once the reader has drained the ring, capture goes on: send markers
	// until one arrives (one sent while the ring is still full is dropped).
	before := c.count()
	for seq := n; c.count() == before; seq++ {
		if seq > n+200 {
			t.Fatal("capture did not resume after the ring filled up")
		}
		s.send(t, seqAdvert(t, s.mac, src, seq))
		waitFor(50*time.Millisecond, func() bool { return c.count() > before })
	}
	st := l.Stats()[0]
	if st.KernelDrops == 0 || st.RingFull == 0 {
		t.Fatalf("no drops counted (dropped %d, ring full %d, received %d) though the reader stalled with %d packets for a ring of 2 pages", st.KernelDrops, st.RingFull, st.Received, n)
	}
	// Everything the kernel passed was either delivered or dropped (give
	// or take a packet of the segment's own arriving meanwhile).
	if got := st.Decode.Packets + st.KernelDrops; got > st.Received || st.Received-got > 5 {
		t.Errorf("decoded %d + dropped %d = %d, want received %d", st.Decode.Packets, st.KernelDrops, got, st.Received)
	}
	if st.Received < n/2 {
		t.Errorf("kernel passed only %d of %d packets", st.Received, n)
	}
	// What was delivered is in order.
	c.mu.Lock()
	for i := 1; i < len(c.seqs); i++ {
		if c.seqs[i] <= c.seqs[i-1] {
			t.Errorf("out of order after drops: %d then %d", c.seqs[i-1], c.seqs[i])
			break
		}
	}
	c.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestLabRingFallback: where the ring cannot be set up, the interface is
// read one packet per system call, with a warning, and capture works.
func TestLabRingFallback(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	snd := lab.AddHost("snd", "10.69.0.1/24")
	mon := lab.AddHost("mon")
	s := newLabSender(t, snd)
	var logbuf syncBuf
	l := openLiveIn(t, mon, LiveOptions{
		Log: slog.New(slog.NewTextHandler(&logbuf, nil)),
		openRing: func(string, []bpf.RawInstruction, bool, RingConfig) (*ring, error) {
			return nil, &ringSetupError{errors.New("PACKET_RX_RING: operation not supported")}
		},
	})
	defer l.Close()
	if got := l.Stats()[0].Capture; got != CaptureSocket {
		t.Errorf("capture mode %q, want socket after the ring failed", got)
	}
	if log := logbuf.String(); !strings.Contains(log, "capture ring unavailable") || !strings.Contains(log, "interface=eth0") {
		t.Errorf("no fallback warning naming the interface in the log: %q", log)
	}
	c := &collector{mac: obs.MAC(s.mac)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, c.handle) }()
	for i := range 100 {
		s.send(t, seqAdvert(t, s.mac, netip.MustParseAddr("10.69.0.1"), i))
	}
	if !waitFor(10*time.Second, func() bool { return c.count() >= 100 }) {
		t.Fatalf("received %d of 100 adverts", c.count())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// syncBuf is a bytes.Buffer safe for concurrent use.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLabRingConfigErrors: bad ring sizes are errors, not a silent
// fallback.
func TestLabRingConfigErrors(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	mon := lab.AddHost("mon")
	for _, rc := range []RingConfig{{BlockSize: 1000}, {Blocks: 1}, {BlockTimeout: time.Microsecond}} {
		err := mon.Do(func() error {
			l, err := OpenLive([]string{"eth0"}, LiveOptions{Ring: rc})
			if err == nil {
				l.Close()
			}
			return err
		})
		if err == nil {
			t.Errorf("OpenLive with %+v: no error", rc)
		}
	}
}

// BenchmarkLabLiveLatency measures how long a lone VRRP advert takes from
// the sender's sendto in one namespace to the handler of a live capture
// in another (one process, one clock), for each capture mode: the ring
// hands a block over between one and two block timeouts after its first
// packet, the socket wakes the reader per packet. The adverts are 20 ms
// apart (each one alone in its block). Run with -benchtime 100x.
func BenchmarkLabLiveLatency(b *testing.B) {
	for _, mode := range []CaptureMode{CaptureSocket, CaptureRing} {
		b.Run("capture="+string(mode), func(b *testing.B) {
			netlab.Require(b)
			lab := netlab.New(b)
			snd := lab.AddHost("snd", "10.69.0.1/24")
			mon := lab.AddHost("mon")
			s := newLabSender(b, snd)
			l := openLiveIn(b, mon, LiveOptions{Capture: mode})
			got := make(chan time.Time, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go l.Run(ctx, func(o *obs.Observation) {
				if o.Kind == obs.KindAdvert && o.SrcMAC == obs.MAC(s.mac) {
					select {
					case got <- time.Now():
					default:
					}
				}
			})
			frame := seqAdvert(b, s.mac, netip.MustParseAddr("10.69.0.1"), 1)
			var lat []time.Duration
			for b.Loop() {
				time.Sleep(20 * time.Millisecond)
				t0 := time.Now()
				s.send(b, frame)
				select {
				case t1 := <-got:
					lat = append(lat, t1.Sub(t0))
				case <-time.After(5 * time.Second):
					b.Fatal("advert not captured within 5 s")
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "median-ms")
			b.ReportMetric(ms(lat[len(lat)*9/10]), "p90-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
