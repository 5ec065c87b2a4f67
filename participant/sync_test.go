package participant

import (
	"context"
	"io"
	"log/slog"
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
		if st := b.Status(); st.Reason != "sync group G: member VI_A in FAULT" {
			t.Errorf("B's reason %q", st.Reason)
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
