package app

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestReplayHostilePacketsNeverChangeTheModel mixes forged packets into a
// real keepalived recording (v3 over IPv4, VRID 52, master 10.99.0.1): a
// priority-254 advert with TTL 64, one with a bad checksum, one whose
// address count lies, one truncated. Each is reported; none changes who is
// master, so the events are those of the clean recording.
func TestReplayHostilePacketsNeverChangeTheModel(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "captures", "v3v4.pcap")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	out, _ := os.Create(path)
	w := pcapgo.NewWriterNanos(out)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	forger := netip.MustParseAddr("10.99.0.66")
	forge := func(ts time.Time, ttl uint8, mutate func([]byte) []byte) {
		adv := vrrp.Advertisement{Version: 3, VRID: 52, Priority: 254, Interval: 100 * time.Millisecond,
			Addresses: []netip.Addr{netip.MustParseAddr("10.99.0.101"), netip.MustParseAddr("10.99.0.102")}}
		msg, err := adv.Marshal(vrrp.EncodeOptions{Src: forger, Dst: vrrp.MulticastIPv4})
		if err != nil {
			t.Fatal(err)
		}
		msg = mutate(msg)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x66}, DstMAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: 112, SrcIP: forger.AsSlice(), DstIP: vrrp.MulticastIPv4.AsSlice()},
			gopacket.Payload(msg))
		b := buf.Bytes()
		w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b)
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		w.WritePacket(ci, data)
		n++
		if n%10 == 5 { // forged packets spread through the recording
			// Within the microsecond after the real packet, so the file
			// stays in time order.
			ts := ci.Timestamp.Add(100 * time.Nanosecond)
			forge(ts, 64, func(b []byte) []byte { return b })
			forge(ts.Add(100*time.Nanosecond), 255, func(b []byte) []byte { b[7] ^= 0xff; return b })
			forge(ts.Add(200*time.Nanosecond), 255, func(b []byte) []byte { b[3] = 40; return b })
			forge(ts.Add(300*time.Nanosecond), 255, func(b []byte) []byte { return b[:5] })
		}
	}
	out.Close()

	_, clean, _ := run(t, "replay", "--format", "json", src)
	st, dirty, errs := run(t, "replay", "--format", "json", path)
	if st != ExitFindings {
		t.Fatalf("exit %d: %s", st, errs)
	}
	events := func(s string) []string {
		var ev []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, `"type":"event"`) {
				ev = append(ev, strings.Replace(strings.Replace(l, "hostile.pcap", "X", 1), "v3v4.pcap", "X", 1))
			}
		}
		return ev
	}
	if a, b := events(clean), events(dirty); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) == 0 {
		t.Errorf("forged packets changed the events:\nclean:\n%s\nwith forged packets:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	for _, kind := range []string{"ttl_invalid", "checksum_invalid", "malformed_packet"} {
		if !strings.Contains(dirty, `"kind":"`+kind+`","state":"raised"`) {
			t.Errorf("%s not raised:\n%s", kind, dirty)
		}
	}
	for _, kind := range []string{"duplicate_master", "owner_conflict", "vrid_conflict", "unexpected_router"} {
		if strings.Contains(dirty, `"kind":"`+kind+`"`) {
			t.Errorf("forged packets raised %s", kind)
		}
	}
	if !strings.Contains(dirty, `"sources":["10.99.0.66"]`) {
		t.Error("the forger is not named")
	}
	// The invalid packets are printed with --adverts, with their reason.
	_, adverts, _ := run(t, "replay", "--format", "json", "--adverts", path)
	for _, reason := range []string{`"reason":"address_count"`, `"reason":"truncated"`} {
		if !strings.Contains(adverts, reason) {
			t.Errorf("no invalid line with %s", reason)
		}
	}
}
