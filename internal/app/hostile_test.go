package app

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/internal/output"
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
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
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
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x66}, DstMAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: 112, SrcIP: forger.AsSlice(), DstIP: vrrp.MulticastIPv4.AsSlice()},
			gopacket.Payload(msg)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
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
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("%s: %d packets, too few to hide forged ones in", src, n)
	}

	st, cleanOut, errs := run(t, "replay", "--format", "json", src)
	if st != ExitOK {
		t.Fatalf("clean recording: exit %d: %s", st, errs)
	}
	st, dirtyOut, errs := run(t, "replay", "--format", "json", path)
	if st != ExitFindings {
		t.Fatalf("exit %d: %s", st, errs)
	}
	clean, dirty := decodeJSONLines(t, cleanOut, false, false), decodeJSONLines(t, dirtyOut, false, false)
	// The events, but for the file name that replay uses as interface.
	events := func(o jsonOutput) []output.EventJSON {
		ev := slices.Clone(o.events)
		for i := range ev {
			ev[i].Interface = "X"
		}
		return ev
	}
	if a, b := events(clean), events(dirty); !slices.Equal(a, b) || len(a) == 0 {
		t.Errorf("forged packets changed the events:\nclean:\n%+v\nwith forged packets:\n%+v", a, b)
	}
	if len(clean.findings) != 0 {
		t.Errorf("findings in the clean recording: %+v", clean.findings)
	}
	for _, kind := range []string{"ttl_invalid", "checksum_invalid", "malformed_packet"} {
		f, ok := dirty.finding(kind, "raised")
		if !ok {
			t.Errorf("%s not raised:\n%s", kind, dirtyOut)
			continue
		}
		if !slices.Equal(f.Sources, []string{"10.99.0.66"}) {
			t.Errorf("%s does not name the forger alone: %v", kind, f.Sources)
		}
	}
	for _, f := range dirty.findings {
		switch f.Kind {
		case "ttl_invalid", "checksum_invalid", "malformed_packet":
		default:
			t.Errorf("forged packets raised %s: %+v", f.Kind, f)
		}
	}
	// The invalid packets are printed with --adverts, with their reason.
	st, advertsOut, errs := run(t, "replay", "--format", "json", "--adverts", path)
	if st != ExitFindings {
		t.Fatalf("replay --adverts: exit %d: %s", st, errs)
	}
	var reasons []string
	for _, in := range decodeJSONLines(t, advertsOut, false, false).invalid {
		reasons = append(reasons, in.Reason)
	}
	for _, reason := range []string{"address_count", "truncated"} {
		if !slices.Contains(reasons, reason) {
			t.Errorf("no invalid line with reason %s (reasons: %v)", reason, reasons)
		}
	}
}
