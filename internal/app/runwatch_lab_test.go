package app

import (
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestRunAlsoWatchesItsSegment: `vrrpguard run` is router and watcher in
// one process: when its keepalived peer stops hearing it (one-way loss),
// it reports the split brain it is part of, and its resolution. `run`
// prints findings as text only, so the test reads its log records (decoded
// key=value pairs), not the columns of the text lines.
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
	finding := map[string]string{"kind": "duplicate_master", "severity": "critical", "interface": "eth0", "family": "ipv4", "vrid": "61"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	raised := waitLogRecord(t, n.proc, with(finding, "msg", "finding raised", "state", "raised", "level", "WARN"), 15*time.Second)
	b.ClearDrops(t)
	resolved := waitLogRecord(t, n.proc, with(finding, "msg", "finding resolved", "state", "resolved", "level", "INFO"), 30*time.Second)
	if raised["fingerprint"] == "" || resolved["fingerprint"] != raised["fingerprint"] {
		t.Errorf("fingerprints: raised %q, resolved %q", raised["fingerprint"], resolved["fingerprint"])
	}
	waitLogRecord(t, n.proc, map[string]string{"msg": "watching own segments", "interfaces": "[eth0]"}, time.Second)
}
