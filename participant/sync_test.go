package participant

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

const syncTestConf = `
vrrp_sync_group G {
    group {
        VI_A
        VI_B
    }
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.0.100/24
    }
}
vrrp_instance VI_B {
    interface eth1
    virtual_router_id 52
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.1.100/24
    }
}
`

// TestDriverSyncGroup runs two instances of a sync group with fake
// environments and a fake clock: they become master together; the
// interface of one going down puts both into FAULT, the master of the other
// resigning with a priority-0 advert and removing its addresses; the
// interface back up, both become master again together.
func TestDriverSyncGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, _, err := keepalived.Parse("test.conf", []byte(syncTestConf), nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(k, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		a, b := r.instances[0], r.instances[1]
		fa, fb := newFakeEnv(a.cfg), newFakeEnv(b.cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		// B starts a little later: A, whose timer fires first, waits for it.
		go func() { done <- a.run(ctx, fa) }()
		time.Sleep(50 * time.Millisecond)
		go func() { done <- b.run(ctx, fb) }()
		mdi := 300*time.Millisecond + 156*100*time.Millisecond/256
		states := func() (string, string) { return a.Status().State, b.Status().State }

		time.Sleep(mdi - 10*time.Millisecond) // A's timer has fired, B's not
		synctest.Wait()
		if sa, sb := states(); sa != "BACKUP" || sb != "BACKUP" {
			t.Fatalf("A wanting, B not yet: states %s, %s; want BACKUP, BACKUP", sa, sb)
		}
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		if sa, sb := states(); sa != "MASTER" || sb != "MASTER" {
			t.Fatalf("both wanting: states %s, %s; want MASTER, MASTER", sa, sb)
		}
		sentA, _, _ := fa.snapshot()
		if len(sentA) == 0 || sentA[0].at < 50*time.Millisecond+mdi {
			t.Errorf("A advertised before B wanted to be master: %v", sentA)
		}

		// A's interface goes down: both FAULT, B resigns with priority 0.
		fa.linkCh <- linkState{name: "eth0", up: false}
		synctest.Wait()
		if sa, sb := states(); sa != "FAULT" || sb != "FAULT" {
			t.Fatalf("A's link down: states %s, %s; want FAULT, FAULT", sa, sb)
		}
		sentB, vipsB, _ := fb.snapshot()
		if last := sentB[len(sentB)-1]; last.prio != 0 {
			t.Errorf("B's last advert has priority %d, want 0", last.prio)
		}
		if vipsB[len(vipsB)-1] != "del" {
			t.Errorf("B's VIP operations %v: not removed", vipsB)
		}
		if st := b.Status(); st.Reason != "sync group G: member VI_A in FAULT" || st.SyncGroup != "G" {
			t.Errorf("B's reason %q, sync group %q", st.Reason, st.SyncGroup)
		}

		// Back up: backup, then master together after Master_Down_Interval.
		fa.linkCh <- linkState{name: "eth0", up: true}
		synctest.Wait()
		if sa, sb := states(); sa != "BACKUP" || sb != "BACKUP" {
			t.Fatalf("A's link up: states %s, %s; want BACKUP, BACKUP", sa, sb)
		}
		time.Sleep(mdi + 10*time.Millisecond)
		synctest.Wait()
		if sa, sb := states(); sa != "MASTER" || sb != "MASTER" {
			t.Fatalf("after Master_Down_Interval: states %s, %s; want MASTER, MASTER", sa, sb)
		}
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
}

// TestSyncTracking checks a member's effective tracking as keepalived 2.2.7
// sets it up: weights dropped in a sync group unless
// sync_group_tracking_weight, the group's trackers added.
func TestSyncTracking(t *testing.T) {
	conf := func(groupExtra string, prioB int) string {
		return `
vrrp_script w { script "/bin/true" }
vrrp_script z { script "/bin/true" }
vrrp_script g { script "/bin/true" }
vrrp_sync_group G {
    group {
        VI_A
        VI_B
    }
    track_script {
        g weight -20
    }
    track_interface {
        eth7
    }
` + groupExtra + `
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 51
    priority 100
    track_interface {
        eth1 weight -30
        eth2
    }
    track_script {
        w weight -50
        z weight 0
    }
    virtual_ipaddress {
        10.9.0.100/24
    }
}
vrrp_instance VI_B {
    interface eth0
    virtual_router_id 52
    priority ` + fmt.Sprint(prioB) + `
    virtual_ipaddress {
        10.9.0.101/24
    }
}
`
	}
	tests := []struct {
		name       string
		conf       string
		ifs, scrs  string
		scriptsRun []string
	}{
		{"weights dropped", conf("", 100), "eth1/0 eth2/0 eth7/0", "z/0 g/-20", []string{"g", "z"}},
		{"sync_group_tracking_weight keeps them", conf("sync_group_tracking_weight", 100), "eth1/-30 eth2/0 eth7/0", "w/-50 z/0 g/-20", []string{"g", "w", "z"}},
		{"an owner member clears the group's weights", conf("", 255), "eth1/0 eth2/0 eth7/0", "z/0 g/0", []string{"g", "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := testInstance(t, tc.conf)
			fmtTracks := func(ts []keepalived.Track) string {
				var out []string
				for _, x := range ts {
					out = append(out, fmt.Sprintf("%s/%d", x.Name, x.Weight))
				}
				return strings.Join(out, " ")
			}
			if got := fmtTracks(i.cfg.TrackInterfaces); got != tc.ifs {
				t.Errorf("track_interface %q, want %q", got, tc.ifs)
			}
			if got := fmtTracks(i.cfg.TrackScripts); got != tc.scrs {
				t.Errorf("track_script %q, want %q", got, tc.scrs)
			}
			var run []string
			for name := range i.scripts {
				run = append(run, name)
			}
			slices.Sort(run)
			if !slices.Equal(run, tc.scriptsRun) {
				t.Errorf("scripts run %q, want %q", run, tc.scriptsRun)
			}
		})
	}
}
