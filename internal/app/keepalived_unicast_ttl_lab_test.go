package app

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// TestKeepalivedUnicastTTLWithoutPeersIsSilent pins the keepalived 2.2.7
// behaviour the parser warns about: unicast_ttl in a multicast instance
// makes keepalived (which --config-test rejects, but which runs) build its
// adverts with TTL 0, so its master sends nothing onto the wire — a peer
// would become master too. vrrpguard's parser warns and ignores the
// keyword.
func TestKeepalivedUnicastTTLWithoutPeersIsSilent(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "tcpdump")
	lab := netlab.New(t)
	const vip = "10.110.0.100"
	a := lab.AddHost("a", "10.110.0.1/24")
	b := lab.AddHost("b", "10.110.0.2/24")
	text := netlab.Conf(netlab.Instance{VRID: 110, Priority: 150, AdvertInt: time.Second, VIPs: []string{vip + "/24"},
		Extra: []string{"unicast_ttl 5"}})
	_, w, err := keepalived.Parse("keepalived.conf", []byte(text), nil)
	if err != nil || len(w) != 1 || !strings.Contains(w[0].Message, "unicast_ttl without unicast_peer") {
		t.Fatalf("vrrpguard's parser: err %v, warnings %v", err, w)
	}
	d := t.TempDir()
	k := a.Start(t, "keepalived", "--dont-fork", "--log-console", "--no-syslog", "--log-detail",
		"--vrrp", "-f", writeFile(t, "keepalived.conf", text), "-p", filepath.Join(d, "pid"), "-r", filepath.Join(d, "vrrp.pid"))
	k.WaitOutput(t, "Cannot use unicast_ttl without unicast peers", 10*time.Second)
	k.WaitOutput(t, "Entering MASTER STATE", 15*time.Second)
	a.WaitAddr(t, vip, 5*time.Second)
	// Master with a 1 s interval: 4 s of capture on the segment see
	// nothing (and on a itself, where tcpdump sees what leaves eth0).
	for _, h := range []*netlab.Host{b, a} {
		out, _ := h.Cmd("timeout", "4", "tcpdump", "-n", "-i", "eth0", "ip proto 112").CombinedOutput()
		if !strings.Contains(string(out), "0 packets captured") {
			t.Errorf("tcpdump on %s saw adverts of a keepalived master with unicast_ttl and no peers:\n%s", h, out)
		}
	}
}
