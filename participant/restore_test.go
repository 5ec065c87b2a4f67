package participant

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// restoreConf has one virtual address on eth0 and no second GARP burst.
const restoreConf = `
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.1
    garp_master_delay 0
    virtual_ipaddress {
        10.9.0.100/24
    }
}
`

// TestRestoreVIPsRemovedWhileMaster: a master whose virtual address is
// removed by someone else puts it back at once and announces it again,
// without a transition; a late event of an address still there, and a
// removal while BACKUP, change nothing.
func TestRestoreVIPsRemovedWhileMaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, i, _ := guardRouter(t, restoreConf, false)
		f := newFakeEnv(i.cfg)
		stop := runFake(i, f)
		time.Sleep(time.Second)
		if st := i.Status(); st.State != "MASTER" {
			t.Fatalf("state %s, want MASTER", st.State)
		}
		vip := addrEvent{dev: "eth0", prefix: netip.MustParsePrefix("10.9.0.100/24")}
		_, _, garps0 := f.snapshot()
		transitions0 := i.Status().Transitions

		// A late event: the address is still configured.
		f.addrCh <- addrEvent{dev: vip.dev, prefix: vip.prefix, at: time.Now(), deleted: true}
		synctest.Wait()
		if _, _, g := f.snapshot(); g != garps0 {
			t.Errorf("an event of an address still present sent %d GARPs, want 0", g-garps0)
		}

		// Removed by hand.
		f.mu.Lock()
		f.drop(vip)
		f.mu.Unlock()
		f.addrCh <- addrEvent{dev: vip.dev, prefix: vip.prefix, at: time.Now(), deleted: true}
		synctest.Wait()
		f.mu.Lock()
		restored := f.has(vip)
		f.mu.Unlock()
		if !restored {
			t.Errorf("%s not restored after its removal while MASTER", vip.prefix)
		}
		if _, _, g := f.snapshot(); g-garps0 != i.cfg.GarpMasterRepeat {
			t.Errorf("restoring sent %d GARPs, want garp_master_repeat (%d)", g-garps0, i.cfg.GarpMasterRepeat)
		}
		if st := i.Status(); st.State != "MASTER" || st.Transitions != transitions0 {
			t.Errorf("state %s after %d transitions, want MASTER after %d", st.State, st.Transitions, transitions0)
		}

		// BACKUP (a higher priority master appears): a removal is not undone.
		stopMaster := feedMaster(t, f, "10.9.0.3", 200)
		time.Sleep(time.Second)
		if st := i.Status(); st.State != "BACKUP" {
			t.Fatalf("state %s, want BACKUP", st.State)
		}
		f.addrCh <- addrEvent{dev: vip.dev, prefix: vip.prefix, at: time.Now(), deleted: true}
		synctest.Wait()
		f.mu.Lock()
		back := f.has(vip)
		f.mu.Unlock()
		if back {
			t.Errorf("%s restored while BACKUP", vip.prefix)
		}
		stopMaster()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}
