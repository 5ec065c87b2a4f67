package vrrp

import (
	"net/netip"
	"reflect"
	"testing"
)

// FuzzUnmarshal feeds arbitrary bytes to the decoder and the checksum check
// (sniffer's FuzzDecode covers the gopacket layer around them). Nothing may panic; whatever decodes must re-encode to
// an advertisement that decodes to the same fields.
func FuzzUnmarshal(f *testing.F) {
	for _, seed := range [][]byte{fixV2Pass, fixV2None, fixV3v4, fixV3v6, fixV2Pass[:9], {0x31, 1, 1, 255}} {
		for fam := range 3 {
			f.Add(seed, uint8(fam))
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte, fam uint8) {
		family := Family(fam % 3)
		var a Advertisement
		err := a.Unmarshal(msg, family)
		src, dst := netip.MustParseAddr("10.0.0.1"), MulticastIPv4
		if a.Family == IPv6 {
			src, dst = netip.MustParseAddr("fe80::1"), MulticastIPv6
		}
		_ = VerifyChecksum(msg, src, dst)
		if err != nil {
			return
		}
		if int(msg[3]) != len(a.Addresses) {
			t.Fatalf("count %d but %d addresses", msg[3], len(a.Addresses))
		}
		if a.Interval == 0 || a.Interval%(10_000_000) != 0 {
			return // not encodable; nothing more to check
		}
		if a.Version == 2 && a.Interval%1_000_000_000 != 0 {
			return
		}
		b, err := a.Marshal(EncodeOptions{Src: src, Dst: dst})
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode: %v", a, err)
		}
		var again Advertisement
		if err := again.Unmarshal(b, a.Family); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		again.Checksum, a.Checksum = 0, 0
		if len(again.Addresses) == 0 && len(a.Addresses) == 0 {
			again.Addresses = a.Addresses
		}
		if !reflect.DeepEqual(again, a) {
			t.Fatalf("round trip differs:\n%+v\n%+v", a, again)
		}
		if VerifyChecksum(b, src, dst) != ChecksumValid {
			t.Fatalf("encoded checksum does not verify")
		}
	})
}
