package l2frame_test

import (
	"net/netip"
	"testing"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/internal/l2frame"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

var mac = [6]byte{2, 0, 0, 0, 0, 7}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// checksumOK recomputes the ICMPv6 checksum with gopacket.
func checksumOK(t *testing.T, p gopacket.Packet, msg gopacket.SerializableLayer) {
	t.Helper()
	ip6 := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	icmp := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	want := icmp.Checksum
	icmp.SetNetworkLayerForChecksum(ip6)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, icmp, msg); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if got := uint16(b[2])<<8 | uint16(b[3]); got != want {
		t.Errorf("ICMPv6 checksum %04x, gopacket computes %04x", want, got)
	}
}

func TestARPFrames(t *testing.T) {
	for _, c := range []struct {
		name           string
		frame          []byte
		sender, target string
		targetMAC      []byte
	}{
		{"garp", l2frame.GARP(mac, ip("10.9.0.100")), "10.9.0.100", "10.9.0.100", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"probe", l2frame.ARPProbe(mac, ip("10.9.0.100")), "0.0.0.0", "10.9.0.100", make([]byte, 6)},
	} {
		p := gopacket.NewPacket(c.frame, layers.LayerTypeEthernet, gopacket.Default)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok || eth.DstMAC.String() != "ff:ff:ff:ff:ff:ff" || a.Operation != 1 || [6]byte(a.SourceHwAddress) != mac ||
			netip.AddrFrom4([4]byte(a.SourceProtAddress)) != ip(c.sender) || netip.AddrFrom4([4]byte(a.DstProtAddress)) != ip(c.target) ||
			string(a.DstHwAddress) != string(c.targetMAC) || len(c.frame) != 42 {
			t.Errorf("%s: %v", c.name, p)
		}
	}
	// vrrpguard's own decoder sees the GARP as a claim, and ignores the probe.
	d := sniffer.NewDecoder(layers.LinkTypeEthernet)
	if o := d.Decode(l2frame.GARP(mac, ip("10.9.0.100")), gopacket.CaptureInfo{}, "eth0", 0); o == nil || o.Kind != obs.KindARP ||
		!o.ARP.Gratuitous || o.ARP.SenderIP != ip("10.9.0.100") || o.ARP.SenderMAC != obs.MAC(mac) {
		t.Errorf("GARP decoded as %+v", o)
	}
	if o := d.Decode(l2frame.ARPProbe(mac, ip("10.9.0.100")), gopacket.CaptureInfo{}, "eth0", 0); o != nil {
		t.Errorf("probe decoded as a claim: %+v", o)
	}
}

func TestUnsolicitedNA(t *testing.T) {
	f := l2frame.UnsolicitedNA(mac, ip("fe80::1"), ip("fd00::100"))
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
	if !ok || ip6.HopLimit != 255 || ip6.DstIP.String() != "ff02::1" || ip6.SrcIP.String() != "fe80::1" ||
		na.TargetAddress.String() != "fd00::100" || !na.Override() || na.Solicited() {
		t.Fatalf("NA %v", p)
	}
	checksumOK(t, p, na)
	d := sniffer.NewDecoder(layers.LinkTypeEthernet)
	if o := d.Decode(f, gopacket.CaptureInfo{}, "eth0", 0); o == nil || o.Kind != obs.KindND || o.ND.Target != ip("fd00::100") ||
		o.ND.TargetMAC != obs.MAC(mac) || !o.ND.Override {
		t.Errorf("NA decoded as %+v", o)
	}
}

func TestNeighborSolicitation(t *testing.T) {
	p := gopacket.NewPacket(l2frame.NeighborSolicitation(mac, ip("fd00::1:2:3")), layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if !ok || ip6.HopLimit != 255 || !ip6.SrcIP.IsUnspecified() || ip6.DstIP.String() != "ff02::1:ff02:3" ||
		eth.DstMAC.String() != "33:33:ff:02:00:03" || ns.TargetAddress.String() != "fd00::1:2:3" || len(ns.Options) != 0 {
		t.Fatalf("NS %v", p)
	}
	checksumOK(t, p, ns)
}
