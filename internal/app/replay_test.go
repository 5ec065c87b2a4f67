package app

import (
	"bytes"
	"context"
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

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/internal/tcpdumpcmp"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// run runs vrrpguard in-process and returns exit status, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	st := Run(context.Background(), "test", args, &out, &errb)
	return st, out.String(), errb.String()
}

// advertsJSON returns the adverts of replay's JSON output (decoded with
// decodeJSONLines: any line that does not decode fails the test).
func advertsJSON(t *testing.T, s string) []output.Advert {
	t.Helper()
	return decodeJSONLines(t, s, false, false).adverts
}

// CompareWithTcpdump replays path and checks every advertisement against
// tcpdump's decoding and every checksum verdict against Wireshark's.
func CompareWithTcpdump(t *testing.T, path string) []output.Advert {
	t.Helper()
	testenv.RequireTools(t, "tcpdump", "tshark")
	st, out, errs := run(t, "replay", "--adverts", "--format", "json", path)
	if st != ExitOK && st != ExitFindings {
		t.Fatalf("replay exit %d: %s", st, errs)
	}
	ours := advertsJSON(t, out)
	theirs, err := tcpdumpcmp.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range tcpdumpcmp.Compare(ours, theirs) {
		t.Error(d)
	}
	sums, err := tcpdumpcmp.TsharkChecksums(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(ours) {
		t.Errorf("tshark saw %d VRRP packets, vrrpguard %d", len(sums), len(ours))
	}
	for i := 0; i < len(sums) && i < len(ours); i++ {
		if ours[i].Checksum != sums[i] {
			t.Errorf("advert %d checksum: vrrpguard %s, wireshark %s", i, ours[i].Checksum, sums[i])
		}
	}
	if len(ours) == 0 {
		t.Errorf("%s: no advertisements", path)
	}
	return ours
}

func TestReplayMatchesTcpdumpOnRecordedCaptures(t *testing.T) {
	for _, name := range []string{"v2pass", "v2none", "v3v4", "v3v6"} {
		t.Run(name, func(t *testing.T) {
			CompareWithTcpdump(t, filepath.Join("..", "..", "testdata", "captures", name+".pcap"))
		})
	}
}

// TestReplayMatchesTcpdumpOnOddPackets covers what a healthy keepalived
// pair does not send: v3/IPv4 checksums without the pseudo-header (RFC 9568
// routers), bad checksums, TTL 64, an 802.1Q tag, AH authentication type.
func TestReplayMatchesTcpdumpOnOddPackets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd.pcap")
	writeOddCapture(t, path)
	ours := CompareWithTcpdump(t, path)
	want := []string{"valid", "valid_without_pseudo_header", "invalid", "valid", "valid", "valid", "invalid", "valid"}
	for i, a := range ours {
		if i < len(want) && a.Checksum != want[i] {
			t.Errorf("odd advert %d: checksum %s, want %s", i, a.Checksum, want[i])
		}
	}
	if len(ours) != len(want) {
		t.Fatalf("%d adverts, want %d", len(ours), len(want))
	}
	if ours[4].TTL != 64 || ours[5].VLAN != 100 || ours[5].Interface != "odd.pcap.100" || ours[7].AuthType != "ah" {
		t.Errorf("odd adverts: %+v", ours)
	}
}

