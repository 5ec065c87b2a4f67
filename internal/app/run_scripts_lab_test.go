package app

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// scriptFlavour is the VRRP flavour of the script tests: VRRPv3 over IPv4
// with 100 ms adverts, so transitions are quick.
var scriptFlavour = runFlavour{name: "v3-scripts", version: 3, interval: 100 * time.Millisecond, subnet: "10.84.0.", plen: "/24", vip: "10.84.0.100"}

// trackConf renders a keepalived.conf whose instance tracks the existence of
// okFile with a vrrp_script of the given weight (0: FAULT on failure).
func trackConf(f runFlavour, prio, weight int, okFile string, extra ...string) string {
	script := scriptSecurity + fmt.Sprintf("vrrp_script chk_ok {\n    script \"/usr/bin/test -e %s\"\n    interval 1\n    weight %d\n    fall 1\n    rise 1\n}\n", okFile, weight)
	return script + f.conf(prio, append([]string{"track_script {", "    chk_ok", "}"}, extra...)...)
}

// scriptSecurity makes keepalived run scripts as root without the
// "SECURITY VIOLATION" that fails --config-test (scripts live in
// t.TempDir(), writable by root only).
const scriptSecurity = "global_defs {\n    script_user root\n    enable_script_security\n}\n"

// vrrpNode is either implementation on a host: vrrpguard run or keepalived.
type vrrpNode struct {
	guard *runNode
	ka    *netlab.Keepalived
}

func startNode(t *testing.T, h *netlab.Host, guard bool, conf string) vrrpNode {
	t.Helper()
	if guard {
		return vrrpNode{guard: startRun(t, h, conf)}
	}
	return vrrpNode{ka: h.StartKeepalived(t, conf)}
}

func (n vrrpNode) name() string {
	if n.guard != nil {
		return "vrrpguard"
	}
	return "keepalived"
}

func (n vrrpNode) log() string {
	if n.guard != nil {
		return n.guard.proc.Output()
	}
	return n.ka.Log()
}

// stop stops the node cleanly (SIGTERM).
func (n vrrpNode) stop(t *testing.T) {
	t.Helper()
	var err error
	if n.guard != nil {
		err = n.guard.proc.Stop()
	} else {
		err = n.ka.Stop()
	}
	if err != nil {
		t.Errorf("%s exit: %v\n%s", n.name(), err, n.log())
	}
}

// TestRunTrackScript moves mastership with a vrrp_script: the node with the
// higher priority (150) tracks a file; removing it lowers its priority
// below the peer's (weight -60: 90 < 100) or puts it into FAULT (weight 0),
// and the peer (100) takes the VIP; restoring the file gives the VIP back
// (preemption). The tracking node is vrrpguard with keepalived as peer, and
// the reverse.
func TestRunTrackScript(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := scriptFlavour
	for _, weight := range []int{-60, 0} {
		for _, guardTracks := range []bool{true, false} {
			t.Run(fmt.Sprintf("weight=%d/vrrpguard-tracks=%v", weight, guardTracks), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				ok := filepath.Join(dir, "ok")
				if err := os.WriteFile(ok, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				nl, lines := notifyConf(t, dir)
				lab, a, b := labPair(t, f)
				peer := startNode(t, b, !guardTracks, f.conf(100))
				tracker := startNode(t, a, guardTracks, trackConf(f, 150, weight, ok, lines...))
				waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
				onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)

				// The script fails at its next run (interval 1 s, fall 1).
				if err := os.Remove(ok); err != nil {
					t.Fatal(err)
				}
				took := waitHolder(t, lab, b, f.vip, 2*time.Second+f.mdi(100)+time.Second)
				t.Logf("VIP moved to the peer %v after the file was removed", took)
				onlyHolder(t, lab, b, f.vip, f.mdi(100)+f.interval)
				if weight == 0 {
					if guardTracks {
						tracker.guard.proc.WaitOutput(t, "entering FAULT state", time.Second)
					} else {
						tracker.ka.WaitLog(t, "Entering FAULT STATE", time.Second)
					}
				} else if guardTracks && !strings.Contains(tracker.log(), "priority=90") {
					t.Errorf("vrrpguard logged no priority 90:\n%s", tracker.log())
				}

				// Restored: the tracker preempts the peer again.
				if err := os.WriteFile(ok, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				took = waitHolder(t, lab, a, f.vip, 2*time.Second+f.mdi(150)+time.Second)
				t.Logf("VIP back on the tracker %v after the file was restored", took)
				onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
				// notify's priority is the effective one.
				inst := "INSTANCE VI_V3_SCRIPTS "
				want := []string{inst + "BACKUP 150", inst + "MASTER 150", inst + "BACKUP 90", inst + "MASTER 150"}
				if weight == 0 {
					want = []string{inst + "BACKUP 150", inst + "MASTER 150", inst + "FAULT 150", inst + "BACKUP 150", inst + "MASTER 150"}
				}
				if got := waitLines(t, nl.generic, len(want), 2*time.Second); !slices.Equal(got, want) {
					t.Errorf("%s: notify lines\n got %q\nwant %q", tracker.name(), got, want)
				}
				for _, n := range []vrrpNode{peer, tracker} {
					if n.ka != nil {
						checkKeepalivedLog(t, n.ka)
					}
				}
			})
		}
	}
}

