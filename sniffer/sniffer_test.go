package sniffer

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// The captures under testdata/captures were recorded on the bridge of the
// namespace lab with two keepalived 2.2.7 peers (fxa 10.99.0.1 / fd99::1,
// obs.MAC 02:00:00:00:00:01, priority 150; fxb 10.99.0.2, 02:00:00:00:00:02,
// priority 100). v2pass and v3v4 include a crash of the master (SIGKILL)
// and the backup's takeover, then both stop cleanly (priority 0).
const capDir = "../testdata/captures"

func capPath(name string) string { return filepath.Join(capDir, name+".pcap") }

// frames returns the raw frames of a capture.
func frames(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open(capPath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, data)
	}
	return out
}

func collect(t *testing.T, paths ...string) ([]obs.Observation, []FileStats) {
	t.Helper()
	var seen []obs.Observation
	st, err := ReadFiles(paths, func(o *obs.Observation) { seen = append(seen, o.Clone()) })
	if err != nil {
		t.Fatal(err)
	}
	return seen, st
}

func TestReadCaptures(t *testing.T) {
	type counts struct{ adverts, arp, nd, invalid int }
	tests := []struct {
		name  string
		want  counts
		first obs.Observation
	}{
		{"v2pass", counts{7, 20, 0, 0}, obs.Observation{Kind: obs.KindAdvert, Interface: "v2pass.pcap", SrcMAC: obs.MAC{2, 0, 0, 0, 0, 1},
			Family: vrrp.IPv4, Src: netip.MustParseAddr("10.99.0.1"), Dst: vrrp.MulticastIPv4, TTL: 255, Checksum: vrrp.ChecksumValid,
			Advert: vrrp.Advertisement{Version: 2, Type: 1, VRID: 51, Priority: 150, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData("s3cretpw"),
				Interval: time.Second, Checksum: 0x9071, Family: vrrp.IPv4, Addresses: []netip.Addr{netip.MustParseAddr("10.99.0.100")}}}},
		{"v2none", counts{3, 10, 0, 0}, obs.Observation{}},
		{"v3v4", counts{56, 50, 0, 0}, obs.Observation{}},
		{"v3v6", counts{6, 0, 10, 0}, obs.Observation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen, st := collect(t, capPath(tt.name))
			var got counts
			for _, o := range seen {
				switch o.Kind {
				case obs.KindAdvert:
					got.adverts++
					if o.Checksum != vrrp.ChecksumValid || o.TTL != 255 {
						t.Errorf("advert %+v: checksum %v ttl %d", o.Advert, o.Checksum, o.TTL)
					}
				case obs.KindARP:
					got.arp++
					if !o.ARP.Gratuitous || o.ARP.SenderMAC != o.SrcMAC {
						t.Errorf("keepalived ARP not a GARP from its own MAC: %+v", o.ARP)
					}
				case obs.KindND:
					got.nd++
					if o.ND.Target != netip.MustParseAddr("fd99::100") || o.ND.TargetMAC != (obs.MAC{2, 0, 0, 0, 0, 1}) || !o.ND.Override {
						t.Errorf("NA %+v", o.ND)
					}
				case obs.KindInvalid:
					got.invalid++
				}
			}
			if got.adverts != tt.want.adverts || got.invalid != tt.want.invalid || got.nd != tt.want.nd {
				t.Errorf("counts %+v, want %+v", got, tt.want)
			}
			if got.arp < tt.want.arp {
				t.Errorf("ARP %d, want at least %d", got.arp, tt.want.arp)
			}
			if st[0].Truncated != nil || st[0].Decode.Adverts != uint64(got.adverts) {
				t.Errorf("stats %+v", st[0])
			}
			if tt.first.Kind != 0 {
				var first obs.Observation
				for _, o := range seen {
					if o.Kind == obs.KindAdvert {
						first = o
						break
					}
				}
				first.Time = time.Time{}
				if !equalObs(first, tt.first) {
					t.Errorf("first advert (-want +got):\n-%+v\n+%+v", tt.first, first)
				}
			}
		})
	}
}

func equalObs(a, b obs.Observation) bool {
	return reflect.DeepEqual(a, b)
}

func TestV3IPv6Observation(t *testing.T) {
	seen, _ := collect(t, capPath("v3v6"))
	for _, o := range seen {
		if o.Kind != obs.KindAdvert {
			continue
		}
		if o.Family != vrrp.IPv6 || o.Src != netip.MustParseAddr("fe80::ff:fe00:1") || o.Dst != vrrp.MulticastIPv6 ||
			o.Advert.Version != 3 || o.Advert.Interval != 500*time.Millisecond || o.Advert.Addresses[0] != netip.MustParseAddr("fd99::100") {
			t.Errorf("v3 ipv6 advert %+v", o)
		}
		return
	}
	t.Fatal("no advert")
}

