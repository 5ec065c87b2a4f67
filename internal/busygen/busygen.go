// Package busygen generates a reproducible capture of a busy VRRP segment
// for benchmarks and equivalence tests: 100 virtual routers advertising
// VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) over IPv4 and IPv6 at 1 s and
// 100 ms intervals, ARP replies (RFC 826) and unsolicited neighbour
// advertisements (RFC 4861) for their virtual addresses, and one split brain
// (two masters of one VRID for a while, the second announcing the VIP with
// gratuitous ARP as keepalived does). The same seed gives the same bytes.
package busygen

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/internal/l2frame"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Options say what to generate.
type Options struct {
	Packets int    // number of frames (default 1,000,000)
	Seed    uint64 // random seed (jitter); default 1
	PcapNG  bool   // write pcapng instead of pcap
	// Start is the first timestamp (default 2026-01-01T00:00:00Z).
	Start time.Time
}

// VRIDs is the number of virtual routers on the segment.
const VRIDs = 100

// SplitVRID is the VRID that has two masters for a while.
const SplitVRID = 7

// arpEvery: every 50th frame is an ARP reply.
const arpEvery = 50

// ndEvery: every 250th frame (not an ARP reply) is an unsolicited NA.
const ndEvery = 250

// instance is one advertising router.
type instance struct {
	vrid     uint8
	version  uint8
	fam      vrrp.Family
	prio     uint8
	interval time.Duration
	src      netip.Addr
	mac      [6]byte
	vips     []netip.Addr
	auth     vrrp.AuthType
	pass     string
	next     time.Duration // offset of the next advert
	until    time.Duration // stops advertising here (0: never)
	frame    []byte        // the advert frame (constant per instance)
}

type queue []*instance

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].next != q[j].next {
		return q[i].next < q[j].next
	}
	if q[i].vrid != q[j].vrid {
		return q[i].vrid < q[j].vrid
	}
	return q[i].prio > q[j].prio
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*instance)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// masters builds the master of every VRID: VRIDs 1–40 VRRPv2 (IPv4, 1 s,
// half with a password), 41–80 VRRPv3 over IPv4 at 100 ms, 81–100 VRRPv3
// over IPv6 (1 s and 100 ms alternating).
func masters() []*instance {
	var out []*instance
	for v := 1; v <= VRIDs; v++ {
		in := &instance{vrid: uint8(v), prio: 150, mac: [6]byte{0x52, 0x54, 0, 0, 1, byte(v)}}
		switch {
		case v <= 40:
			in.version, in.fam, in.interval = 2, vrrp.IPv4, time.Second
			if v%2 == 0 {
				in.auth, in.pass = vrrp.AuthSimple, "secret"
			}
		case v <= 80:
			in.version, in.fam, in.interval = 3, vrrp.IPv4, 100*time.Millisecond
		default:
			in.version, in.fam, in.interval = 3, vrrp.IPv6, time.Second
			if v%2 == 0 {
				in.interval = 100 * time.Millisecond
			}
		}
		if in.fam == vrrp.IPv4 {
			in.src = netip.AddrFrom4([4]byte{10, 0, byte(v), 1})
			in.vips = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(v), 254})}
			if v%3 == 0 {
				in.vips = append(in.vips, netip.AddrFrom4([4]byte{10, 0, byte(v), 253}))
			}
		} else {
			in.src = netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: 1, 15: byte(v)})
			in.vips = []netip.Addr{netip.AddrFrom16([16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 5: byte(v), 15: 0xfe})}
		}
		out = append(out, in)
	}
	return out
}

