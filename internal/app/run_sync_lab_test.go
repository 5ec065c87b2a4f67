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

// TestRunSyncGroup runs vrrpguard (priority 150) and keepalived (100), both
// with a vrrp_sync_group of two instances. A weight-0 track_script of the
// first instance failing on the vrrpguard node moves both VIPs to
// keepalived (before sync groups, the second stayed on vrrpguard and
// keepalived's group held the first back: no master at all); the script
// succeeding again brings both back (preemption). The group's notify
// scripts run with keepalived's arguments.
func TestRunSyncGroup(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	f := syncFlavour
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	nl, lines := notifyConf(t, dir)
	lab, a, b := labPair(t, f)
	// keepalived's own file must exist for its script: it tracks a file
	// that is always there.
	kaOK := filepath.Join(t.TempDir(), "ok")
	if err := os.WriteFile(kaOK, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ka := b.StartKeepalived(t, syncConf(f, 100, kaOK))
	guard := startRun(t, a, syncConf(f, 150, ok, lines...))
	for _, vip := range []string{f.vip, syncVIP2} {
		waitHolder(t, lab, a, vip, f.mdi(150)+5*time.Second)
	}
	onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
	onlyHolder(t, lab, a, syncVIP2, f.interval)

	// The script fails at its next run (interval 1 s, fall 1): both VIPs
	// move to keepalived.
	if err := os.Remove(ok); err != nil {
		t.Fatal(err)
	}
	for _, vip := range []string{f.vip, syncVIP2} {
		took := waitHolder(t, lab, b, vip, 2*time.Second+f.mdi(100)+time.Second)
		t.Logf("%s moved to keepalived %v after the file was removed", vip, took)
	}
	onlyHolder(t, lab, b, f.vip, f.mdi(100)+f.interval)
	onlyHolder(t, lab, b, syncVIP2, f.interval)
	guard.proc.WaitOutput(t, "sync group entering FAULT state", time.Second)

	// Restored: vrrpguard preempts keepalived on both.
	if err := os.WriteFile(ok, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, vip := range []string{f.vip, syncVIP2} {
		took := waitHolder(t, lab, a, vip, 2*time.Second+f.mdi(150)+2*time.Second)
		t.Logf("%s back on vrrpguard %v after the file was restored", vip, took)
	}
	onlyHolder(t, lab, a, f.vip, f.mdi(100)+f.interval)
	onlyHolder(t, lab, a, syncVIP2, f.interval)

	// Group notify scripts: "GROUP name STATE 0" (keepalived's prio 0 for a
	// group), and the specific ones as written.
	g := "GROUP G_SYNC "
	want := []string{g + "BACKUP 0", g + "MASTER 0", g + "FAULT 0", g + "BACKUP 0", g + "MASTER 0"}
	if got := waitLines(t, nl.generic, len(want), 2*time.Second); !slices.Equal(got, want) {
		t.Errorf("group notify lines\n got %q\nwant %q\n%s", got, want, guard.proc.Output())
	}
	wantSpec := []string{"backup", "master", "fault", "backup", "master"}
	if got := waitLines(t, nl.specific, len(wantSpec), 2*time.Second); !slices.Equal(got, wantSpec) {
		t.Errorf("group notify_* lines\n got %q\nwant %q", got, wantSpec)
	}
	checkKeepalivedLog(t, ka)
	ka.WaitLog(t, "VRRP_Group(G_SYNC) Syncing instances to MASTER state", time.Second)
}