func TestMergeByTimestamp(t *testing.T) {
	seen, st := collect(t, capPath("v3v4"), capPath("v2pass"), capPath("v3v6"))
	if len(st) != 3 {
		t.Fatalf("stats %d", len(st))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Time.Before(seen[i-1].Time) {
			t.Fatalf("observation %d at %v before %v", i, seen[i].Time, seen[i-1].Time)
		}
	}
	ifs := map[string]bool{}
	for _, o := range seen {
		ifs[o.Interface] = true
	}
	if len(ifs) != 3 {
		t.Errorf("interfaces %v", ifs)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	notCap := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCap, []byte("this is not a capture file\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	for _, p := range []string{notCap, empty} {
		_, err := ReadFiles([]string{capPath("v2none"), p}, func(*obs.Observation) { t.Error("read despite a bad file") })
		var fe *FileError
		if !errors.As(err, &fe) || fe.Path != p || !errors.Is(err, ErrNotCapture) {
			t.Errorf("%s: err %v", p, err)
		}
	}
	_, err := ReadFiles([]string{filepath.Join(dir, "missing.pcap")}, func(*obs.Observation) {})
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestTruncatedFile(t *testing.T) {
	full, err := os.ReadFile(capPath("v2pass"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, full[:len(full)-10], 0o644)
	seen, st := collect(t, cut)
	all, _ := collect(t, capPath("v2pass"))
	if st[0].Truncated == nil {
		t.Error("truncation not reported")
	}
	if len(seen) != len(all)-1 {
		t.Errorf("%d observations from the cut file, want %d", len(seen), len(all)-1)
	}
}

func TestPcapngAndVLANAndSLL(t *testing.T) {
	fr := frames(t, "v2none")
	var advert []byte
	for _, f := range fr {
		if len(f) > 23 && f[12] == 0x08 && f[13] == 0 && f[23] == 112 {
			advert = f
			break
		}
	}
	// 802.1Q-tagged copy of the frame, VLAN 42.
	tagged := append(append(append([]byte{}, advert[:12]...), 0x81, 0x00, 0x00, 42), advert[12:]...)
	// Linux cooked capture v1: packet type, ARPHRD, addr len, addr(8), proto.
	sll := append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, advert[12:]...)

	dir := t.TempDir()
	ngPath := filepath.Join(dir, "tagged.pcapng")
	f, _ := os.Create(ngPath)
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "bond0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(tagged), Length: len(tagged)}, tagged)
	w.Flush()
	f.Close()

	sllPath := filepath.Join(dir, "any.pcap")
	f, _ = os.Create(sllPath)
	pw := pcapgo.NewWriter(f)
	pw.WriteFileHeader(65535, layers.LinkTypeLinuxSLL)
	pw.WritePacket(gopacket.CaptureInfo{Timestamp: ts.Add(time.Second), CaptureLength: len(sll), Length: len(sll)}, sll)
	f.Close()

	seen, _ := collect(t, ngPath, sllPath)
	if len(seen) != 2 {
		t.Fatalf("%d observations", len(seen))
	}
	if o := seen[0]; o.Kind != obs.KindAdvert || o.Interface != "bond0.42" || o.VLAN != 42 || o.Advert.VRID != 50 || !o.Time.Equal(ts) {
		t.Errorf("tagged pcapng: %+v", o)
	}
	if o := seen[1]; o.Kind != obs.KindAdvert || o.SrcMAC != (obs.MAC{2, 0, 0, 0, 0, 1}) || o.Interface != "any.pcap" || o.Advert.VRID != 50 {
		t.Errorf("sll: %+v", o)
	}
}

func TestInvalidVRRP(t *testing.T) {
	fr := frames(t, "v3v4")
	var advert []byte
	for _, f := range fr {
		if len(f) > 23 && f[23] == 112 {
			advert = append([]byte{}, f...)
			break
		}
	}
	d := NewDecoder(layers.LinkTypeEthernet)
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0)}

	lying := append([]byte{}, advert...)
	lying[14+20+3] = 9 // count 9 addresses, 2 present
	o := d.Decode(lying, ci, "eth0", 0)
	if o == nil || o.Kind != obs.KindInvalid || o.Reason != vrrp.ErrAddressCount || o.Src != netip.MustParseAddr("10.99.0.2") {
		t.Fatalf("lying count: %+v", o)
	}

	badVer := append([]byte{}, advert...)
	badVer[14+20] = 0x51
	if o := d.Decode(badVer, ci, "eth0", 0); o == nil || o.Reason != vrrp.ErrBadVersion {
		t.Errorf("bad version: %+v", o)
	}

	badSum := append([]byte{}, advert...)
	badSum[14+20+2] = 1 // priority changed, checksum not
	if o := d.Decode(badSum, ci, "eth0", 0); o == nil || o.Kind != obs.KindAdvert || o.Checksum != vrrp.ChecksumInvalid {
		t.Errorf("bad checksum: %+v", o)
	}

	ttl := append([]byte{}, advert...)
	ttl[14+8] = 64
	if o := d.Decode(ttl, ci, "eth0", 0); o == nil || o.TTL != 64 || o.Kind != obs.KindAdvert {
		t.Errorf("ttl 64: %+v", o)
	}
	if d.Stats.Invalid != 2 || d.Stats.Adverts != 2 {
		t.Errorf("stats %+v", d.Stats)
	}
	// A UDP packet and garbage are ignored, not reported.
	udp := append([]byte{}, advert...)
	udp[14+9] = 17
	if o := d.Decode(udp, ci, "eth0", 0); o != nil {
		t.Errorf("udp reported: %+v", o)
	}
	if o := d.Decode([]byte{1, 2, 3}, ci, "eth0", 0); o != nil {
		t.Errorf("garbage reported: %+v", o)
	}
}

