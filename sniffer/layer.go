package sniffer

import (
	"net/netip"

	"github.com/vrrpguard/vrrpguard/vrrp"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LayerTypeVRRP is the gopacket layer type of this package's decoder. It
// handles both versions, unlike gopacket's own layers.LayerTypeVRRP
// (version 2 only).
var LayerTypeVRRP = gopacket.RegisterLayerType(2112, gopacket.LayerTypeMetadata{
	Name:    "VRRPv2v3",
	Decoder: gopacket.DecodeFunc(decodeLayer),
})

// layerClass lets a DecodingLayerParser route IP protocol 112 to VRRPLayer:
// gopacket's IPv4 and IPv6 layers name layers.LayerTypeVRRP as next layer.
var layerClass = gopacket.NewLayerClass([]gopacket.LayerType{LayerTypeVRRP, layers.LayerTypeVRRP})

// VRRPLayer is a gopacket layer and DecodingLayer for VRRP version 2 and 3.
//
// Before DecodeFromBytes, the caller may set FamilyHint, Src and Dst from the
// carrying IP header: the family fixes the address length, and with Src and
// Dst the checksum is verified (ChecksumForm). Without them the family is
// inferred and ChecksumForm is vrrp.ChecksumUnchecked for version 3.
type VRRPLayer struct {
	layers.BaseLayer
	vrrp.Advertisement
	// Hints, from the IP header.
	FamilyHint vrrp.Family
	Src, Dst   netip.Addr
	// ChecksumForm is the result of checksum verification.
	ChecksumForm vrrp.ChecksumForm
}

// LayerType returns LayerTypeVRRP.
func (l *VRRPLayer) LayerType() gopacket.LayerType { return LayerTypeVRRP }

// CanDecode returns LayerTypeVRRP and gopacket's layers.LayerTypeVRRP.
func (l *VRRPLayer) CanDecode() gopacket.LayerClass { return layerClass }

// NextLayerType returns gopacket.LayerTypePayload when bytes follow the
// advertisement, else gopacket.LayerTypeZero.
func (l *VRRPLayer) NextLayerType() gopacket.LayerType {
	if len(l.Payload) > 0 {
		return gopacket.LayerTypePayload
	}
	return gopacket.LayerTypeZero
}

// DecodeFromBytes decodes data as a VRRP message; see vrrp.Advertisement.Unmarshal.
// Errors are Reason values. The hints are consumed: they are cleared after
// use so that they cannot leak into the next packet.
func (l *VRRPLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	fam, src, dst := l.FamilyHint, l.Src, l.Dst
	l.FamilyHint, l.Src, l.Dst = vrrp.FamilyUnknown, netip.Addr{}, netip.Addr{}
	l.ChecksumForm = vrrp.ChecksumUnchecked
	l.Contents, l.Payload = data, nil
	if err := l.Advertisement.Unmarshal(data, fam); err != nil {
		return err
	}
	n := l.Advertisement.Len()
	if n < len(data) {
		l.Contents, l.Payload = data[:n], data[n:]
	}
	switch {
	case l.Version == 2:
		l.ChecksumForm = vrrp.VerifyChecksum(data, src, dst)
	case src.IsValid() && dst.IsValid():
		l.ChecksumForm = vrrp.VerifyChecksum(data, src, dst)
	}
	return nil
}

// decodeLayer is the gopacket.Decoder for LayerTypeVRRP. A PacketBuilder
// does not expose the IP header, so the family is inferred and version 3
// checksums stay unchecked; the sniffer uses VRRPLayer with hints instead.
func decodeLayer(data []byte, p gopacket.PacketBuilder) error {
	l := &VRRPLayer{}
	if err := l.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(l)
	return p.NextDecoder(l.NextLayerType())
}
