package vrrp

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestLayerInParser decodes a real captured Ethernet frame (v3 over IPv4,
// testdata/captures/v3v4.pcap) with a DecodingLayerParser: gopacket's IPv4
// layer names layers.LayerTypeVRRP as next, and Layer must receive it.
func TestLayerInParser(t *testing.T) {
	frame := mustHex("01005e000012 020000000002 0800" +
		"45c0 0024 0001 0000 ff70 d031 0a63 0002 e000 0012" + "3134 6402 000a 6a36 0a63 0065 0a63 0066")
	var (
		eth  layers.Ethernet
		ip4  layers.IPv4
		vr   Layer
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
	if vr.ChecksumForm != ChecksumUnchecked {
		t.Errorf("v3 without hints: checksum %v, want unchecked", vr.ChecksumForm)
	}
	allocs := testing.AllocsPerRun(100, func() { _ = p.DecodeLayers(frame, &seen) })
	if allocs != 0 {
		t.Errorf("DecodeLayers allocates %.1f per packet, want 0", allocs)
	}

	// gopacket.NewPacket with the registered layer type.
	pkt := gopacket.NewPacket(frame[34:], LayerTypeVRRP, gopacket.Default)
	l, ok := pkt.Layer(LayerTypeVRRP).(*Layer)
	if !ok {
		t.Fatalf("NewPacket: no VRRP layer: %v", pkt.ErrorLayer())
	}
	if l.VRID != 52 {
		t.Errorf("NewPacket VRID %d", l.VRID)
	}
	bad := gopacket.NewPacket([]byte{0x51, 0, 0, 0, 0, 0, 0, 0}, LayerTypeVRRP, gopacket.Default)
	if el := bad.ErrorLayer(); el == nil || !errors.Is(el.Error(), ErrBadVersion) {
		t.Errorf("bad version packet: error layer %v", el)
	}
}

func TestLayerHintsAndPayload(t *testing.T) {
	var l Layer
	l.FamilyHint, l.Src, l.Dst = IPv4, srcV3v4, MulticastIPv4
	msg := append(append([]byte{}, fixV3v4...), 0xde, 0xad)
	if err := l.DecodeFromBytes(msg, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	// Trailing bytes are payload and not part of the checksum; the
	// checksum over all IP payload bytes then fails.
	if len(l.Payload) != 2 || l.NextLayerType() != gopacket.LayerTypePayload {
		t.Errorf("payload %x next %v", l.Payload, l.NextLayerType())
	}
	if l.ChecksumForm != ChecksumInvalid {
		t.Errorf("checksum %v over padded message, want invalid", l.ChecksumForm)
	}
	// Hints are consumed: the next decode without hints does not verify.
	if err := l.DecodeFromBytes(fixV3v4, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if l.ChecksumForm != ChecksumUnchecked || l.NextLayerType() != gopacket.LayerTypeZero {
		t.Errorf("stale hints: %v", l.ChecksumForm)
	}
	l.FamilyHint, l.Src, l.Dst = IPv4, srcV3v4, MulticastIPv4
	if err := l.DecodeFromBytes(fixV3v4, gopacket.NilDecodeFeedback); err != nil || l.ChecksumForm != ChecksumValid {
		t.Errorf("with hints: %v %v", err, l.ChecksumForm)
	}
}
