package participant

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFileLines waits until path has n lines and returns its lines.
func waitFileLines(t *testing.T, path string, n int) []string {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n || time.Now().After(end) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNotifyFIFO creates the FIFO, starts its script with the FIFO's path
// as argument, and checks the lines the script reads: keepalived's format
// (measured with keepalived 2.2.7), in order. Closing removes the FIFO it
// created and stops the script.
func TestNotifyFIFO(t *testing.T) {
	dir := secureDir(t)
	fifo, out, args := dir+"/notify.fifo", dir+"/lines", dir+"/args"
	reader := dir + "/reader.sh"
	if err := os.WriteFile(reader, []byte("#!/bin/sh\necho \"$@\" > "+args+"\nfor a; do last=$a; done\nexec cat \"$last\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	g := keepalived.Global{NotifyFIFO: keepalived.FIFO{Path: fifo, File: "k.conf", Line: 2,
		Script: keepalived.ScriptLine{Cmd: reader + " -x", File: "k.conf", Line: 3}}}
	s := newFIFOSet(&g, quietLog())
	e := newScriptEnv(&g, quietLog(), fakeUsers(nil), s)
	s.open(e)
	fi, err := os.Stat(fifo)
	if err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
		t.Fatalf("FIFO not created: %v %v", fi, err)
	}
	s.instance("VI_1", election.Backup, 100)
	s.instance("VI_1", election.Master, 100)
	s.priority("VI_1", election.Master, 90)
	s.priority("VI_1", election.Backup, 100)
	s.group("G", election.Fault)
	s.instance("VI 2", election.Initialize, 255)
	want := []string{
		`INSTANCE "VI_1" BACKUP 100`,
		`INSTANCE "VI_1" MASTER 100`,
		`INSTANCE "VI_1" MASTER_PRIORITY 90`,
		`INSTANCE "VI_1" BACKUP_PRIORITY 100`,
		`GROUP "G" FAULT 0`,
		`INSTANCE "VI 2" STOP 255`,
	}
	if d := jsondiff.Diff(want, waitFileLines(t, out, len(want))); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if d := jsondiff.Diff([]string{"-x " + fifo}, waitFileLines(t, args, 1)); d != "" {
		t.Errorf("script arguments (-want +got):\n%s", d)
	}
	s.close()
	if _, err := os.Lstat(fifo); !os.IsNotExist(err) {
		t.Errorf("FIFO left behind: %v", err)
	}
	if f := s.fifos[0]; f.script != nil || f.fd != -1 {
		t.Errorf("after close: script %v fd %d", f.script, f.fd)
	}
}

// TestNotifyFIFONeverBlocks writes to an existing FIFO nobody reads: the
// writes return at once, the lines that do not fit are counted as
// dropped, and the FIFO (not vrrpguard's) stays.
func TestNotifyFIFONeverBlocks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "slow.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	g := keepalived.Global{VRRPNotifyFIFO: keepalived.FIFO{Path: fifo}}
	s := newFIFOSet(&g, quietLog())
	s.open(newScriptEnv(&g, quietLog(), fakeUsers(nil), s))
	done := make(chan struct{})
	const lines = 20000 // about 600 KB, ten times a pipe's buffer
	go func() {
		for range lines {
			s.instance("VI_1", election.Master, 100)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writes to a FIFO without reader block")
	}
	d := s.fifos[0].dropped.Load()
	if d == 0 || d >= lines {
		t.Errorf("dropped %d of %d lines, want some but not all (the pipe buffer holds some)", d, lines)
	}
	s.close()
	if _, err := os.Lstat(fifo); err != nil {
		t.Errorf("existing FIFO removed: %v", err)
	}
}

// TestNotifyFIFOMissingDir: a FIFO that cannot be created is left out
// with a warning, and writing is a no-op.
func TestNotifyFIFOMissingDir(t *testing.T) {
	g := keepalived.Global{NotifyFIFO: keepalived.FIFO{Path: filepath.Join(t.TempDir(), "no", "dir.fifo")}}
	s := newFIFOSet(&g, quietLog())
	s.open(newScriptEnv(&g, quietLog(), fakeUsers(nil), s))
	s.instance("VI_1", election.Master, 100)
	if s.fifos[0].fd != -1 || s.fifos[0].dropped.Load() != 0 {
		t.Errorf("fd %d, dropped %d", s.fifos[0].fd, s.fifos[0].dropped.Load())
	}
	s.close()
}

// TestReloadWritesStates: with fifo_write_vrrp_states_on_reload, a reload
// writes the state of every instance it keeps to the notify FIFO (a
// restarted one writes its transitions instead); without it, nothing.
func TestReloadWritesStates(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "vrrp.fifo")
			global := "global_defs {\n    vrrp_notify_fifo " + fifo + "\n"
			if on {
				global += "    fifo_write_vrrp_states_on_reload\n"
			}
			conf := global + "}\n" + reloadBase
			r, err := New(parseConf(t, conf), Options{Logger: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			r.fifo.open(r.fifoEnv)
			defer r.fifo.close()
			for _, i := range r.Instances() {
				i.update(func(s *Status) { s.State, s.Priority = election.Master.String(), 77 })
			}
			if _, err := r.Reload(parseConf(t, strings.Replace(conf, "priority 100", "priority 110", 1))); err != nil {
				t.Fatal(err)
			}
			fd, err := syscall.Open(fifo, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			buf := make([]byte, 4096)
			n, _ := syscall.Read(fd, buf)
			var want []string
			if on {
				want = []string{`INSTANCE "VI_2" MASTER 77`} // VI_1 changed: restarted
			}
			var got []string
			if n > 0 {
				got = strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n")
			}
			if d := jsondiff.Diff(want, got); d != "" {
				t.Errorf("FIFO lines (-want +got):\n%s", d)
			}
		})
	}
}

// TestNotifyFIFONotAFIFO: a regular file at the FIFO's path (a mistyped
// notify_fifo) is left alone — not written over with state lines.
func TestNotifyFIFONotAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "precious.conf")
	if err := os.WriteFile(path, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := keepalived.Global{NotifyFIFO: keepalived.FIFO{Path: path}}
	s := newFIFOSet(&g, quietLog())
	s.open(newScriptEnv(&g, quietLog(), fakeUsers(nil), s))
	s.instance("VI_1", election.Master, 100)
	s.close()
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me\n" {
		t.Errorf("file now %q (err %v), want it unchanged", b, err)
	}
}
