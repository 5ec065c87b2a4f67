package app

import (
	"regexp"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// TestRunUnicastTTL: `vrrpguard run` on b (priority 150, unicast to a,
// unicast_ttl 7) sends its adverts with IPv4 TTL 7, as tcpdump on a shows,
// and keepalived on a (priority 100, unicast to b) accepts them: it stays
// backup, b alone holds the address.
func TestRunUnicastTTL(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "tcpdump")
	bin := binary(t)
	lab := netlab.New(t)
	const (
		vip   = "10.109.0.100"
		aAddr = "10.109.0.1"
		bAddr = "10.109.0.2"
	)
	a := lab.AddHost("a", aAddr+"/24")
	b := lab.AddHost("b", bAddr+"/24")
	conf := func(prio int, src, peer, extra string) string {
		return netlab.Conf(netlab.Instance{VRID: 109, Priority: prio, AdvertInt: time.Second, VIPs: []string{vip + "/24"},
			Extra: []string{"unicast_src_ip " + src, "unicast_peer {", "    " + peer, "}", extra}})
	}
	a.StartKeepalived(t, conf(100, aAddr, bAddr, ""))
	a.WaitAddr(t, vip, 15*time.Second)
	r := b.Start(t, bin, "run", "--config", writeFile(t, "keepalived.conf", conf(150, bAddr, aAddr, "unicast_ttl 7")), "--listen", "off")
	b.WaitAddr(t, vip, 15*time.Second)
	a.WaitAddrGone(t, vip, 15*time.Second)

	raw, err := a.Cmd("timeout", "15", "tcpdump", "-n", "-v", "-c", "2", "-i", "eth0", "ip proto 112 and src host "+bAddr).CombinedOutput()
	out := string(raw)
	if err != nil {
		t.Fatalf("tcpdump on a: %v\n%s\nrun:\n%s", err, out, r.Output())
	}
	ttls := regexp.MustCompile(`ttl (\d+)`).FindAllStringSubmatch(out, -1)
	if len(ttls) == 0 {
		t.Fatalf("no TTL in tcpdump's output:\n%s", out)
	}
	for _, m := range ttls {
		if m[1] != "7" {
			t.Errorf("advert from b with TTL %s, want 7:\n%s", m[1], out)
		}
	}
	onlyHolder(t, lab, b, vip, 3*time.Second)
}
