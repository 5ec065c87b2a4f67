// Package exetrim drops the running process's page-table mappings of its
// executable's read-only segments (code and constants) with madvise(2)
// MADV_DONTNEED, so that the file pages touched only by initialisation
// leave the process's resident set (proc(5) VmRSS) once start-up is over:
// they stay in the page cache, shared and reclaimable, and the pages the
// process still uses are mapped again from there on their next access (a
// minor fault). Only private mappings of the executable that are not
// writable and hold no anonymous (copied-on-write) page are touched, so no
// content is lost: such a page reads back exactly as the file has it.
package exetrim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mapping is one mapping of a process (a line of /proc/PID/maps), with
// what smaps says of its pages.
type Mapping struct {
	Start, End uintptr
	Perms      string // e.g. "r-xp"
	Dev        string // "major:minor", in hexadecimal
	Inode      uint64
	Path       string
	// Rss, Anon and Swap are what smaps says, in KiB: Anon counts only
	// the resident copied pages, Swap the copied pages swapped out.
	Rss, Anon, Swap int
}

// droppable reports whether m is a read-only private mapping of the file
// (dev, inode) with no copied page, resident or swapped out: one whose
// pages can be dropped and read back unchanged.
func (m Mapping) droppable(dev string, inode uint64) bool {
	return len(m.Perms) == 4 && m.Perms[0] == 'r' && m.Perms[1] == '-' && m.Perms[3] == 'p' &&
		m.Dev == dev && m.Inode == inode && inode != 0 && m.Anon == 0 && m.Swap == 0 && m.End > m.Start
}

// ParseSmaps parses /proc/PID/smaps.
func ParseSmaps(r io.Reader) ([]Mapping, error) {
	var out []Mapping
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") {
			m, err := parseMapsLine(f)
			if err != nil {
				return nil, fmt.Errorf("smaps line %q: %w", line, err)
			}
			out = append(out, m)
			continue
		}
		if len(out) == 0 || len(f) < 2 {
			continue
		}
		cur := &out[len(out)-1]
		switch f[0] {
		case "Rss:":
			cur.Rss, _ = strconv.Atoi(f[1])
		case "Anonymous:", "Swap:":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("smaps line %q: %w", line, err)
			}
			if f[0] == "Swap:" {
				cur.Swap = n
			} else {
				cur.Anon = n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	return out, nil
}

// parseMapsLine parses the fields of a mapping line: "start-end perms
// offset dev inode [path]".
func parseMapsLine(f []string) (Mapping, error) {
	if len(f) < 5 {
		return Mapping{}, fmt.Errorf("want at least 5 fields, got %d", len(f))
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return Mapping{}, fmt.Errorf("address range %q", f[0])
	}
	start, err := strconv.ParseUint(lo, 16, 64)
	if err != nil {
		return Mapping{}, fmt.Errorf("address range %q: %w", f[0], err)
	}
	end, err := strconv.ParseUint(hi, 16, 64)
	if err != nil || end < start {
		return Mapping{}, fmt.Errorf("address range %q", f[0])
	}
	inode, err := strconv.ParseUint(f[4], 10, 64)
	if err != nil {
		return Mapping{}, fmt.Errorf("inode %q: %w", f[4], err)
	}
	m := Mapping{Start: uintptr(start), End: uintptr(end), Perms: f[1], Dev: f[3], Inode: inode}
	if len(f) > 5 {
		m.Path = strings.Join(f[5:], " ")
	}
	return m, nil
}

// Result is what Drop did.
type Result struct {
	// Mappings is how many mappings were dropped, Bytes their size and
	// RSSKiB their resident size before.
	Mappings int
	Bytes    int64
	RSSKiB   int
}

// ErrNotExec is returned by Drop for an executable that is not a
// fixed-address ELF executable (ET_EXEC): a position-independent one has
// read-only pages the loader rewrote (RELRO), which must never be dropped.
var ErrNotExec = errors.New("not a fixed-address ELF executable (ET_EXEC); nothing dropped")

// Drop drops this process's resident pages of the droppable mappings of
// its executable (/proc/self/exe): private, not writable, with no copied
// page. It drops nothing from a position-independent executable
// (ErrNotExec). It needs no privilege.
func Drop() (Result, error) {
	if ok, err := isExec("/proc/self/exe"); err != nil {
		return Result{}, err
	} else if !ok {
		return Result{}, ErrNotExec
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return Result{}, fmt.Errorf("stat executable: %w", err)
	}
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return Result{}, fmt.Errorf("read smaps: %w", err)
	}
	maps, err := ParseSmaps(bytes.NewReader(raw))
	if err != nil {
		return Result{}, err
	}
	dev := fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	var res Result
	for _, m := range maps {
		if !m.droppable(dev, st.Ino) {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.Start, m.End-m.Start, unix.MADV_DONTNEED); errno != 0 {
			return res, fmt.Errorf("madvise %x-%x %s: %w", m.Start, m.End, m.Perms, errno)
		}
		res.Mappings++
		res.Bytes += int64(m.End - m.Start)
		res.RSSKiB += m.Rss
	}
	return res, nil
}

// isExec reports whether the ELF file at path is a fixed-address
// executable (e_type ET_EXEC), reading its header's type field.
func isExec(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("read executable: %w", err)
	}
	defer f.Close()
	var h [18]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false, fmt.Errorf("read executable's ELF header: %w", err)
	}
	return elfType(h[:]) == elfExec, nil
}

const elfExec = 2 // ET_EXEC

// elfType is the e_type of an ELF header (at least 18 bytes), or 0 when it
// is not ELF.
func elfType(h []byte) uint16 {
	if len(h) < 18 || string(h[:4]) != "\x7fELF" {
		return 0
	}
	if h[5] == 2 { // ELFDATA2MSB
		return uint16(h[16])<<8 | uint16(h[17])
	}
	return uint16(h[16]) | uint16(h[17])<<8
}
