package app

import (
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// TestRunReload: vrrpguard is master of VI_1 (keepalived backup); SIGHUP
// after adding VI_2 to the file starts VI_2 while VI_1 stays master (no
// priority-0 advert from it, its VIP never removed); changing VI_2
// restarts it (one priority-0 advert), removing it stops it (another, and
// its VIP goes), a broken file changes nothing.
func TestRunReload(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	const (
		vip1 = "10.85.0.100"
		vip2 = "10.85.0.101"
	)
	iv := 100 * time.Millisecond
	vi1 := func(prio int) netlab.Instance {
		return netlab.Instance{Name: "VI_1", VRID: 61, Priority: prio, Version: 3, AdvertInt: iv, VIPs: []string{vip1 + "/24"}}
	}
	vi2 := func(prio int) netlab.Instance {
		return netlab.Instance{Name: "VI_2", VRID: 62, Priority: prio, Version: 3, AdvertInt: iv, VIPs: []string{vip2 + "/24"}}
	}
	mdi := func(prio int) time.Duration { return 3*iv + time.Duration(256-prio)*iv/256 }

	lab := netlab.New(t)
	a := lab.AddHost("a", "10.85.0.1/24")
	b := lab.AddHost("b", "10.85.0.2/24")
	mon := lab.AddHost("mon", "10.85.0.9/24")
	kb := b.StartKeepalived(t, netlab.Conf(vi1(100)))
	kb.WaitLog(t, "Entering BACKUP STATE", 5*time.Second)
	g := startRun(t, a, netlab.Conf(vi1(150)))
	waitHolder(t, lab, a, vip1, mdi(150)+5*time.Second)
	onlyHolder(t, lab, a, vip1, mdi(100)+iv)
	kaMasters := strings.Count(kb.Log(), "Entering MASTER STATE")

	capt := mon.StartCapture(t, "eth0", "ip proto 112")
	var vip1Lost atomic.Int32
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if !a.HasAddr(vip1) {
				vip1Lost.Add(1)
			}
		}
	}()
	reload := func(conf string, n int) {
		t.Helper()
		if err := os.WriteFile(g.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := g.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		// Wait for the n-th reload to finish, well or badly.
		end := time.Now().Add(5 * time.Second)
		for {
			out := g.proc.Output()
			if strings.Count(out, "msg=reloaded")+strings.Count(out, `msg="reload failed`) >= n {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("reload %d not done:\n%s", n, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Add VI_2: it starts (and becomes master: nobody else runs it).
	reload(netlab.Conf(vi1(150), vi2(150)), 1)
	if out := g.proc.Output(); !strings.Contains(out, "kept=[VI_1] stopped=[] started=[VI_2]") {
		t.Errorf("reload log:\n%s", out)
	}
	a.WaitAddr(t, vip2, mdi(150)+2*time.Second)

	// Change VI_2: restarted (priority 0, then master again).
	reload(netlab.Conf(vi1(150), vi2(120)), 2)
	if out := g.proc.Output(); !strings.Contains(out, "kept=[VI_1] stopped=[VI_2] started=[VI_2]") {
		t.Errorf("reload log:\n%s", out)
	}
	time.Sleep(mdi(120) + 500*time.Millisecond)
	if !a.HasAddr(vip2) {
		t.Errorf("restarted VI_2 did not take %s back", vip2)
	}

	// A broken file: nothing changes.
	reload("vrrp_instance VI_1 {\n", 3)
	g.proc.WaitOutput(t, "reload failed", time.Second)

	// Remove VI_2: stopped, its address removed.
	reload(netlab.Conf(vi1(150)), 4)
	if out := g.proc.Output(); !strings.Contains(out, "kept=[VI_1] stopped=[VI_2] started=[]") {
		t.Errorf("reload log:\n%s", out)
	}
	a.WaitAddrGone(t, vip2, time.Second)
	onlyHolder(t, lab, a, vip1, mdi(100)+iv)
	close(stopWatch)
	<-watchDone

	if n := vip1Lost.Load(); n > 0 {
		t.Errorf("%s was missing from a %d times during the reloads", vip1, n)
	}
	if n := strings.Count(kb.Log(), "Entering MASTER STATE"); n != kaMasters {
		t.Errorf("keepalived became master during the reloads:\n%s", kb.Log())
	}
	checkKeepalivedLog(t, kb)
	aAddr := netip.MustParseAddr("10.85.0.1")
	var vi1Adverts, vi1Zero, vi2Zero int
	if _, err := sniffer.ReadFiles([]string{capt.Stop()}, func(o *obs.Observation) {
		if o.Kind != obs.KindAdvert || o.Src != aAddr {
			return
		}
		switch o.Advert.VRID {
		case 61:
			vi1Adverts++
			if o.Advert.Priority != 150 {
				vi1Zero++
			}
		case 62:
			if o.Advert.Priority == 0 {
				vi2Zero++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if vi1Adverts < 10 || vi1Zero != 0 {
		t.Errorf("VI_1 sent %d adverts during the reloads, %d of them not with priority 150; want many, none", vi1Adverts, vi1Zero)
	}
	if vi2Zero != 2 {
		t.Errorf("VI_2 sent %d priority-0 adverts, want 2 (restart and removal)", vi2Zero)
	}
}
