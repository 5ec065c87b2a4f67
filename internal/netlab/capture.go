package netlab

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Capture is a tcpdump writing a pcap file, started by [Host.StartCapture].
type Capture struct {
	proc *Proc
	path string
}

// StartCapture runs tcpdump on iface inside the namespace ("eth0" on a host,
// "br0" on [Lab.Bridge] to see the whole segment), writing every packet in
// full, unbuffered, to a pcap file in t.TempDir(). An optional filter
// (tcpdump expression, e.g. "vrrp or arp") restricts what is written.
// StartCapture returns once tcpdump is capturing.
func (h *Host) StartCapture(t testing.TB, iface string, filter ...string) *Capture {
	t.Helper()
	c := &Capture{path: filepath.Join(t.TempDir(), h.name+"-"+iface+".pcap")}
	// -Z root: stay root, or tcpdump could not write into t.TempDir() (0700).
	args := append([]string{"-i", iface, "-U", "--immediate-mode", "-s", "0", "-Z", "root", "-w", c.path}, filter...)
	c.proc = h.Start(t, "tcpdump", args...)
	c.proc.WaitOutput(t, "listening on", 10*time.Second)
	return c
}

// Path returns the pcap file's path.
func (c *Capture) Path() string { return c.path }

// Output returns what tcpdump printed (the banner, and its packet counts
// once stopped).
func (c *Capture) Output() string { return c.proc.Output() }

// Stop stops tcpdump cleanly (SIGINT, so it flushes and closes the file)
// and returns the pcap file's path. It is idempotent.
func (c *Capture) Stop() string {
	_ = c.proc.stop(syscall.SIGINT, 5*time.Second)
	return c.path
}

// Read stops the capture if needed and returns tcpdump's one-line decode
// (tcpdump -nn -e -r) of each packet matching the optional filter.
func (c *Capture) Read(t testing.TB, filter ...string) []string {
	t.Helper()
	c.Stop()
	args := append([]string{"-nn", "-e", "-Z", "root", "-r", c.path}, filter...)
	cmd := exec.Command(tool("tcpdump"), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netlab: tcpdump %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// String describes the capture.
func (c *Capture) String() string { return fmt.Sprintf("capture %s", c.path) }
