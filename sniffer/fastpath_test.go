package sniffer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
	"github.com/vrrpguard/vrrpguard/obs"
)

// busyFrames returns the frames of a small generated busy-segment capture.
func busyFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	if err := busygen.Write(&buf, busygen.Options{Packets: n, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
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
	if len(out) != n {
		t.Fatalf("generated %d frames, want %d", len(out), n)
	}
	return out
}

// TestFastPathMatchesGopacket decodes every frame of the recorded captures,
// of a generated busy segment, and damaged copies of them (random bytes
// overwritten, truncated, with trailing bytes) both with the fast path and
// with gopacket's layers only: the observations and counters must be equal.
func TestFastPathMatchesGopacket(t *testing.T) {
	t.Parallel()
	var all [][]byte
	for _, name := range []string{"v2pass", "v2none", "v3v4", "v3v6"} {
		all = append(all, frames(t, name)...)
	}
	all = append(all, busyFrames(t, 1500)...)
	rng := rand.New(rand.NewPCG(5, 6))
	base := len(all)
	for i := 0; i < 8000; i++ {
		f := append([]byte(nil), all[rng.IntN(base)]...)
		switch rng.IntN(4) {
		case 0: // overwrite a byte in the headers or the message
			f[rng.IntN(min(len(f), 80))] = byte(rng.IntN(256))
		case 1: // flip a byte that the fast path checks
			pos := []int{12, 13, 14, 16, 17, 19, 20, 21, 23, 34, 35, 37, 54, 55, 57}[rng.IntN(15)]
			if pos < len(f) {
				f[pos] ^= byte(1 << rng.IntN(8))
			}
		case 2:
			f = f[:rng.IntN(len(f)+1)]
		case 3:
			f = append(f, make([]byte, rng.IntN(20))...)
		}
		all = append(all, f)
	}
	for _, vlan := range []uint16{0, 42} {
		fast, slow := NewDecoder(layers.LinkTypeEthernet), NewDecoder(layers.LinkTypeEthernet)
		slow.slowOnly = true
		fastHits := 0
		for i, f := range all {
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0)}
			if _, ok := fast.decodeFast(&fast.obs, f, ci.Timestamp, "eth0", vlan); ok {
				fastHits++
			}
			// decodeFast above counted the frame: start both afresh.
			fast.Stats = slow.Stats
			got := fast.Decode(f, ci, "eth0", vlan)
			want := slow.Decode(f, ci, "eth0", vlan)
			if (got == nil) != (want == nil) {
				t.Fatalf("vlan %d frame %d (% x): fast path observation %v, gopacket %v", vlan, i, f, got, want)
			}
			if got != nil {
				g, w := got.Clone(), want.Clone()
				if len(g.Advert.Addresses) == 0 && len(w.Advert.Addresses) == 0 {
					g.Advert.Addresses, w.Advert.Addresses = nil, nil
				}
				if !reflect.DeepEqual(w, g) {
					t.Fatalf("vlan %d frame %d (% x): observation\n-gopacket %+v\n+fast     %+v", vlan, i, f, w, g)
				}
			}
			if fast.Stats != slow.Stats {
				t.Fatalf("vlan %d frame %d: counters fast %+v, gopacket %+v", vlan, i, fast.Stats, slow.Stats)
			}
		}
		// The test means something only if the fast path took most frames.
		if fastHits < base/2 {
			t.Errorf("vlan %d: the fast path took %d of %d frames", vlan, fastHits, len(all))
		}
	}
}

// TestReadOptionsSameObservations reads recorded captures and generated
// busy segments (pcap and pcapng, merged with each other) with every
// combination of ReadOptions: the observations, their order and the
// counters must be those of the plain sequential reader.
func TestReadOptionsSameObservations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var gen []string
	for _, ng := range []bool{false, true} {
		var buf bytes.Buffer
		if err := busygen.Write(&buf, busygen.Options{Packets: 2000, Seed: 4, PcapNG: ng}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("busy-%t", ng))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		gen = append(gen, p)
	}
	sets := [][]string{
		{capPath("v2pass")}, {capPath("v3v4")}, {capPath("v3v6")}, {capPath("v2none")},
		{gen[0]}, {gen[1]}, {gen[0], gen[1], capPath("v3v4")},
	}
	read := func(paths []string, o ReadOptions) ([]obs.Observation, []FileStats) {
		var seen []obs.Observation
		st, err := ReadFilesWith(paths, func(o *obs.Observation) { seen = append(seen, o.Clone()) }, o)
		if err != nil {
			t.Fatal(err)
		}
		return seen, st
	}
	for _, paths := range sets {
		want, wantStats := read(paths, ReadOptions{Plain: true})
		if len(want) == 0 {
			t.Fatalf("%v: no observations", paths)
		}
		for _, o := range []ReadOptions{{}, {Concurrent: true}, {Plain: true, Concurrent: true}} {
			got, gotStats := read(paths, o)
			if len(got) != len(want) {
				t.Fatalf("%v %+v: %d observations, plain %d", paths, o, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(want[i], got[i]) {
					t.Fatalf("%v %+v: observation %d\n-plain %+v\n+got   %+v", paths, o, i, want[i], got[i])
				}
			}
			if !reflect.DeepEqual(wantStats, gotStats) {
				t.Errorf("%v %+v: stats\n-plain %+v\n+got   %+v", paths, o, wantStats, gotStats)
			}
		}
	}
}
