package sniffer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/internal/busygen"
)

// records reads every record with read, as "caplen len time data" lines,
// ending with the error.
func records(read func() ([]byte, string, error)) []string {
	var out []string
	for i := 0; i < 100000; i++ {
		data, ci, err := read()
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		out = append(out, fmt.Sprintf("%s % x", ci, data))
	}
	return append(out, "too many records")
}

// TestPcapReaderMatchesPcapgo reads recorded and generated captures, in
// both byte orders and timestamp resolutions, truncated at random points
// and with damaged record lengths, with the zero-copy reader and with
// pcapgo: the records and the final error must be the same.
func TestPcapReaderMatchesPcapgo(t *testing.T) {
	t.Parallel()
	var files [][]byte
	for _, name := range []string{"v2pass", "v3v4", "v3v6"} {
		b, err := os.ReadFile(capPath(name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	var gen bytes.Buffer
	if err := busygen.Write(&gen, busygen.Options{Packets: 1500, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	files = append(files, gen.Bytes(), bigEndian(t, gen.Bytes()))
	rng := rand.New(rand.NewPCG(1, 1))
	var cases [][]byte
	for _, f := range files {
		cases = append(cases, f)
		for i := 0; i < 8; i++ {
			cases = append(cases, f[:24+rng.IntN(len(f)-23)])
		}
		for i := 0; i < 6; i++ { // a damaged capture or original length
			g := append([]byte(nil), f...)
			off := 24 + 8 + 4*rng.IntN(2)
			binary.LittleEndian.PutUint32(g[off:], rng.Uint32()>>uint(rng.IntN(32)))
			cases = append(cases, g)
		}
	}
	for i, c := range cases {
		pg, err := pcapgo.NewReader(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		want := records(func() ([]byte, string, error) {
			d, ci, err := pg.ZeroCopyReadPacketData()
			return d, fmt.Sprint(ci.Timestamp, ci.CaptureLength, ci.Length), err
		})
		fr, ok := plainPcapHeader(c, bytes.NewReader(c[24:]))
		if !ok {
			t.Fatalf("case %d: header not recognised", i)
		}
		got := records(func() ([]byte, string, error) {
			d, ci, err := fr.next()
			return d, fmt.Sprint(ci.Timestamp, ci.CaptureLength, ci.Length), err
		})
		if len(got) != len(want) {
			t.Fatalf("case %d: %d records, pcapgo %d (last: %q, pcapgo %q)", i, len(got), len(want), got[len(got)-1], want[len(want)-1])
		}
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("case %d record %d:\n-pcapgo %s\n+fast   %s", i, j, want[j], got[j])
			}
		}
	}
}

// bigEndian rewrites a little-endian microsecond or nanosecond pcap file
// in big-endian byte order.
func bigEndian(t *testing.T, f []byte) []byte {
	t.Helper()
	g := append([]byte(nil), f...)
	swap := func(b []byte) { binary.BigEndian.PutUint32(b, binary.LittleEndian.Uint32(b)) }
	swap16 := func(b []byte) { binary.BigEndian.PutUint16(b, binary.LittleEndian.Uint16(b)) }
	swap(g[0:4])
	swap16(g[4:6])
	swap16(g[6:8])
	for _, o := range []int{8, 12, 16, 20} {
		swap(g[o : o+4])
	}
	for off := 24; off+16 <= len(g); {
		n := int(binary.LittleEndian.Uint32(g[off+8:]))
		for k := 0; k < 16; k += 4 {
			swap(g[off+k : off+k+4])
		}
		off += 16 + n
	}
	return g
}