// notifyLog is where the notify scripts of TestRunNotifyScripts append
// their arguments: one file for notify_master/backup/fault/stop, one for
// notify.
type notifyLog struct{ specific, generic string }

// notifyConf writes the notify scripts into dir and returns the lines that
// configure them.
func notifyConf(t *testing.T, dir string) (notifyLog, []string) {
	t.Helper()
	l := notifyLog{specific: filepath.Join(dir, "specific.log"), generic: filepath.Join(dir, "generic.log")}
	script := func(name, log string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spec, gen := script("specific.sh", l.specific), script("generic.sh", l.generic)
	return l, []string{
		fmt.Sprintf("notify_master \"%s master\"", spec),
		fmt.Sprintf("notify_backup \"%s backup\"", spec),
		fmt.Sprintf("notify_fault \"%s fault\"", spec),
		fmt.Sprintf("notify_stop \"%s stop\"", spec),
		"notify " + gen,
	}
}

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// waitLines waits until path has at least n lines and returns them.
func waitLines(t *testing.T, path string, n int, timeout time.Duration) []string {
	t.Helper()
	end := time.Now().Add(timeout)
	for {
		l := readLines(path)
		if len(l) >= n && l[0] != "" || time.Now().After(end) {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunNotifyScripts checks the arguments of the notify scripts, with
// the same configuration run by vrrpguard and by keepalived (which defines
// the expected lines): startup (BACKUP, then MASTER after
// Master_Down_Interval), a weight-0 track script failing (FAULT) and
// recovering (BACKUP, MASTER), and a clean stop.
func TestRunNotifyScripts(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := scriptFlavour
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("vrrpguard=%v", guard), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ok := filepath.Join(dir, "ok")
			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			nl, lines := notifyConf(t, dir)
			lab, a, b := labPair(t, f)
			peer := b.StartKeepalived(t, f.conf(100))
			n := startNode(t, a, guard, trackConf(f, 150, 0, ok, lines...))
			waitHolder(t, lab, a, f.vip, f.mdi(150)+5*time.Second)
			step := func(what string, wantSpecific, wantGeneric []string) {
				t.Helper()
				spec := waitLines(t, nl.specific, len(wantSpecific), 3*time.Second)
				gen := waitLines(t, nl.generic, len(wantGeneric), 3*time.Second)
				time.Sleep(300 * time.Millisecond) // nothing more should come
				spec, gen = readLines(nl.specific), readLines(nl.generic)
				if !slices.Equal(spec, wantSpecific) {
					t.Errorf("%s: %s: notify_* lines\n got %q\nwant %q", n.name(), what, spec, wantSpecific)
				}
				if !slices.Equal(gen, wantGeneric) {
					t.Errorf("%s: %s: notify lines\n got %q\nwant %q", n.name(), what, gen, wantGeneric)
				}
			}
			inst := "VI_V3_SCRIPTS"
			wantS := []string{"backup", "master"}
			wantG := []string{"INSTANCE " + inst + " BACKUP 150", "INSTANCE " + inst + " MASTER 150"}
			step("startup", wantS, wantG)

			if err := os.Remove(ok); err != nil {
				t.Fatal(err)
			}
			waitHolder(t, lab, b, f.vip, 2*time.Second+f.mdi(100)+time.Second)
			wantS = append(wantS, "fault")
			wantG = append(wantG, "INSTANCE "+inst+" FAULT 150")
			step("track script failed", wantS, wantG)

			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitHolder(t, lab, a, f.vip, 2*time.Second+f.mdi(150)+time.Second)
			wantS = append(wantS, "backup", "master")
			wantG = append(wantG, "INSTANCE "+inst+" BACKUP 150", "INSTANCE "+inst+" MASTER 150")
			step("track script recovered", wantS, wantG)

			n.stop(t)
			wantS = append(wantS, "stop")
			wantG = append(wantG, "INSTANCE "+inst+" STOP 150")
			step("stop", wantS, wantG)

			// Started with the script failing: FAULT from the start.
			if err := os.Remove(ok); err != nil {
				t.Fatal(err)
			}
			n = startNode(t, a, guard, trackConf(f, 150, 0, ok, lines...))
			wantS = append(wantS, "fault")
			wantG = append(wantG, "INSTANCE "+inst+" FAULT 150")
			step("startup with the script failing", wantS, wantG)
			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitHolder(t, lab, a, f.vip, 2*time.Second+f.mdi(150)+time.Second)
			wantS = append(wantS, "backup", "master")
			wantG = append(wantG, "INSTANCE "+inst+" BACKUP 150", "INSTANCE "+inst+" MASTER 150")
			step("track script recovered after startup", wantS, wantG)
			n.stop(t)
			wantS = append(wantS, "stop")
			wantG = append(wantG, "INSTANCE "+inst+" STOP 150")
			step("second stop", wantS, wantG)
			checkKeepalivedLog(t, peer)
			if n.ka != nil {
				checkKeepalivedLog(t, n.ka)
			}
		})
	}
}
