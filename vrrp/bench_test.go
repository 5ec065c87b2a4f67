package vrrp

import "testing"

func benchDecode(b *testing.B, msg []byte, fam Family) {
	var a Advertisement
	src, dst := srcV3v4, MulticastIPv4
	if fam == IPv6 {
		src, dst = srcV3v6, MulticastIPv6
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := a.Unmarshal(msg, fam); err != nil {
			b.Fatal(err)
		}
		if VerifyChecksum(msg, src, dst) == ChecksumInvalid {
			b.Fatal("checksum")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkDecode measures decoding plus checksum verification of one
// advertisement (the sniffer's gopacket layer adds its own cost: see
// sniffer's BenchmarkVRRPLayer).
func BenchmarkDecode(b *testing.B) {
	b.Run("v2", func(b *testing.B) { benchDecode(b, fixV2Pass, IPv4) })
	b.Run("v3-ipv4", func(b *testing.B) { benchDecode(b, fixV3v4, IPv4) })
	b.Run("v3-ipv6", func(b *testing.B) { benchDecode(b, fixV3v6, IPv6) })
}

func BenchmarkMarshal(b *testing.B) {
	var a Advertisement
	if err := a.Unmarshal(fixV3v4, IPv4); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = a.AppendMarshal(buf[:0], EncodeOptions{Src: srcV3v4, Dst: MulticastIPv4})
		if err != nil {
			b.Fatal(err)
		}
	}
}