func writeOddCapture(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	v4src := netip.MustParseAddr("192.0.2.1")
	v6src := netip.MustParseAddr("fe80::9")
	addr := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	type pkt struct {
		adv     vrrp.Advertisement
		omit    bool
		corrupt bool
		ttl     uint8
		vlan    uint16
	}
	pkts := []pkt{
		{adv: vrrp.Advertisement{Version: 3, VRID: 1, Priority: 100, Interval: time.Second, Addresses: addr("192.0.2.100")}},
		{adv: vrrp.Advertisement{Version: 3, VRID: 2, Priority: 101, Interval: 20 * time.Millisecond, Addresses: addr("192.0.2.101", "192.0.2.102")}, omit: true},
		{adv: vrrp.Advertisement{Version: 2, VRID: 3, Priority: 102, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData("hunter22"), Interval: 2 * time.Second, Addresses: addr("192.0.2.103")}, corrupt: true},
		{adv: vrrp.Advertisement{Version: 3, VRID: 4, Priority: 255, Interval: 50 * time.Millisecond, Addresses: addr("fe80::100", "2001:db8::100")}},
		{adv: vrrp.Advertisement{Version: 2, VRID: 5, Priority: 1, Interval: time.Second, Addresses: addr("192.0.2.105")}, ttl: 64},
		{adv: vrrp.Advertisement{Version: 2, VRID: 6, Priority: 0, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData("x"), Interval: time.Second, Addresses: addr("192.0.2.106")}, vlan: 100},
		{adv: vrrp.Advertisement{Version: 3, VRID: 7, Priority: 100, Interval: time.Second, Addresses: addr("192.0.2.107")}, corrupt: true},
		{adv: vrrp.Advertisement{Version: 2, VRID: 8, Priority: 100, AuthType: vrrp.AuthAH, Interval: time.Second, Addresses: addr("192.0.2.108")}},
	}
	for i, p := range pkts {
		src, dst := v4src, vrrp.MulticastIPv4
		if p.adv.Addresses[0].Is6() {
			src, dst = v6src, vrrp.MulticastIPv6
		}
		msg, err := p.adv.Marshal(vrrp.EncodeOptions{Src: src, Dst: dst, OmitPseudoHeader: p.omit})
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if p.corrupt {
			msg[7] ^= 0x55
		}
		ttl := p.ttl
		if ttl == 0 {
			ttl = 255
		}
		var ls []gopacket.SerializableLayer
		eth := &layers.Ethernet{SrcMAC: mac, DstMAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12}, EthernetType: layers.EthernetTypeIPv4}
		if src.Is6() {
			eth.DstMAC = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 0x12}
			eth.EthernetType = layers.EthernetTypeIPv6
		}
		ls = append(ls, eth)
		if p.vlan != 0 {
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: p.vlan, Type: eth.EthernetType})
			eth.EthernetType = layers.EthernetTypeDot1Q
		}
		if src.Is4() {
			ls = append(ls, &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: 112, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), TOS: 0xc0})
		} else {
			ls = append(ls, &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: 112, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()})
		}
		ls = append(ls, gopacket.Payload(msg))
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Second), CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	txt := writeFile(t, "notes.txt", "hello, not a capture\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"replay", txt}, txt + ": not a pcap or pcapng capture file"},
		{[]string{"replay", filepath.Join(dir, "nope.pcap")}, "nope.pcap: no such file or directory"},
		{[]string{"replay"}, "no capture file given"},
		{[]string{"replay", "--format", "xml", txt}, `unknown format "xml"`},
		{[]string{"replay", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		st, out, errs := run(t, c.args...)
		if st != ExitError || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q; want exit 2 and %q", c.args, st, out, errs, c.want)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") > 0 && !strings.Contains(c.want, "unknown command") && !strings.Contains(c.want, "flag provided") {
			t.Errorf("%v: error is not one line: %q", c.args, errs)
		}
	}
}

func TestReplayTruncatedFileWarns(t *testing.T) {
	full, err := os.ReadFile(filepath.Join("..", "..", "testdata", "captures", "v2pass.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "cut.pcap", string(full[:len(full)-20]))
	st, out, errs := run(t, "replay", "--adverts", "--format", "json", cut)
	if st != ExitOK || !strings.Contains(errs, "warning: "+cut) || !strings.Contains(errs, "middle of a packet record") {
		t.Errorf("exit %d stderr %q", st, errs)
	}
	if n := len(advertsJSON(t, out)); n != 6 {
		t.Errorf("%d adverts before the break, want 6", n)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		st, out, _ := run(t, args...)
		if st != ExitOK || !strings.Contains(out, "replay") || !strings.Contains(out, "watch") {
			t.Errorf("%v: %d %q", args, st, out)
		}
	}
	for _, cmd := range []string{"replay", "watch"} {
		st, out, _ := run(t, cmd, "-h")
		if st != ExitOK || !strings.Contains(out, "Usage: vrrpguard "+cmd) || !strings.Contains(out, "-format") {
			t.Errorf("%s -h: %d %q", cmd, st, out)
		}
		st2, out2, _ := run(t, "help", cmd)
		if st2 != ExitOK || out2 != out {
			t.Errorf("help %s differs from %s -h", cmd, cmd)
		}
	}
	st, out, _ := run(t, "version")
	if st != ExitOK || !strings.HasPrefix(out, "vrrpguard ") {
		t.Errorf("version: %d %q", st, out)
	}
	if st, _, errs := run(t); st != ExitError || !strings.Contains(errs, "Usage") {
		t.Errorf("no args: %d %q", st, errs)
	}
}

func TestReplayTextFormat(t *testing.T) {
	st, out, _ := run(t, "replay", "--adverts", filepath.Join("..", "..", "testdata", "captures", "v2pass.pcap"))
	if st != ExitOK {
		t.Fatal(st)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	// 12:00:01.234 eth0 v2 vrid 51 prio 150 10.99.0.1 (aa:bb:...) vips ... auth simple
	for _, want := range []string{"v2 vrid 51", "prio 150", "10.99.0.1 (02:00:00:00:00:01)", "vips 10.99.0.100", "auth simple"} {
		if !strings.Contains(first, want) {
			t.Errorf("text line %q lacks %q", first, want)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Error("password printed")
	}
	if len(first) < 13 || first[2] != ':' || first[8] != '.' {
		t.Errorf("time column: %q", first)
	}
	// Without --adverts only events and findings are printed.
	st, out, _ = run(t, "replay", filepath.Join("..", "..", "testdata", "captures", "v3v6.pcap"))
	if st != ExitOK || strings.Contains(out, " v3 vrid") || !strings.Contains(out, "election") {
		t.Errorf("replay without --adverts: %d %q", st, out)
	}
}
