package app

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/exetrim"
	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

// memSplit is where a process's resident memory is, from
// /proc/PID/smaps, in KiB.
type memSplit struct {
	// Anon is every anonymous page: heap, stacks, runtime structures, bss
	// and the copied-on-write pages of the data segment.
	Anon int
	// Text and Rodata are the file pages of the executable's r-x and r--
	// mappings (shared with the page cache); Data the file pages of its
	// writable mapping not (yet) copied.
	Text, Rodata, Data int
	// Ring is the capture rings' memory (the mappings of packet sockets).
	Ring int
	// OtherFile is the file pages of every other file (shared libraries,
	// the vDSO).
	OtherFile int
}

// readMemSplit reads /proc/PID/smaps.
func readMemSplit(pid int) (memSplit, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return memSplit{}, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return memSplit{}, err
	}
	defer f.Close()
	return parseMemSplit(f, exe)
}

// parseMemSplit sums an smaps file by kind of mapping; exe is the path of
// the process's executable.
func parseMemSplit(r io.Reader, exe string) (memSplit, error) {
	maps, err := exetrim.ParseSmaps(r)
	if err != nil {
		return memSplit{}, err
	}
	var s memSplit
	for _, m := range maps {
		s.Anon += m.Anon
		file := m.Rss - m.Anon
		switch {
		case m.Path == exe && strings.HasPrefix(m.Perms, "r-x"):
			s.Text += file
		case m.Path == exe && strings.HasPrefix(m.Perms, "r--"):
			s.Rodata += file
		case m.Path == exe:
			s.Data += file
		case strings.HasPrefix(m.Path, "socket:"):
			s.Ring += file
		default:
			s.OtherFile += file
		}
	}
	return s, nil
}

func TestParseMemSplit(t *testing.T) {
	const smaps = `00400000-00bed000 r-xp 00000000 fe:00 10150539                           /usr/bin/vrrpguard
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
7fce32760000-7fce32960000 rw-s 00000000 00:09 4448207                    socket:[4448207]
Size:               2048 kB
Rss:                2048 kB
Anonymous:             0 kB
7fce795f2000-7fce795f4000 r-xp 00000000 00:00 0                          [vdso]
Size:                  8 kB
Rss:                   8 kB
Anonymous:             0 kB
7ffda77d2000-7ffda77f3000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Rss:                  20 kB
Anonymous:            20 kB
`
	got, err := parseMemSplit(strings.NewReader(smaps), "/usr/bin/vrrpguard")
	if err != nil {
		t.Fatal(err)
	}
	want := memSplit{Anon: 400, Text: 6408, Rodata: 6432, Data: 216, Ring: 2048, OtherFile: 8}
	if d := jsondiff.Diff(want, got); d != "" {
		t.Errorf("parseMemSplit (-want +got):\n%s", d)
	}
	if _, err := parseMemSplit(strings.NewReader("garbage\n"), "/x"); err == nil {
		t.Error("parseMemSplit of garbage: no error")
	}
}
