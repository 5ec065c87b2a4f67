package sniffer

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ownFrame is an advert of one VRID, in one of the shapes the own filter
// must tell apart.
func ownFrame(t *testing.T, mac [6]byte, fam vrrp.Family, vrid uint8, options bool, tag uint16) []byte {
	t.Helper()
	src, dst := netip.MustParseAddr("10.69.0.2"), vrrp.MulticastIPv4
	if fam == vrrp.IPv6 {
		src, dst = netip.MustParseAddr("fe80::2"), vrrp.MulticastIPv6
	}
	a := vrrp.Advertisement{Version: 3, Type: 1, VRID: vrid, Priority: 100, Interval: time.Second, Family: fam,
		Addresses: []netip.Addr{netip.MustParseAddr("10.69.0.100")}}
	if fam == vrrp.IPv6 {
		a.Addresses = []netip.Addr{netip.MustParseAddr("fd00::100")}
	}
	payload, err := a.Marshal(vrrp.EncodeOptions{Src: src, Dst: dst})
	if err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: mac[:], DstMAC: net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	if tag != 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		et := layers.EthernetTypeIPv4
		if fam == vrrp.IPv6 {
			et = layers.EthernetTypeIPv6
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: tag, Type: et})
	}
	if fam == vrrp.IPv6 {
		if tag == 0 {
			eth.EthernetType = layers.EthernetTypeIPv6
		}
		eth.DstMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 0x12}
		ls = append(ls, &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: 112, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()})
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 255, Protocol: 112, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if options {
			ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
		}
		ls = append(ls, ip)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLabRingLeavesOutOwnAdverts: with LiveOptions.Own, the capture of a
// host's interface leaves out exactly the adverts that host sends with
// an own VRID of the right family from the interface's MAC (untagged IP
// protocol 112, also with IPv4 options), and keeps its other frames
// (another source MAC: a macvlan child's) and every frame it receives.
func TestLabRingLeavesOutOwnAdverts(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	lab := netlab.New(t)
	peer := lab.AddHost("peer", "10.69.0.1/24")
	node := lab.AddHost("node", "10.69.0.2/24")
	out, in := newLabSender(t, node), newLabSender(t, peer)
	child := [6]byte{2, 0x99, 0, 0, 0, 1}
	for _, mode := range []CaptureMode{CaptureRing, CaptureSocket} {
		t.Run(string(mode), func(t *testing.T) {
			l := openLiveIn(t, node, LiveOptions{Capture: mode, Own: map[string]Own{"eth0": {MAC: out.mac, V4: []uint8{7, 51}, V6: []uint8{52}}}})
			var mu sync.Mutex
			var seen []string
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- l.Run(ctx, func(o *obs.Observation) {
					if o.Kind != obs.KindAdvert {
						return
					}
					who := "out"
					switch o.SrcMAC {
					case obs.MAC(in.mac):
						who = "in"
					case obs.MAC(child):
						who = "child"
					}
					mu.Lock()
					seen = append(seen, who+" "+o.Family.String()+" "+o.Interface+" "+string(rune('0'+o.Advert.VRID/100))+string(rune('0'+o.Advert.VRID/10%10))+string(rune('0'+o.Advert.VRID%10)))
					mu.Unlock()
				})
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			}()
			time.Sleep(50 * time.Millisecond) // the socket is bound: frames sent now are captured
			for _, s := range []struct {
				snd     *labSender
				fam     vrrp.Family
				vrid    uint8
				options bool
				tag     uint16
			}{
				{out, vrrp.IPv4, 51, false, 0},  // left out
				{out, vrrp.IPv4, 7, true, 0},    // left out (IPv4 options)
				{out, vrrp.IPv4, 53, false, 0},  // kept: not own
				{out, vrrp.IPv6, 52, false, 0},  // left out
				{out, vrrp.IPv6, 51, false, 0},  // kept: 51 is own for IPv4 only
				{out, vrrp.IPv4, 51, false, 10}, // kept: tagged
				{in, vrrp.IPv4, 51, false, 0},   // kept: received
				{in, vrrp.IPv6, 52, false, 0},   // kept: received
				{out, vrrp.IPv4, 51, false, 1},  // kept: from another MAC (a macvlan child's)
				{out, vrrp.IPv4, 99, false, 0},  // kept: the last
			} {
				mac := s.snd.mac
				if s.tag == 1 {
					mac, s.tag = child, 0
				}
				s.snd.send(t, ownFrame(t, mac, s.fam, s.vrid, s.options, s.tag))
			}
			want := []string{"out ipv4 eth0 053", "out ipv6 eth0 051", "out ipv4 eth0.10 051", "in ipv4 eth0 051", "in ipv6 eth0 052", "child ipv4 eth0 051", "out ipv4 eth0 099"}
			if !waitFor(5*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(seen) >= len(want)
			}) {
				t.Fatalf("saw %q, want %q", seen, want)
			}
			time.Sleep(100 * time.Millisecond) // anything more would arrive now
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(seen, want) {
				t.Errorf("saw %q, want %q", seen, want)
			}
		})
	}
}
