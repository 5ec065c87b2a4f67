package sniffer

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// TestSentFrameDecodesAsCaptured rebuilds every advert of the recorded
// keepalived captures with SentFrame, from what the decoder saw of it and
// its VRRP bytes, and decodes it again: the observation is the same.
func TestSentFrameDecodesAsCaptured(t *testing.T) {
	n := 0
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		for _, f := range frames(t, name) {
			d := NewDecoder(layers.LinkTypeEthernet)
			ts := time.Unix(1700000000, 123)
			o := d.Decode(f, gopacket.CaptureInfo{Timestamp: ts}, "eth0", 0)
			if o == nil || o.Kind.String() != "advert" || f[12] != 0x08 && f[12] != 0x86 {
				continue
			}
			want := o.Clone()
			var payload []byte
			if f[12] == 0x08 {
				ihl := int(f[14]&0x0f) * 4
				payload = f[14+ihl : 14+(int(f[16])<<8|int(f[17]))]
			} else {
				payload = f[54 : 54+(int(f[18])<<8|int(f[19]))] // no extension headers
			}
			fr := SentFrame(nil, want.SrcMAC, want.Src, want.Dst, want.TTL, payload)
			got := NewDecoder(layers.LinkTypeEthernet).Decode(fr, gopacket.CaptureInfo{Timestamp: ts}, "eth0", 0)
			if got == nil || !equalObs(*got, want) {
				t.Fatalf("%s: SentFrame decodes as\n%+v\nwant\n%+v\nframe % x", name, got, want, fr)
			}
			if vm, err := bpf.NewVM(Filter()); err != nil {
				t.Fatal(err)
			} else if k, _ := vm.Run(fr); k == 0 {
				t.Fatalf("%s: the capture filter rejects SentFrame's frame", name)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d adverts in the captures", n)
	}
}

// TestFilterExceptBounds: an Own that names more VRIDs than fit leaves
// out nothing (the filter is Filter's), and every valid Own assembles
// (jumps in range) up to MaxOwnVRIDs.
func TestFilterExceptBounds(t *testing.T) {
	own := Own{MAC: [6]byte{2, 0, 0, 0, 0, 1}}
	for v := range MaxOwnVRIDs {
		if v%2 == 0 {
			own.V4 = append(own.V4, uint8(v+1))
		} else {
			own.V6 = append(own.V6, uint8(v+1))
		}
		if _, err := bpf.Assemble(FilterExcept(own)); err != nil {
			t.Fatalf("%d VRIDs: %v", v+1, err)
		}
	}
	if !own.Valid() {
		t.Fatalf("%d VRIDs not valid", MaxOwnVRIDs)
	}
	plain := len(Filter())
	if got := len(FilterExcept(own)); got <= plain+MaxOwnVRIDs {
		t.Errorf("filter with %d own VRIDs has %d instructions, plain %d: the VRIDs are not tested", MaxOwnVRIDs, got, plain)
	}
	own.V4 = append(own.V4, 200)
	if own.Valid() || len(FilterExcept(own)) != plain {
		t.Errorf("an Own over MaxOwnVRIDs is valid=%v, filter %d instructions (plain %d)", own.Valid(), len(FilterExcept(own)), plain)
	}
	if noMAC := (Own{V4: []uint8{1}}); noMAC.Valid() || len(FilterExcept(noMAC)) != plain {
		t.Errorf("an Own without a MAC is valid=%v, filter %d instructions (plain %d)", noMAC.Valid(), len(FilterExcept(noMAC)), plain)
	}
}
