package app

import (
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestRunAlsoWatchesItsSegment: `vrrpguard run` is router and watcher in
// one process: when its keepalived peer stops hearing it (one-way loss),
// it reports the split brain it is part of, and its resolution.
func TestRunAlsoWatchesItsSegment(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1] // v3 over IPv4, 100 ms
	_, a, b := labPair(t, f)
	n := startRun(t, a, f.conf(150))
	b.StartKeepalived(t, f.conf(100))
	a.WaitAddr(t, f.vip, 15*time.Second)
	time.Sleep(time.Second)
	b.DropVRRPFrom(t, f.subnet+"1")
	n.proc.WaitOutput(t, "RAISED   critical duplicate_master vrid 61", 15*time.Second)
	b.ClearDrops(t)
	n.proc.WaitOutput(t, "RESOLVED critical duplicate_master vrid 61", 30*time.Second)
	if !strings.Contains(n.proc.Output(), "watching own segments") {
		t.Error("run did not announce its watch")
	}
}
