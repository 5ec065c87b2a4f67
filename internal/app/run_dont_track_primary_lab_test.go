package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// TestRunDontTrackPrimary: a lone master's eth0 set administratively down.
// Without dont_track_primary the instance goes to FAULT and gives up its
// address; with it the instance stays MASTER and keeps the address, as
// keepalived 2.2.7 does in the same situation (each case run with both
// implementations). Link up again: the master holds the address.
func TestRunDontTrackPrimary(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for i, tc := range []struct {
		guard, dtp bool
	}{{true, false}, {true, true}, {false, false}, {false, true}} {
		impl := map[bool]string{true: "vrrpguard", false: "keepalived"}[tc.guard]
		t.Run(fmt.Sprintf("%s/dont_track_primary=%v", impl, tc.dtp), func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			subnet := fmt.Sprintf("10.117.%d.", i)
			vip := subnet + "100"
			a := lab.AddHost("a", subnet+"1/24")
			in := netlab.Instance{VRID: 117, Priority: 150, Version: 3, AdvertInt: 200 * time.Millisecond, VIPs: []string{vip + "/24"}}
			if tc.dtp {
				in.Extra = []string{"dont_track_primary"}
			}
			n := startNode(t, a, tc.guard, netlab.Conf(in))
			waitHolder(t, lab, a, vip, 10*time.Second)

			a.SetLink(t, false)
			faultLog := map[bool]string{true: "entering FAULT state", false: "Entering FAULT STATE"}[tc.guard]
			if !tc.dtp {
				if n.guard != nil {
					n.guard.proc.WaitOutput(t, faultLog, 5*time.Second)
					if st := statusInstance(t, statusJSON(t, a), "VI_1"); st["state"] != "FAULT" {
						t.Errorf("status state %v, want FAULT", st["state"])
					}
				} else {
					n.ka.WaitLog(t, faultLog, 5*time.Second)
				}
				a.WaitAddrGone(t, vip, 5*time.Second)
			} else {
				// Nothing is to happen: watch for a second (five advert
				// intervals) that the address stays and no FAULT is logged.
				end := time.Now().Add(time.Second)
				for time.Now().Before(end) {
					if !a.HasAddr(vip) {
						t.Fatalf("%s removed %s with dont_track_primary\n%s", impl, vip, n.log())
					}
					time.Sleep(50 * time.Millisecond)
				}
				if strings.Contains(n.log(), faultLog) {
					t.Fatalf("%s went to FAULT with dont_track_primary\n%s", impl, n.log())
				}
				if n.guard != nil {
					if st := statusInstance(t, statusJSON(t, a), "VI_1"); st["state"] != "MASTER" {
						t.Errorf("status state %v, want MASTER", st["state"])
					}
				}
			}

			a.SetLink(t, true)
			waitHolder(t, lab, a, vip, 10*time.Second)
			if n.guard != nil {
				if st := statusInstance(t, statusJSON(t, a), "VI_1"); st["state"] != "MASTER" {
					t.Errorf("after link up: status state %v, want MASTER", st["state"])
				}
			}
		})
	}
}
