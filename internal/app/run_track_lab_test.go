package app

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/status"
)

// trackFlavour is the VRRP flavour of the track_process and track_file
// tests: VRRPv3 over IPv4 with 100 ms adverts.
var trackFlavour = runFlavour{name: "v3-track", version: 3, interval: 100 * time.Millisecond, subnet: "10.86.0.", plen: "/24", vip: "10.86.0.100"}

// trackedProgram copies sleep(1) under a name no other process has (at
// most 15 bytes, the kernel's limit for process names) and returns a
// function starting it; the processes are killed when the test ends.
func trackedProgram(t *testing.T) (name string, start func() *exec.Cmd) {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	name = fmt.Sprintf("vgtp%08d", rand.IntN(100000000))
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return name, func() *exec.Cmd {
		cmd := exec.Command(path, "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}
}

// runPriority returns the priority and state `vrrpguard status --format
// json` reports for the node's only instance.
func runPriority(t *testing.T, h *netlab.Host) (int, string) {
	t.Helper()
	out := h.Run(t, binary(t), "status", "--format", "json")
	var doc status.Doc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Instances) != 1 {
		t.Fatalf("vrrpguard status --format json: %v:\n%s", err, out)
	}
	return int(doc.Instances[0].Priority), doc.Instances[0].State
}

// waitPriority waits until vrrpguard's status reports prio.
func waitPriority(t *testing.T, h *netlab.Host, prio int, timeout time.Duration) {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		p, st := runPriority(t, h)
		if p == prio {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("vrrpguard status: priority %d (%s), want %d", p, st, prio)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRunTrackProcess: vrrpguard (priority 150, MASTER) tracks a process
// the test starts, with keepalived (100) as BACKUP peer. Killing the
// process lowers vrrpguard's priority below keepalived's (weight -60) or
// puts it into FAULT (weight 0) after delay, and keepalived takes the VIP;
// starting the process again gives it back (preemption). vrrpguard runs in
// a network namespace, so this also covers opening the process connector
// in the initial one.
func TestRunTrackProcess(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := trackFlavour
	const delay = 500 * time.Millisecond
	for _, weight := range []int{-60, 0} {
		t.Run(fmt.Sprintf("weight=%d", weight), func(t *testing.T) {
			t.Parallel()
			name, start := trackedProgram(t)
			proc := start()
			lab, a, b := labPair(t, f)
			conf := fmt.Sprintf("vrrp_track_process tp {\n    process %s\n    weight %d\n    delay %v\n}\n", name, weight, delay.Seconds()) +
				f.conf(150, "track_process {", "    tp", "}")
			ka := b.StartKeepalived(t, f.conf(100))
			g := startRun(t, a, conf)
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			if p, st := runPriority(t, a); p != 150 || st != "MASTER" {
				t.Fatalf("vrrpguard status: %s at %d, want MASTER at 150", st, p)
			}

			_ = proc.Process.Kill()
			_, _ = proc.Process.Wait()
			took := waitHolder(t, lab, b, f.vip, delay+f.mdi(100)+5*time.Second)
			t.Logf("VIP moved to keepalived %v after the process was killed (delay %v, advert interval %v)", took, delay, f.interval)
			onlyHolder(t, lab, b, f.vip, f.mdi(100)+f.interval)
			g.proc.WaitOutput(t, "quorum lost for tracked process", time.Second)
			if weight == 0 {
				g.proc.WaitOutput(t, "entering FAULT state", time.Second)
				if _, st := runPriority(t, a); st != "FAULT" {
					t.Errorf("vrrpguard state %s, want FAULT", st)
				}
			} else {
				waitPriority(t, a, 90, time.Second)
			}

			start()
			took = waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			t.Logf("VIP back on vrrpguard %v after the process was started again", took)
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			waitPriority(t, a, 150, time.Second)
			checkKeepalivedLog(t, ka)
		})
	}
}

// TestRunTrackFile: vrrpguard (priority 150, MASTER) tracks a file (weight
// 1), keepalived (100) is BACKUP. Writing -60 lowers vrrpguard's priority
// to 90 and keepalived takes the VIP; writing 0 gives it back; a value of
// -254 puts vrrpguard into FAULT.
func TestRunTrackFile(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := trackFlavour
	file := filepath.Join(t.TempDir(), "prio")
	conf := fmt.Sprintf("track_file prio {\n    file %s\n    init_file\n}\n", file) + f.conf(150, "track_file {", "    prio", "}")
	lab, a, b := labPair(t, f)
	ka := b.StartKeepalived(t, f.conf(100))
	g := startRun(t, a, conf)
	waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
	if got, err := os.ReadFile(file); err != nil || string(got) != "0\n" {
		t.Errorf("init_file wrote %q (%v), want 0", got, err)
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write("-60")
	took := waitHolder(t, lab, b, f.vip, f.mdi(100)+5*time.Second)
	t.Logf("VIP moved to keepalived %v after writing -60", took)
	waitPriority(t, a, 90, time.Second)
	onlyHolder(t, lab, b, f.vip, f.mdi(100)+f.interval)

	write("0")
	took = waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
	t.Logf("VIP back on vrrpguard %v after writing 0", took)
	waitPriority(t, a, 150, time.Second)
	onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)

	write("-254")
	took = waitHolder(t, lab, b, f.vip, f.mdi(100)+5*time.Second)
	t.Logf("VIP moved to keepalived %v after writing -254 (FAULT)", took)
	g.proc.WaitOutput(t, "entering FAULT state", time.Second)
	checkKeepalivedLog(t, ka)
	if strings.Contains(g.proc.Output(), "level=ERROR") {
		t.Errorf("vrrpguard logged errors:\n%s", g.proc.Output())
	}
}
