package sniffer

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestLayerInParser decodes a real captured Ethernet frame (v3 over vrrp.IPv4,
// testdata/captures/v3v4.pcap) with a DecodingLayerParser: gopacket's vrrp.IPv4
// layer names layers.LayerTypeVRRP as next, and VRRPLayer must receive it.
func TestLayerInParser(t *testing.T) {
	frame := mustHex("01005e000012 020000000002 0800" +
		"45c0 0024 0001 0000 ff70 d031 0a63 0002 e000 0012" + "3134 6402 000a 6a36 0a63 0065 0a63 0066")
	var (
		eth  layers.Ethernet
		ip4  layers.IPv4
		vr   VRRPLayer
		seen []gopacket.LayerType
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &vr)
	if err := p.DecodeLayers(frame, &seen); err != nil {
		t.Fatalf("DecodeLayers: %v (seen %v)", err, seen)
	}
	if len(seen) != 3 || (seen[2] != LayerTypeVRRP && seen[2] != layers.LayerTypeVRRP) {
		t.Fatalf("layers %v", seen)
	}
	if vr.VRID != 52 || vr.Priority != 100 || len(vr.Addresses) != 2 {
		t.Errorf("decoded %+v", vr.Advertisement)
	}
	if vr.ChecksumForm != vrrp.ChecksumUnchecked {
		t.Errorf("v3 without hints: checksum %v, want unchecked", vr.ChecksumForm)
	}
	allocs := testing.AllocsPerRun(100, func() { _ = p.DecodeLayers(frame, &seen) })
	if allocs != 0 {
		t.Errorf("DecodeLayers allocates %.1f per packet, want 0", allocs)
	}

	// gopacket.NewPacket with the registered layer type.
	pkt := gopacket.NewPacket(frame[34:], LayerTypeVRRP, gopacket.Default)
	l, ok := pkt.Layer(LayerTypeVRRP).(*VRRPLayer)
	if !ok {
		t.Fatalf("NewPacket: no VRRP layer: %v", pkt.ErrorLayer())
	}
	if l.VRID != 52 {
		t.Errorf("NewPacket VRID %d", l.VRID)
	}
	bad := gopacket.NewPacket([]byte{0x51, 0, 0, 0, 0, 0, 0, 0}, LayerTypeVRRP, gopacket.Default)
	if el := bad.ErrorLayer(); el == nil || !errors.Is(el.Error(), vrrp.ErrBadVersion) {
		t.Errorf("bad version packet: error layer %v", el)
	}
}

func TestLayerHintsAndPayload(t *testing.T) {
	var l VRRPLayer
	l.FamilyHint, l.Src, l.Dst = vrrp.IPv4, srcV3v4, vrrp.MulticastIPv4
	msg := append(append([]byte{}, fixV3v4...), 0xde, 0xad)
	if err := l.DecodeFromBytes(msg, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	// Trailing bytes are payload and not part of the checksum; the
	// checksum over all IP payload bytes then fails.
	if len(l.Payload) != 2 || l.NextLayerType() != gopacket.LayerTypePayload {
		t.Errorf("payload %x next %v", l.Payload, l.NextLayerType())
	}
	if l.ChecksumForm != vrrp.ChecksumInvalid {
		t.Errorf("checksum %v over padded message, want invalid", l.ChecksumForm)
	}
	// Hints are consumed: the next decode without hints does not verify.
	if err := l.DecodeFromBytes(fixV3v4, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if l.ChecksumForm != vrrp.ChecksumUnchecked || l.NextLayerType() != gopacket.LayerTypeZero {
		t.Errorf("stale hints: %v", l.ChecksumForm)
	}
	l.FamilyHint, l.Src, l.Dst = vrrp.IPv4, srcV3v4, vrrp.MulticastIPv4
	if err := l.DecodeFromBytes(fixV3v4, gopacket.NilDecodeFeedback); err != nil || l.ChecksumForm != vrrp.ChecksumValid {
		t.Errorf("with hints: %v %v", err, l.ChecksumForm)
	}
}

var (
	// fixV3v4 (testdata/captures/v3v4.pcap, 10.99.0.2 > 224.0.0.18):
	// VRRPv3 vrid 52 prio 100, intvl 10cs, addrs 10.99.0.101,10.99.0.102;
	// the checksum includes the IPv4 pseudo-header (keepalived's form).
	fixV3v4 = mustHex("3134 6402 000a 6a36 0a63 0065 0a63 0066")
	srcV3v4 = netip.MustParseAddr("10.99.0.2")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkVRRPLayer measures decoding plus checksum verification of one
// advertisement through the gopacket layer (the sniffer's path).
func BenchmarkVRRPLayer(b *testing.B) {
	var l VRRPLayer
	b.ReportAllocs()
	b.SetBytes(int64(len(fixV3v4)))
	for b.Loop() {
		l.FamilyHint, l.Src, l.Dst = vrrp.IPv4, srcV3v4, vrrp.MulticastIPv4
		if err := l.DecodeFromBytes(fixV3v4, gopacket.NilDecodeFeedback); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
