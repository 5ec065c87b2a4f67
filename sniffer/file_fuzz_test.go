package sniffer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpguard/vrrpguard/obs"
)

// ngSeed is a pcapng file with two interfaces (Ethernet and Linux cooked)
// holding frames from the v2none capture, for FuzzReadFiles' corpus.
func ngSeed(t testing.TB) []byte {
	t.Helper()
	fr := frames(t, "v2none")
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	sll, err := w.AddInterface(pcapgo.NgInterface{Name: "", LinkType: layers.LinkTypeLinuxSLL, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, f := range fr[:min(len(fr), 4)] {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Second), CaptureLength: len(f), Length: len(f)}
		if i%2 == 1 && len(f) > 12 {
			f = append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, f[12:]...)
			ci.CaptureLength, ci.Length, ci.InterfaceIndex = len(f), len(f), sll
		}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReadFiles feeds arbitrary bytes as a capture file through ReadFiles,
// the function `vrrpguard replay` reads files with: pcap and pcapng file
// headers, record lengths, interface blocks and the frames in them. With
// merge set the file is merged with a valid capture. Nothing may panic; a
// file that cannot be opened is a *FileError naming it, and a file that can
// yields at most one observation per packet read.
func FuzzReadFiles(f *testing.F) {
	for _, name := range []string{"v2none", "v2pass", "v3v6"} {
		b, err := os.ReadFile(capPath(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b[:len(b)-7], true)
		f.Add(b[:24], false)
	}
	ng := ngSeed(f)
	f.Add(ng, false)
	f.Add(ng, true)
	f.Add(ng[:len(ng)-5], false)
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a}, false)
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, false)
	good := capPath("v2none")
	f.Fuzz(func(t *testing.T, data []byte, merge bool) {
		path := filepath.Join(t.TempDir(), "fuzz.pcap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths := []string{path}
		if merge {
			paths = append(paths, good)
		}
		seen := 0
		st, err := ReadFiles(paths, func(o *obs.Observation) {
			seen++
			if o.Interface == "" {
				t.Errorf("observation without interface: %+v", o)
			}
		})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != path {
				t.Fatalf("error %v (%T) is not a *FileError naming %s", err, err, path)
			}
			if seen != 0 {
				t.Fatalf("%d observations delivered although opening failed", seen)
			}
			return
		}
		if len(st) != len(paths) {
			t.Fatalf("%d file stats for %d files", len(st), len(paths))
		}
		var packets uint64
		for _, s := range st {
			packets += s.Packets
		}
		if uint64(seen) > packets {
			t.Fatalf("%d observations from %d packets", seen, packets)
		}
	})
}