// advertFrame builds the Ethernet frame of in's advertisement.
func advertFrame(in *instance) ([]byte, error) {
	adv := vrrp.Advertisement{Version: in.version, VRID: in.vrid, Priority: in.prio, Interval: in.interval,
		AuthType: in.auth, Addresses: in.vips}
	if in.auth == vrrp.AuthSimple {
		adv.AuthData = vrrp.PasswordAuthData(in.pass)
	}
	dst := vrrp.MulticastIPv4
	if in.fam == vrrp.IPv6 {
		dst = vrrp.MulticastIPv6
	}
	msg, err := adv.Marshal(vrrp.EncodeOptions{Src: in.src, Dst: dst})
	if err != nil {
		return nil, err
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if in.fam == vrrp.IPv4 {
		err = gopacket.SerializeLayers(buf, opts,
			&layers.Ethernet{SrcMAC: in.mac[:], DstMAC: []byte{1, 0, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TTL: vrrp.TTL, Protocol: vrrp.IPProtocol, SrcIP: in.src.AsSlice(), DstIP: dst.AsSlice()},
			gopacket.Payload(msg))
	} else {
		err = gopacket.SerializeLayers(buf, opts,
			&layers.Ethernet{SrcMAC: in.mac[:], DstMAC: []byte{0x33, 0x33, 0, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv6},
			&layers.IPv6{Version: 6, HopLimit: vrrp.TTL, NextHeader: vrrp.IPProtocol, SrcIP: in.src.AsSlice(), DstIP: dst.AsSlice()},
			gopacket.Payload(msg))
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

// arpReply is an ARP reply in which mac says it holds ip, to a client.
func arpReply(mac [6]byte, ip netip.Addr, client netip.Addr, clientMAC [6]byte) []byte {
	f := make([]byte, 42)
	copy(f[0:6], clientMAC[:])
	copy(f[6:12], mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 2) // reply
	copy(a[8:14], mac[:])
	s, t := ip.As4(), client.As4()
	copy(a[14:18], s[:])
	copy(a[18:24], clientMAC[:])
	copy(a[24:28], t[:])
	return f
}

// packetWriter is pcapgo's pcap or pcapng writer.
type packetWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// Write writes the capture to w.
func Write(w io.Writer, o Options) error {
	if o.Packets == 0 {
		o.Packets = 1_000_000
	}
	if o.Packets < 0 {
		return errors.New("busygen: negative packet count")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var pw packetWriter
	var ng *pcapgo.NgWriter
	if o.PcapNG {
		var err error
		ng, err = pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			return fmt.Errorf("busygen: %w", err)
		}
		pw = ng
	} else {
		pc := pcapgo.NewWriterNanos(w)
		if err := pc.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return fmt.Errorf("busygen: %w", err)
		}
		pw = pc
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x76727270))
	ms := masters()
	var q queue
	for _, in := range ms {
		in.next = time.Duration(rng.Int64N(int64(in.interval)))
		q = append(q, in)
	}
	// The split brain: VRID SplitVRID's backup (priority 100) stops hearing
	// the master and becomes master too, from 1/3 of the capture's span for
	// about a minute (a sixth of a short capture), then resigns as backup.
	m := ms[SplitVRID-1]
	span := estimatedSpan(ms, o.Packets)
	b := &instance{vrid: m.vrid, version: m.version, fam: m.fam, prio: 100, interval: m.interval, auth: m.auth, pass: m.pass,
		src: netip.AddrFrom4([4]byte{10, 0, SplitVRID, 2}), mac: [6]byte{0x52, 0x54, 0, 0, 2, SplitVRID}, vips: m.vips}
	b.next = span / 3
	b.until = b.next + min(time.Minute, span/6)
	garps := 0
	for _, in := range append(ms, b) {
		f, err := advertFrame(in)
		if err != nil {
			return fmt.Errorf("busygen: vrid %d: %w", in.vrid, err)
		}
		in.frame = f
	}
	heap.Push(&q, b)
	heap.Init(&q)
	client := netip.AddrFrom4([4]byte{10, 0, 0, 100})
	clientMAC := [6]byte{0x52, 0x54, 0, 0, 0xee, 1}
	clientV6 := netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: 0xee, 15: 1})
	var last time.Duration
	for i := 1; i <= o.Packets; i++ {
		var frame []byte
		switch {
		case garps > 0 && garps <= 5:
			// keepalived's 5 gratuitous ARPs on becoming master.
			frame = l2frame.GARP(b.mac, b.vips[0])
			garps++
		case i%arpEvery == 0:
			in := ms[rng.IntN(40)]
			frame = arpReply(in.mac, in.vips[0], client, clientMAC)
		case i%ndEvery == 0:
			in := ms[80+rng.IntN(20)]
			frame = l2frame.UnsolicitedNA(in.mac, clientV6, in.vips[0])
		default:
			in := q[0]
			last = max(last, in.next)
			frame = in.frame
			jitter := time.Duration(rng.Int64N(int64(in.interval / 100)))
			in.next += in.interval + jitter - in.interval/200
			if in == b && garps == 0 {
				garps = 1
			}
			if in.until > 0 && in.next >= in.until {
				heap.Pop(&q)
			} else {
				heap.Fix(&q, 0)
			}
		}
		if garps > 5 {
			garps = -1 // done
		}
		// Non-advert frames come a few microseconds after the last advert.
		last += 3 * time.Microsecond
		ci := gopacket.CaptureInfo{Timestamp: o.Start.Add(last), CaptureLength: len(frame), Length: len(frame)}
		if err := pw.WritePacket(ci, frame); err != nil {
			return fmt.Errorf("busygen: %w", err)
		}
	}
	if ng != nil {
		if err := ng.Flush(); err != nil {
			return fmt.Errorf("busygen: %w", err)
		}
	}
	return nil
}

// estimatedSpan is about how long the adverts of n frames take.
func estimatedSpan(ms []*instance, n int) time.Duration {
	var perSec float64
	for _, in := range ms {
		perSec += float64(time.Second) / float64(in.interval)
	}
	adverts := float64(n) * (1 - 1.0/arpEvery - 1.0/ndEvery)
	return time.Duration(adverts / perSec * float64(time.Second))
}
