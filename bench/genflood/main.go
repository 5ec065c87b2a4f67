// Command genflood writes a pcap of forged VRRP advertisements for the
// flood benchmark: every packet from a new source, with a random VRID,
// priority and VIP list, as an attacker would send to blow up state.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of adverts")
	out := flag.String("o", "flood.pcap", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := gopacket.NewSerializeBuffer()
	for i := 0; i < *n; i++ {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		adv := vrrp.Advertisement{Version: 2, VRID: uint8(1 + rng.IntN(255)), Priority: uint8(1 + rng.IntN(254)), Interval: time.Second}
		for k := 0; k < 1+rng.IntN(4); k++ {
			adv.Addresses = append(adv.Addresses, netip.AddrFrom4([4]byte{172, 16 + byte(rng.IntN(16)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
		}
		msg, err := adv.Marshal(vrrp.EncodeOptions{})
		if err != nil {
			panic(err)
		}
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}, DstMAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TTL: 255, Protocol: 112, SrcIP: src.AsSlice(), DstIP: vrrp.MulticastIPv4.AsSlice()},
			gopacket.Payload(msg))
		b := buf.Bytes()
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * 10 * time.Microsecond), CaptureLength: len(b), Length: len(b)}, b)
	}
	bw.Flush()
	f.Close()
}