func TestARPProbeIgnored(t *testing.T) {
	fr := frames(t, "v2none")
	for _, f := range fr {
		if f[12] == 0x08 && f[13] == 0x06 {
			probe := append([]byte{}, f...)
			copy(probe[14+14:14+18], []byte{0, 0, 0, 0})
			d := NewDecoder(layers.LinkTypeEthernet)
			if o := d.Decode(probe, gopacket.CaptureInfo{}, "eth0", 0); o != nil {
				t.Errorf("probe reported: %+v", o)
			}
			if o := d.Decode(f, gopacket.CaptureInfo{}, "eth0", 0); o == nil || o.Kind != obs.KindARP {
				t.Errorf("GARP not reported")
			}
			return
		}
	}
	t.Fatal("no ARP frame in capture")
}

func TestFilter(t *testing.T) {
	vm, err := bpf.NewVM(Filter())
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	var sample []byte
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		for _, f := range frames(t, name) {
			n, err := vm.Run(f)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder(layers.LinkTypeEthernet)
			interesting := d.Decode(f, gopacket.CaptureInfo{}, "x", 0) != nil
			if interesting != (n > 0) {
				t.Errorf("%s: filter %d but decoder interesting=%v for % x", name, n, interesting, f[:min(len(f), 60)])
			}
			if n > 0 {
				accepted++
				if sample == nil && f[12] == 0x08 && f[13] == 0 {
					sample = f
				}
			}
		}
	}
	if accepted == 0 {
		t.Fatal("filter accepted nothing")
	}
	tagged := append(append(append([]byte{}, sample[:12]...), 0x81, 0x00, 0x00, 7), sample[12:]...)
	if n, _ := vm.Run(tagged); n == 0 {
		t.Error("tagged VRRP rejected")
	}
	udp := append([]byte{}, sample...)
	udp[23] = 17
	if n, _ := vm.Run(udp); n != 0 {
		t.Error("UDP accepted")
	}
	ah := append([]byte{}, sample...)
	ah[23] = 51
	if n, _ := vm.Run(ah); n == 0 {
		t.Error("AH rejected")
	}
}

func TestMAC(t *testing.T) {
	m, err := obs.ParseMAC("02:00:0a:ff:00:01")
	if err != nil || m.String() != "02:00:0a:ff:00:01" {
		t.Errorf("ParseMAC: %v %v", m, err)
	}
	for _, bad := range []string{"", "02:00:0a:ff:00", "zz:00:0a:ff:00:01", "02:00:0a:ff:00:01:02"} {
		if _, err := obs.ParseMAC(bad); err == nil {
			t.Errorf("ParseMAC(%q) accepted", bad)
		}
	}
	if !(obs.MAC{}).IsZero() || m.IsZero() {
		t.Error("IsZero")
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		for i, fr := range frames(f, name) {
			if i%7 == 0 {
				f.Add(fr, uint8(0))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw}
		d := NewDecoder(links[int(link)%len(links)])
		_ = d.Decode(data, gopacket.CaptureInfo{}, "fuzz", 0)
	})
}

func BenchmarkDecodeFrame(b *testing.B) {
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		var frame []byte
		for _, f := range frames(b, name) {
			d := NewDecoder(layers.LinkTypeEthernet)
			if o := d.Decode(f, gopacket.CaptureInfo{}, "x", 0); o != nil && o.Kind == obs.KindAdvert {
				frame = f
				break
			}
		}
		b.Run(name, func(b *testing.B) {
			d := NewDecoder(layers.LinkTypeEthernet)
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0)}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if o := d.Decode(frame, ci, "eth0", 0); o == nil {
					b.Fatal("not decoded")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		d := NewDecoder(layers.LinkTypeEthernet)
		fr := frames(t, name)
		for _, f := range fr { // warm up: parsers, option slices
			d.Decode(f, gopacket.CaptureInfo{}, "eth0", 0)
		}
		allocs := testing.AllocsPerRun(20, func() {
			for _, f := range fr {
				d.Decode(f, gopacket.CaptureInfo{}, "eth0", 0)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per pass over %d frames", name, allocs, len(fr))
		}
	}
}
