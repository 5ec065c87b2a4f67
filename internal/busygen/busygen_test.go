package busygen

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestWrite: the same seed gives the same bytes, another seed other
// bytes, and the capture holds what the package promises: 100 VRIDs, both
// versions, IPv6, ARP every 50th frame, two sources for the split VRID and
// the second master's 5 gratuitous ARPs, and timestamps that never go back.
func TestWrite(t *testing.T) {
	gen := func(seed uint64, ng bool) []byte {
		var b bytes.Buffer
		if err := Write(&b, Options{Packets: 20000, Seed: seed, PcapNG: ng}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := gen(1, false), gen(1, false), gen(2, false)
	if !bytes.Equal(a, b) {
		t.Error("two captures with seed 1 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 give the same capture")
	}
	if ng := gen(1, true); !bytes.Equal(ng[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("pcapng capture starts with % x", ng[:4])
	}
	r, err := pcapgo.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	vrids := map[byte]bool{}
	versions := map[byte]int{}
	splitSrcs := map[[4]byte]bool{}
	var arp, garps, v6, n int
	var last int64
	for ; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if ts := ci.Timestamp.UnixNano(); ts < last {
			t.Fatalf("frame %d goes back in time", n+1)
		} else {
			last = ts
		}
		et := binary.BigEndian.Uint16(data[12:14])
		if (n+1)%arpEvery == 0 && et != 0x0806 {
			t.Errorf("frame %d (a 50th) is not ARP", n+1)
		}
		switch et {
		case 0x0806:
			arp++
			if binary.BigEndian.Uint16(data[20:22]) == 1 && bytes.Equal(data[28:32], data[38:42]) {
				garps++
			}
		case 0x0800:
			if data[23] == 112 {
				msg := data[34:]
				vrids[msg[1]] = true
				versions[msg[0]>>4]++
				if msg[1] == SplitVRID {
					splitSrcs[[4]byte(data[26:30])] = true
				}
			}
		case 0x86dd:
			if data[20] == 112 {
				v6++
				vrids[data[55]] = true
			}
		}
	}
	if n != 20000 {
		t.Errorf("%d frames, want 20000", n)
	}
	if len(vrids) != VRIDs || versions[2] == 0 || versions[3] == 0 || v6 == 0 {
		t.Errorf("%d VRIDs, versions %v, %d IPv6 adverts", len(vrids), versions, v6)
	}
	if arp < 20000/arpEvery {
		t.Errorf("%d ARP frames, want at least %d", arp, 20000/arpEvery)
	}
	if garps != 5 {
		t.Errorf("%d gratuitous ARPs, want keepalived's 5 from the second master", garps)
	}
	if len(splitSrcs) != 2 {
		t.Errorf("VRID %d advertised by %d sources, want 2 (the split brain)", SplitVRID, len(splitSrcs))
	}
}
