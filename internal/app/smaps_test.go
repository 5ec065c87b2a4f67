package app

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

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
	var s memSplit
	var kind *int // the file-page counter of the current mapping
	var rss int
	flush := func(anon int) {
		if kind != nil {
			*kind += rss - anon
		}
		s.Anon += anon
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header line
			if len(f) < 5 || !strings.Contains(f[0], "-") {
				return s, fmt.Errorf("smaps: bad mapping line %q", sc.Text())
			}
			path := ""
			if len(f) >= 6 {
				path = strings.Join(f[5:], " ")
			}
			perms := f[1]
			switch {
			case path == exe && strings.HasPrefix(perms, "r-x"):
				kind = &s.Text
			case path == exe && strings.HasPrefix(perms, "r--"):
				kind = &s.Rodata
			case path == exe:
				kind = &s.Data
			case strings.HasPrefix(path, "socket:"):
				kind = &s.Ring
			default:
				kind = &s.OtherFile
			}
			rss = 0
			continue
		}
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue // VmFlags and the like
		}
		switch f[0] {
		case "Rss:":
			rss = n
		case "Anonymous:":
			// Anonymous follows Rss in each mapping's block.
			flush(n)
			kind = nil
		}
	}
	return s, sc.Err()
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
