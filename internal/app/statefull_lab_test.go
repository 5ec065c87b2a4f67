package app

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestLabWatchStateDirFull: watch's alert state directory is a 64 KiB
// tmpfs that fills up during a split brain. watch keeps printing its
// findings; it logs that the directory cannot be written, shows it in
// /metrics (vrrpguard_alerts_state_unwritable 1, write errors counted)
// and notifies outbox_unwritable along with duplicate_master (delivered
// from memory). Once space returns, outbox_unwritable is resolved, the
// resolve is delivered, and so is the split brain's end.
func TestLabWatchStateDirFull(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	bin := binary(t)
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.114.0.1/24")
	b := lab.AddHost("b", "10.114.0.2/24")
	c := lab.AddHost("c", "10.114.0.3/24")
	const vip = "10.114.0.100"

	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", state, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(state, syscall.MNT_DETACH) })

	hook := startHook(t, c, "127.0.0.1:0")
	w := c.Start(t, bin, "watch", "--interface", "eth0", "--format", "json", "--listen", "127.0.0.1:9812",
		"--state-dir", state, "--webhook", hook.url)
	w.WaitOutput(t, "watching", 10*time.Second)
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 114, Priority: prio, AdvertInt: time.Second, VIPs: []string{vip + "/24"}})
	}
	a.StartKeepalived(t, conf(150))
	b.StartKeepalived(t, conf(100))
	a.WaitAddr(t, vip, 15*time.Second)

	// Fill the state directory's file system.
	filler := filepath.Join(state, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 512); ; {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	b.DropVRRPFrom(t, "10.114.0.1")
	waitFinding(t, w, "duplicate_master", "raised", 30*time.Second) // printed to stdout
	hook.wait(t, "VRRPDuplicateMaster", "firing", 30*time.Second)
	hook.wait(t, "VRRPOutboxUnwritable", "firing", 30*time.Second)
	if !strings.Contains(w.Output(), "alert state directory cannot be written") || !strings.Contains(w.Output(), "no space left on device") {
		t.Errorf("watch did not log that %s is full:\n%s", state, w.Output())
	}
	metrics := func() string {
		resp, err := nsClient(c).Get("http://127.0.0.1:9812/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	m := metrics()
	if !strings.Contains(m, "\nvrrpguard_alerts_state_unwritable 1\n") {
		t.Errorf("metrics while full:\n%s", grepLines(m, "vrrpguard_alerts_"))
	}
	written := false
	for _, l := range strings.Split(grepLines(m, `vrrpguard_alerts_outbox_write_errors_total{sink="webhook:`), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] != "0" {
			written = true
		}
	}
	if !written {
		t.Errorf("write errors of the webhook's outbox not counted:\n%s", grepLines(m, "vrrpguard_alerts_outbox_write_errors_total"))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	hook.wait(t, "VRRPOutboxUnwritable", "resolved", 60*time.Second)
	if m := metrics(); !strings.Contains(m, "\nvrrpguard_alerts_state_unwritable 0\n") {
		t.Errorf("metrics after space returned:\n%s", grepLines(m, "vrrpguard_alerts_"))
	}
	b.ClearDrops(t)
	waitFinding(t, w, "duplicate_master", "resolved", 30*time.Second)
	hook.wait(t, "VRRPDuplicateMaster", "resolved", 30*time.Second)
	waitFor(t, "an empty outbox", 30*time.Second, func() bool { return outboxEmpty(t, state) })
	w.Signal(syscall.SIGTERM)
	<-w.Done()
	if err := w.Err(); err != nil {
		t.Errorf("watch: %v", err)
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
