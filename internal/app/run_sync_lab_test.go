package app

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// syncFlavour is the sync group test's network: VRRPv3 over IPv4 with
// 100 ms adverts, two instances (VRIDs 108 and 109) with a VIP each.
var syncFlavour = runFlavour{name: "v3-sync", version: 3, interval: 100 * time.Millisecond, subnet: "10.108.0.", plen: "/24", vip: "10.108.0.100"}

const syncVIP2 = "10.108.0.101"

// syncConf renders a keepalived.conf with two instances in the sync group
// G_SYNC; the first tracks the existence of okFile (weight 0: FAULT on
// failure); groupExtra goes into the vrrp_sync_group block.
func syncConf(f runFlavour, prio int, okFile string, groupExtra ...string) string {
	script := scriptSecurity + fmt.Sprintf("vrrp_script chk_ok {\n    script \"/usr/bin/test -e %s\"\n    interval 1\n    weight 0\n    fall 1\n    rise 1\n}\n", okFile)
	group := "vrrp_sync_group G_SYNC {\n    group {\n        VI_SYNC_A\n        VI_SYNC_B\n    }\n"
	for _, l := range groupExtra {
		group += "    " + l + "\n"
	}
	group += "}\n"
	return script + group + netlab.Conf(
		netlab.Instance{Name: "VI_SYNC_A", VRID: 108, Priority: prio, Version: f.version, AdvertInt: f.interval,
			VIPs: []string{f.vip + f.plen}, Extra: []string{"track_script {", "    chk_ok", "}"}},
		netlab.Instance{Name: "VI_SYNC_B", VRID: 109, Priority: prio, Version: f.version, AdvertInt: f.interval,
			VIPs: []string{syncVIP2 + f.plen}},
	)
}

// TestRunSyncGroup runs a node at priority 150 and one at 100, both with a
// vrrp_sync_group of two instances; the 150 node's first instance tracks a
// file with a weight-0 track_script. Removing the file moves both VIPs to
// the 100 node (before sync groups, vrrpguard at 150 kept the second and
// keepalived's group held the first back: no master at all); restoring it
// brings both back (preemption). Either node is vrrpguard, the other
// keepalived. The group's notify scripts on the tracking node run as
// keepalived's do (keepalived's lines are the expected ones).
func TestRunSyncGroup(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := syncFlavour
	for _, guardTracks := range []bool{true, false} {
		t.Run(fmt.Sprintf("vrrpguard-tracks=%v", guardTracks), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ok := filepath.Join(dir, "ok")
			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			nl, lines := notifyConf(t, dir)
			lab, a, b := labPair(t, f)
			// The peer tracks a file that is always there.
			peerOK := filepath.Join(t.TempDir(), "ok")
			if err := os.WriteFile(peerOK, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			peer := startNode(t, b, !guardTracks, syncConf(f, 100, peerOK))
			tracker := startNode(t, a, guardTracks, syncConf(f, 150, ok, lines...))
			for _, vip := range []string{f.vip, syncVIP2} {
				waitHolder(t, lab, a, vip, f.mdi(150)+5*time.Second)
			}
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			onlyHolder(t, lab, a, syncVIP2, f.interval)

			// The script fails at its next run (interval 1 s, fall 1): both
			// VIPs move to the peer.
			if err := os.Remove(ok); err != nil {
				t.Fatal(err)
			}
			for _, vip := range []string{f.vip, syncVIP2} {
				took := waitHolder(t, lab, b, vip, 2*time.Second+f.mdi(100)+time.Second)
				t.Logf("%s moved to the peer %v after the file was removed", vip, took)
			}
			onlyHolder(t, lab, b, f.vip, f.mdi(100)+f.interval)
			onlyHolder(t, lab, b, syncVIP2, f.interval)
			if guardTracks {
				tracker.guard.proc.WaitOutput(t, "sync group entering FAULT state", time.Second)
			} else {
				tracker.ka.WaitLog(t, "VRRP_Group(G_SYNC) Syncing instances to FAULT state", time.Second)
			}

			// Restored: the tracker preempts the peer on both.
			if err := os.WriteFile(ok, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, vip := range []string{f.vip, syncVIP2} {
				took := waitHolder(t, lab, a, vip, 2*time.Second+f.mdi(150)+2*time.Second)
				t.Logf("%s back on the tracker %v after the file was restored", vip, took)
			}
			onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
			onlyHolder(t, lab, a, syncVIP2, f.interval)

			// Group notify scripts: "GROUP name STATE 0" (keepalived's
			// priority 0 for a group), and the specific ones as written.
			g := "GROUP G_SYNC "
			want := []string{g + "BACKUP 0", g + "MASTER 0", g + "FAULT 0", g + "BACKUP 0", g + "MASTER 0"}
			if got := waitLines(t, nl.generic, len(want), 2*time.Second); !slices.Equal(got, want) {
				t.Errorf("%s: group notify lines\n got %q\nwant %q\n%s", tracker.name(), got, want, tracker.log())
			}
			wantSpec := []string{"backup", "master", "fault", "backup", "master"}
			if got := waitLines(t, nl.specific, len(wantSpec), 2*time.Second); !slices.Equal(got, wantSpec) {
				t.Errorf("%s: group notify_* lines\n got %q\nwant %q", tracker.name(), got, wantSpec)
			}
			for _, n := range []vrrpNode{peer, tracker} {
				if n.ka != nil {
					checkKeepalivedLog(t, n.ka)
					n.ka.WaitLog(t, "VRRP_Group(G_SYNC) Syncing instances to MASTER state", time.Second)
				}
			}
		})
	}
}
