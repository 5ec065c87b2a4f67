package exetrim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

const sampleSmaps = `00400000-00bed000 r-xp 00000000 fe:00 10150539                           /usr/bin/vrrpguard
Size:               8116 kB
Rss:                6408 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
00bed000-01475000 r--p 007ed000 fe:00 10150539                           /usr/bin/vrrpguard
Size:               8736 kB
Rss:                6432 kB
Anonymous:             0 kB
01475000-014e9000 rw-p 01075000 fe:00 10150539                           /usr/bin/vrrpguard
Size:                464 kB
Rss:                 336 kB
Anonymous:           120 kB
014e9000-03a5e000 rw-p 00000000 00:00 0 
Size:              38356 kB
Rss:                 260 kB
Anonymous:           260 kB
7f0000000000-7f0000001000 r--p 00010000 fe:00 10150539                   /usr/bin/vrrpguard
Size:                  4 kB
Rss:                   4 kB
Anonymous:             4 kB
7f0000001000-7f0000002000 r--s 00000000 fe:00 10150539                   /usr/bin/vrrpguard
Size:                  4 kB
Rss:                   4 kB
Anonymous:             0 kB
7f0000002000-7f0000003000 r-xp 00000000 fe:00 777                        /usr/lib/other file.so
Size:                  4 kB
Rss:                   4 kB
Anonymous:             0 kB
7fce32760000-7fce32960000 rw-s 00000000 00:09 4448207                    socket:[4448207]
Size:               2048 kB
Rss:                2048 kB
Anonymous:             0 kB
`

