package sniffer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"golang.org/x/sys/unix"
)

// fakeBlock lays out a TPACKET_V3 block as the kernel does: the block
// descriptor, then each packet's tpacket3_hdr with the frame at tp_mac,
// chained by tp_next_offset (0 for the last).
func fakeBlock(size int, frames [][]byte, vlan map[int]uint16) []byte {
	blk := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint32(blk[blkStatusOff:], unix.TP_STATUS_USER)
	le.PutUint32(blk[blkNumPktsOff:], uint32(len(frames)))
	off := 64
	le.PutUint32(blk[blkFirstOff:], uint32(off))
	const mac = 80
	for i, f := range frames {
		h := blk[off:]
		next := (mac + len(f) + 15) &^ 15
		if i == len(frames)-1 {
			next = 0
		}
		le.PutUint32(h[0:], uint32(next))
		le.PutUint32(h[4:], uint32(1000+i)) // sec
		le.PutUint32(h[8:], uint32(i))      // nsec
		le.PutUint32(h[12:], uint32(len(f)))
		le.PutUint32(h[16:], uint32(len(f)+4)) // on the wire: longer
		if v, ok := vlan[i]; ok {
			le.PutUint32(h[20:], unix.TP_STATUS_VLAN_VALID)
			le.PutUint32(h[32:], uint32(v)|0x2000) // PCP bits set too
		}
		le.PutUint16(h[24:], mac)
		copy(h[mac:], f)
		off += next
	}
	le.PutUint32(blk[blkLenOff:], uint32(off))
	return blk
}

type walked struct {
	data []byte
	ci   gopacket.CaptureInfo
	vlan uint16
}

func walkAll(r *ring, blk []byte) (int, []walked) {
	var got []walked
	n := r.walk(blk, func(data []byte, ci gopacket.CaptureInfo, vlan uint16) {
		got = append(got, walked{append([]byte(nil), data...), ci, vlan})
	})
	return n, got
}

func TestRingWalk(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 42), bytes.Repeat([]byte{3}, 86)}
	r := &ring{ifindex: 7}
	n, got := walkAll(r, fakeBlock(4096, frames, map[int]uint16{1: 42}))
	if n != 3 || len(got) != 3 {
		t.Fatalf("walked %d packets (%d calls), want 3", n, len(got))
	}
	for i, w := range got {
		want := gopacket.CaptureInfo{Timestamp: time.Unix(int64(1000+i), int64(i)), CaptureLength: len(frames[i]), Length: len(frames[i]) + 4, InterfaceIndex: 7}
		if !bytes.Equal(w.data, frames[i]) || !w.ci.Timestamp.Equal(want.Timestamp) || w.ci.CaptureLength != want.CaptureLength ||
			w.ci.Length != want.Length || w.ci.InterfaceIndex != want.InterfaceIndex {
			t.Errorf("packet %d: got %x %+v, want %x %+v", i, w.data, w.ci, frames[i], want)
		}
		wantVLAN := uint16(0)
		if i == 1 {
			wantVLAN = 42
		}
		if w.vlan != wantVLAN {
			t.Errorf("packet %d: VLAN %d, want %d", i, w.vlan, wantVLAN)
		}
	}
}

// TestRingWalkCorrupt: headers pointing outside the block end the walk
// without a panic.
func TestRingWalkCorrupt(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 60)}
	le := binary.LittleEndian
	tests := []struct {
		name  string
		patch func(blk []byte)
		want  int
	}{
		{"first offset past the end", func(b []byte) { le.PutUint32(b[blkFirstOff:], 1<<20) }, 0},
		{"first offset inside the descriptor", func(b []byte) { le.PutUint32(b[blkFirstOff:], 8) }, 0},
		{"snaplen past the end", func(b []byte) { le.PutUint32(b[64+12:], 1<<20) }, 0},
		{"mac inside the header", func(b []byte) { le.PutUint16(b[64+24:], 4) }, 0},
		{"next offset past the end", func(b []byte) { le.PutUint32(b[64:], 1<<20) }, 1},
		{"more packets claimed than chained", func(b []byte) { le.PutUint32(b[blkNumPktsOff:], 1000) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blk := fakeBlock(4096, frames, nil)
			tt.patch(blk)
			n, got := walkAll(&ring{}, blk)
			if n != tt.want || len(got) != tt.want {
				t.Errorf("walked %d packets (%d calls), want %d", n, len(got), tt.want)
			}
		})
	}
}

func TestRingConfig(t *testing.T) {
	page := os.Getpagesize()
	def := RingConfig{BlockSize: DefaultRingBlockSize, Blocks: DefaultRingBlocks, BlockTimeout: DefaultRingBlockTimeout}
	tests := []struct {
		in      RingConfig
		want    RingConfig
		wantErr bool
	}{
		{RingConfig{}, def, false},
		{RingConfig{BlockSize: 2 * page, Blocks: 4, BlockTimeout: 5 * time.Millisecond}, RingConfig{BlockSize: 2 * page, Blocks: 4, BlockTimeout: 5 * time.Millisecond}, false},
		{RingConfig{BlockSize: page + 1}, RingConfig{}, true},
		{RingConfig{BlockSize: -page}, RingConfig{}, true},
		{RingConfig{Blocks: 1}, RingConfig{}, true},
		{RingConfig{Blocks: -3}, RingConfig{}, true},
		{RingConfig{BlockSize: 1 << 30, Blocks: 4}, RingConfig{}, true},
		{RingConfig{BlockTimeout: time.Microsecond}, RingConfig{}, true},
		{RingConfig{BlockTimeout: time.Hour}, RingConfig{}, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.in), func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("(-want +got)\n-%+v\n+%+v", tt.want, got)
			}
		})
	}
}

func TestParseCaptureMode(t *testing.T) {
	for in, want := range map[string]CaptureMode{"": CaptureRing, "ring": CaptureRing, "socket": CaptureSocket} {
		if got, err := ParseCaptureMode(in); err != nil || got != want {
			t.Errorf("ParseCaptureMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Ring", "mmap", "pcap"} {
		if _, err := ParseCaptureMode(in); err == nil {
			t.Errorf("ParseCaptureMode(%q): no error", in)
		}
	}
}
