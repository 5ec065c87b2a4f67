package app

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// fifoReader collects the lines written to an existing FIFO until every
// writer has closed it.
type fifoReader struct {
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func readFIFO(t *testing.T, path string) *fifoReader {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &fifoReader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		f, err := os.Open(path) // blocks until the node opens it
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			r.mu.Lock()
			r.lines = append(r.lines, sc.Text())
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		// Unblock a reader still waiting for a writer.
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-r.done
	})
	return r
}

// wait waits until the reader has n lines and returns them.
func (r *fifoReader) wait(n int, timeout time.Duration) []string {
	end := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		l := slices.Clone(r.lines)
		r.mu.Unlock()
		if len(l) >= n || time.Now().After(end) {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stateLines returns the lines without the MASTER_RX_LOWER_PRI events,
// whose number depends on timing (the adverts a new master hears from the
// old one before it yields), checking their form.
func stateLines(t *testing.T, inst string, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "MASTER_RX_LOWER_PRI") {
			if l != inst+"MASTER_RX_LOWER_PRI 150" {
				t.Errorf("line %q, want %q", l, inst+"MASTER_RX_LOWER_PRI 150")
			}
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestRunNotifyFIFO runs the same configuration with vrrpguard and with
// keepalived 2.2.7 (which defines the expected lines) against a keepalived
// peer: vrrp_notify_fifo (an existing FIFO the test reads) and notify_fifo
// (created by the node, read by its notify_fifo_script, which gets the
// FIFO's path as argument) with vrrp_notify_priority_changes receive
// keepalived's lines in order through start-up, a track script lowering
// the priority (the peer takes over), its recovery (preemption) and a
// clean stop (keepalived also writes MASTER_RX_LOWER_PRI when, as master,
// it hears the peer's lower priority); notify_master runs as the user and group on its line
// (nobody nogroup), the FIFO script as script_user (root).
func TestRunNotifyFIFO(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := scriptFlavour
	f.subnet, f.vip = "10.85.0.", "10.85.0.100"
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("vrrpguard=%v", guard), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// nobody must reach its script: t.TempDir and its parent are 0700.
			for _, d := range []string{dir, filepath.Dir(dir)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(out, os.ModeSticky|0o777); err != nil {
				t.Fatal(err)
			}
			script := func(name, body string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			}
			who := script("who.sh", "echo \"$(id -u):$(id -g)\" >> "+out+"/who\n")
			reader := script("reader.sh", "echo \"$(id -u) $@\" > "+out+"/args\nfor a; do last=$a; done\nexec cat \"$last\" >> "+out+"/lines\n")
			ok := filepath.Join(dir, "ok")
			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			vrrpFIFO, notifyFIFO := filepath.Join(dir, "vrrp.fifo"), filepath.Join(dir, "notify.fifo")
			rd := readFIFO(t, vrrpFIFO)
			conf := "global_defs {\n    script_user root\n    enable_script_security\n" +
				"    vrrp_notify_fifo " + vrrpFIFO + "\n    notify_fifo " + notifyFIFO + "\n    notify_fifo_script " + reader + "\n" +
				"    vrrp_notify_priority_changes\n}\n" +
				fmt.Sprintf("vrrp_script chk_ok {\n    script \"/usr/bin/test -e %s\"\n    interval 1\n    weight -60\n    fall 1\n    rise 1\n}\n", ok) +
				f.conf(150, "track_script {", "    chk_ok", "}", "notify_master "+who+" nobody nogroup")

			lab, a, b := labPair(t, f)
			peer := b.StartKeepalived(t, f.conf(100))
			n := startNode(t, a, guard, conf)
			inst := `INSTANCE "VI_V3_SCRIPTS" `
			want := []string{inst + "BACKUP 150", inst + "MASTER 150"}
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			rd.wait(len(want), 3*time.Second)

			if err := os.Remove(ok); err != nil {
				t.Fatal(err)
			}
			waitHolder(t, lab, b, f.vip, 2*time.Second+f.mdi(100)+time.Second)
			want = append(want, inst+"MASTER_PRIORITY 90", inst+"BACKUP 90")
			rd.wait(len(want), 3*time.Second)

			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitHolder(t, lab, a, f.vip, 2*time.Second+f.mdi(150)+time.Second)
			want = append(want, inst+"BACKUP_PRIORITY 150", inst+"MASTER 150")
			rd.wait(len(want), 3*time.Second)
			beforeStop := slices.Clone(want)
			// notify_master runs on its own: let its second run finish
			// writing before the stop (which ends running scripts).
			waitLines(t, filepath.Join(out, "who"), 2, 5*time.Second)

			n.stop(t)
			want = append(want, inst+"STOP 150")
			select {
			case <-rd.done: // the node closed the FIFO
			case <-time.After(10 * time.Second):
				t.Errorf("%s did not close %s on stop", n.name(), vrrpFIFO)
			}
			if got := stateLines(t, inst, rd.wait(len(want), time.Second)); !slices.Equal(got, want) {
				t.Errorf("%s: vrrp_notify_fifo lines\n got %q\nwant %q", n.name(), got, want)
			}
			// The FIFO script's FIFO: the same lines (keepalived stops the
			// script before it writes STOP, so that line is not compared).
			got := stateLines(t, inst, readLines(filepath.Join(out, "lines")))
			if len(got) < len(beforeStop) || !slices.Equal(got[:len(beforeStop)], beforeStop) {
				t.Errorf("%s: notify_fifo lines read by its script\n got %q\nwant %q (+ STOP)", n.name(), got, beforeStop)
			}
			if _, err := os.Lstat(notifyFIFO); !os.IsNotExist(err) {
				t.Errorf("%s left the FIFO it created: %v", n.name(), err)
			}
			if _, err := os.Lstat(vrrpFIFO); err != nil {
				t.Errorf("%s removed the FIFO it did not create: %v", n.name(), err)
			}
			if got, want := readLines(filepath.Join(out, "args")), []string{"0 " + notifyFIFO}; !slices.Equal(got, want) {
				t.Errorf("%s: FIFO script saw uid and arguments %q, want %q", n.name(), got, want)
			}
			if got, want := readLines(filepath.Join(out, "who")), []string{"65534:65534", "65534:65534"}; !slices.Equal(got, want) {
				t.Errorf("%s: notify_master ran as %q, want nobody:nogroup twice", n.name(), got)
			}
			if n.guard != nil && strings.Contains(n.log(), "not run") {
				t.Errorf("vrrpguard refused a script:\n%s", n.log())
			}
			checkKeepalivedLog(t, peer)
		})
	}
}