func TestParseSmaps(t *testing.T) {
	got, err := ParseSmaps(strings.NewReader(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{Start: 0x400000, End: 0xbed000, Perms: "r-xp", Dev: "fe:00", Inode: 10150539, Path: "/usr/bin/vrrpguard", Rss: 6408},
		{Start: 0xbed000, End: 0x1475000, Perms: "r--p", Dev: "fe:00", Inode: 10150539, Path: "/usr/bin/vrrpguard", Rss: 6432},
		{Start: 0x1475000, End: 0x14e9000, Perms: "rw-p", Dev: "fe:00", Inode: 10150539, Path: "/usr/bin/vrrpguard", Rss: 336, Anon: 120},
		{Start: 0x14e9000, End: 0x3a5e000, Perms: "rw-p", Dev: "00:00", Rss: 260, Anon: 260},
		{Start: 0x7f0000000000, End: 0x7f0000001000, Perms: "r--p", Dev: "fe:00", Inode: 10150539, Path: "/usr/bin/vrrpguard", Rss: 4, Anon: 4},
		{Start: 0x7f0000001000, End: 0x7f0000002000, Perms: "r--s", Dev: "fe:00", Inode: 10150539, Path: "/usr/bin/vrrpguard", Rss: 4},
		{Start: 0x7f0000002000, End: 0x7f0000003000, Perms: "r-xp", Dev: "fe:00", Inode: 777, Path: "/usr/lib/other file.so", Rss: 4},
		{Start: 0x7fce32760000, End: 0x7fce32960000, Perms: "rw-s", Dev: "00:09", Inode: 4448207, Path: "socket:[4448207]", Rss: 2048},
	}
	if d := jsondiff.Diff(want, got); d != "" {
		t.Errorf("ParseSmaps (-want +got):\n%s", d)
	}
	// Only the first two: read-only, private, of the executable, no
	// copied page. Never the writable data, a mapping with anonymous
	// (relocated) pages, a shared mapping or another file.
	var drop []int
	for i, m := range got {
		if m.droppable("fe:00", 10150539) {
			drop = append(drop, i)
		}
	}
	if d := jsondiff.Diff([]int{0, 1}, drop); d != "" {
		t.Errorf("droppable (-want +got):\n%s", d)
	}
}

func TestParseSmapsErrors(t *testing.T) {
	for _, in := range []string{
		"garbage\n",
		"00400000 r-xp 00000000 fe:00 1 /x\n",
		"zz-00400000 r-xp 00000000 fe:00 1 /x\n",
		"00500000-00400000 r-xp 00000000 fe:00 1 /x\n",
		"00400000-00500000 r-xp 00000000 fe:00 inode /x\n",
		"00400000-00500000 r-xp 00000000 fe:00 1 /x\nAnonymous: many kB\n",
	} {
		if m, err := ParseSmaps(strings.NewReader(in)); err == nil {
			t.Errorf("ParseSmaps(%q) = %v, want an error", in, m)
		}
	}
}

// exeMappings returns this process's droppable mappings of its
// executable.
func exeMappings(t *testing.T) []Mapping {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := ParseSmaps(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	var out []Mapping
	for _, m := range maps {
		if m.droppable(dev, st.Ino) {
			out = append(out, m)
		}
	}
	return out
}

// digest hashes the memory of this process's mappings, read through
// /proc/self/mem.
func digest(t *testing.T, maps []Mapping) [sha256.Size]byte {
	t.Helper()
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	h := sha256.New()
	for _, m := range maps {
		buf := make([]byte, m.End-m.Start)
		if _, err := mem.ReadAt(buf, int64(m.Start)); err != nil {
			t.Fatalf("read %x-%x: %v", m.Start, m.End, err)
		}
		h.Write(buf)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// TestDrop drops the test binary's own read-only mappings: their resident
// pages fall, their content reads back the same and the process goes on
// running the code.
func TestDrop(t *testing.T) {
	before := exeMappings(t)
	if len(before) == 0 {
		t.Fatal("no read-only mapping of the executable found in /proc/self/smaps")
	}
	sum := digest(t, before) // faults every page of them in
	rss := 0
	for _, m := range exeMappings(t) {
		rss += m.Rss
	}
	res, err := Drop()
	if err != nil {
		t.Fatal(err)
	}
	after := exeMappings(t)
	rssAfter := 0
	for _, m := range after {
		rssAfter += m.Rss
	}
	t.Logf("dropped %d mappings (%d KiB mapped, %d KiB resident); resident %d KiB before, %d KiB after", res.Mappings, res.Bytes>>10, res.RSSKiB, rss, rssAfter)
	if res.Mappings != len(before) {
		t.Errorf("Drop dropped %d mappings, want %d", res.Mappings, len(before))
	}
	// Reading smaps again faults some pages back (64 KiB around each
	// fault): about half of this small binary's.
	if rssAfter > rss*3/4 {
		t.Errorf("resident pages of the executable's read-only mappings: %d KiB before Drop, %d KiB after; want less than three quarters", rss, rssAfter)
	}
	if got := digest(t, after); got != sum {
		t.Error("the executable's read-only mappings read back different after Drop")
	}
	// Code and constants work after the drop.
	if got := fmt.Sprintf("%x %s", sha256.Sum256([]byte("vrrp")), strings.Repeat("ab", 2)); !strings.HasSuffix(got, " abab") || len(got) != 69 {
		t.Errorf("after Drop: %q", got)
	}
}

// TestNotDroppable: mappings whose pages cannot be read back from the file
// unchanged are never dropped: writable or shared ones, others' files, and
// read-only ones with copied pages, resident or swapped out (a
// position-independent executable's relocated RELRO pages).
func TestNotDroppable(t *testing.T) {
	base := Mapping{Start: 0x400000, End: 0x500000, Perms: "r--p", Dev: "08:01", Inode: 42}
	if !base.droppable("08:01", 42) {
		t.Fatalf("%+v not droppable", base)
	}
	for name, m := range map[string]Mapping{
		"writable":            {Start: 0x400000, End: 0x500000, Perms: "rw-p", Dev: "08:01", Inode: 42},
		"shared":              {Start: 0x400000, End: 0x500000, Perms: "r--s", Dev: "08:01", Inode: 42},
		"another file":        {Start: 0x400000, End: 0x500000, Perms: "r--p", Dev: "08:01", Inode: 43},
		"copied pages":        {Start: 0x400000, End: 0x500000, Perms: "r--p", Dev: "08:01", Inode: 42, Anon: 152},
		"copied, swapped":     {Start: 0x400000, End: 0x500000, Perms: "r--p", Dev: "08:01", Inode: 42, Swap: 152},
		"empty":               {Start: 0x400000, End: 0x400000, Perms: "r--p", Dev: "08:01", Inode: 42},
		"anonymous (no file)": {Start: 0x400000, End: 0x500000, Perms: "r--p", Dev: "00:00", Inode: 0},
	} {
		if m.droppable("08:01", 42) {
			t.Errorf("%s: %+v droppable", name, m)
		}
	}
	maps, err := ParseSmaps(strings.NewReader("00400000-00500000 r--p 00000000 08:01 42 /usr/bin/vrrpguard\nRss: 100 kB\nAnonymous: 0 kB\nSwap: 8 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 1 || maps[0].Swap != 8 || maps[0].droppable("08:01", 42) {
		t.Errorf("a mapping with swapped-out copied pages: %+v, want Swap 8 and not droppable", maps)
	}
}

// TestElfType: Drop acts only on fixed-address executables (ET_EXEC), as
// this test binary is; a position-independent one (ET_DYN) has relocated
// read-only pages.
func TestElfType(t *testing.T) {
	hdr := func(class, data byte, typ uint16) []byte {
		h := make([]byte, 18)
		copy(h, "\x7fELF")
		h[4], h[5] = class, data
		if data == 2 {
			h[16], h[17] = byte(typ>>8), byte(typ)
		} else {
			h[16], h[17] = byte(typ), byte(typ>>8)
		}
		return h
	}
	for _, tc := range []struct {
		name string
		h    []byte
		want uint16
	}{
		{"EXEC, little-endian", hdr(2, 1, 2), 2},
		{"DYN (PIE), little-endian", hdr(2, 1, 3), 3},
		{"EXEC, big-endian", hdr(2, 2, 2), 2},
		{"DYN, big-endian", hdr(1, 2, 3), 3},
		{"not ELF", append([]byte("#!/bin/sh\n"), make([]byte, 8)...), 0},
		{"short", []byte("\x7fELF"), 0},
	} {
		if got := elfType(tc.h); got != tc.want {
			t.Errorf("%s: elfType = %d, want %d", tc.name, got, tc.want)
		}
	}
	ok, err := isExec("/proc/self/exe")
	if err != nil || !ok {
		t.Errorf("isExec(this test binary) = %v, %v; want true (go test links ET_EXEC on linux/amd64)", ok, err)
	}
}
