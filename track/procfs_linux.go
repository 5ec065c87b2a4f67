package track

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxCmdline bounds how much of a command line is read.
const maxCmdline = 64 << 10

// SystemProcfs reads the processes of /proc (or another mount of procfs:
// its value is the mount point, "" meaning /proc).
type SystemProcfs string

func (p SystemProcfs) root() string {
	if p == "" {
		return "/proc"
	}
	return string(p)
}

// Pids lists the numeric entries of /proc.
func (p SystemProcfs) Pids() ([]int, error) {
	ents, err := os.ReadDir(p.root())
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []int
	for _, e := range ents {
		if !e.IsDir() || e.Name()[0] < '1' || e.Name()[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out, nil
}

// Process reads the name and state from /proc/PID/stat (a zombie is
// ErrNoProcess, as keepalived skips them) and, if asked, /proc/PID/cmdline.
func (p SystemProcfs) Process(pid int, cmdline bool) (string, []byte, error) {
	dir := filepath.Join(p.root(), strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return "", nil, gone(err)
	}
	// "PID (COMM) STATE ...": COMM may hold anything, ')' too.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open || end+2 >= len(stat) {
		return "", nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	if stat[end+2] == 'Z' || stat[end+2] == 'X' {
		return "", nil, ErrNoProcess
	}
	comm := string(stat[open+1 : end])
	if !cmdline {
		return comm, nil, nil
	}
	f, err := os.Open(filepath.Join(dir, "cmdline"))
	if err != nil {
		return "", nil, gone(err)
	}
	defer f.Close()
	cmd, err := io.ReadAll(io.LimitReader(f, maxCmdline))
	if err != nil {
		return "", nil, gone(err)
	}
	return comm, cmd, nil
}

func gone(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w: %w", ErrNoProcess, err)
	}
	return err
}

// HiddenProcesses reports whether /proc hides other users' processes
// (mounted with hidepid, as systemd's ProtectProc=invisible does), from
// the contents of /proc/self/mountinfo; the option is returned.
func HiddenProcesses(mountinfo []byte) (bool, string) {
	for _, line := range bytes.Split(mountinfo, []byte("\n")) {
		f := bytes.Fields(line)
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		if len(f) < 10 || string(f[4]) != "/proc" {
			continue
		}
		sep := bytes.Index(line, []byte(" - "))
		if sep < 0 {
			continue
		}
		tail := bytes.Fields(line[sep+3:])
		if len(tail) < 3 || string(tail[0]) != "proc" {
			continue
		}
		for _, o := range bytes.Split(tail[2], []byte(",")) {
			if v, ok := bytes.CutPrefix(o, []byte("hidepid=")); ok && string(v) != "0" && string(v) != "off" {
				return true, string(o)
			}
		}
	}
	return false, ""
}
