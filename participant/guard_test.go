package participant

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// guardConf has a virtual address on eth0, one on eth1, and one that is
// the instance's own source address (the fake's 10.9.0.2).
const guardConf = `
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.0.100/24
        10.9.0.2/24
        10.9.1.100/24 dev eth1
    }
}
`

// guardLog records OnGuard calls.
type guardLog struct {
	mu  sync.Mutex
	evs []GuardEvent
}

func (g *guardLog) record(ev GuardEvent) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.evs = append(g.evs, ev)
}

// get renders the events as "INSTANCE DEV PREFIX STATE demoted=B removed=B err"
// (VRID 51 implied: another is shown after the instance).
func (g *guardLog) get() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, e := range g.evs {
		name := e.Instance
		if e.VRID != 51 {
			name += fmt.Sprintf(" vrid=%d", e.VRID)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s demoted=%v removed=%v %v", name, e.Interface, e.Address, e.State, e.Demoted, e.Removed, e.Err))
	}
	return out
}

func (g *guardLog) at(n int) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.evs[n].At
}

// guardRouter builds a router of conf with the guard on (unless off) and
// returns its first instance and the guard's reports.
func guardRouter(t *testing.T, conf string, on bool) (*Router, *Instance, *guardLog) {
	t.Helper()
	k, _, err := keepalived.Parse("test.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &guardLog{}
	r, err := New(k, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GuardVIPs: on, OnGuard: g.record})
	if err != nil {
		t.Fatal(err)
	}
	return r, r.instances[0], g
}

// feedMaster sends a master's advertisement every 100 ms until stopped.
func feedMaster(t *testing.T, f *fakeEnv, src string, prio uint8) (stop func()) {
	p := advertFrom(t, src, prio)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case f.rx <- p:
			case <-done:
				return
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// TestGuardBackup: a backup removes its virtual addresses the moment they
// appear (no time passes), on the interface each belongs to, reports each,
// and leaves everything else alone: other addresses, a virtual address on
// another interface, its own source address, and addresses already gone.
func TestGuardBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, i, g := guardRouter(t, guardConf, true)
		f := newFakeEnv(i.cfg)
		stopMaster := feedMaster(t, f, "10.9.0.3", 200)
		stop := runFake(i, f)
		time.Sleep(time.Second)
		if st := i.Status(); st.State != "BACKUP" {
			t.Fatalf("state %s, want BACKUP", st.State)
		}
		added := time.Now()
		f.configure("eth0", "10.9.0.100/32", true) // by hand, another prefix length
		synctest.Wait()
		if time.Since(added) != 0 {
			t.Errorf("guard took %v of fake time", time.Since(added))
		}
		if got := g.get(); len(got) != 1 || !g.at(0).Equal(added) {
			t.Fatalf("reports %v, want one at the event's time", got)
		}
		f.configure("eth0", "10.9.0.50/24", true)  // not a virtual address
		f.configure("eth0", "10.9.0.2/24", true)   // the source address
		f.configure("eth1", "10.9.0.100/24", true) // a virtual address, but on another interface
		f.configure("eth1", "10.9.1.100/24", true) // dev eth1
		// An event of an address already gone:
		f.addrCh <- addrEvent{dev: "eth0", prefix: netip.MustParsePrefix("10.9.0.100/24"), at: time.Now()}
		synctest.Wait()
		stopMaster()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"VI_1 eth0 10.9.0.100/32 BACKUP demoted=false removed=true <nil>",
			"VI_1 eth1 10.9.1.100/24 BACKUP demoted=false removed=true <nil>",
		}
		if d := diffStrings(want, g.get()); d != "" {
			t.Errorf("guard reports (-want +got):\n%s", d)
		}
		present, removed := f.guardState()
		if d := diffStrings([]string{"eth0 10.9.0.100/32", "eth1 10.9.1.100/24"}, removed); d != "" {
			t.Errorf("removed (-want +got):\n%s", d)
		}
		if d := diffStrings([]string{"eth0 10.9.0.50/24", "eth0 10.9.0.2/24", "eth1 10.9.0.100/24"}, present); d != "" {
			t.Errorf("left configured (-want +got):\n%s", d)
		}
	})
}

// TestGuardStates runs the guard through the states of an instance.
func TestGuardStates(t *testing.T) {
	tests := []struct {
		name string
		conf string
		off  bool
		// script drives the instance; it may use the router.
		script  func(t *testing.T, r *Router, i *Instance, f *fakeEnv)
		reports []string
		present []string // at the end, eth0 only
	}{
		{
			name: "leftover of a crash is reported on start",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				f.configure("eth0", "10.9.0.100/24", false)
				stop := runFake(i, f)
				synctest.Wait()
				stop()
			},
			reports: []string{"VI_1 eth0 10.9.0.100/24 BACKUP demoted=false removed=true <nil>"},
		},
		{
			name: "master keeps its addresses",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(time.Second)
				f.addrCh <- addrEvent{dev: "eth0", prefix: netip.MustParsePrefix("10.9.0.100/24"), at: time.Now()}
				synctest.Wait()
				if st := i.Status(); st.State != "MASTER" {
					t.Errorf("state %s, want MASTER", st.State)
				}
				present, _ := f.guardState()
				if d := diffStrings([]string{"eth0 10.9.0.100/24", "eth0 10.9.0.2/24", "eth1 10.9.1.100/24"}, present); d != "" {
					t.Errorf("master's addresses (-want +got):\n%s", d)
				}
				stop()
			},
		},
		{
			name: "fault: removed; an address whose event was lost is found on recovery",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				f.linkCh <- linkState{name: "eth0", up: false}
				synctest.Wait()
				f.configure("eth0", "10.9.0.100/24", true)
				synctest.Wait()
				f.configure("eth0", "10.9.0.100/32", false)
				synctest.Wait()
				f.linkCh <- linkState{name: "eth0", up: true}
				synctest.Wait()
				stop()
			},
			reports: []string{
				"VI_1 eth0 10.9.0.100/24 FAULT demoted=false removed=true <nil>",
				"VI_1 eth0 10.9.0.100/32 BACKUP demoted=false removed=true <nil>",
			},
		},
		{
			name: "demoted master: stepping down removes the addresses, the guard what comes back",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(time.Second)
				if err := r.Demote("VI_1", "rival"); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				f.configure("eth0", "10.9.0.100/24", true)
				synctest.Wait()
				stop()
			},
			reports: []string{"VI_1 eth0 10.9.0.100/24 BACKUP demoted=true removed=true <nil>"},
		},
		{
			name: "lost events: a rescan finds the address",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				f.configure("eth0", "10.9.0.100/24", false)
				synctest.Wait()
				if _, removed := f.guardState(); len(removed) != 0 {
					t.Errorf("removed %v without an event", removed)
				}
				f.addrCh <- addrEvent{rescan: true, at: time.Now()}
				synctest.Wait()
				stop()
			},
			reports: []string{"VI_1 eth0 10.9.0.100/24 BACKUP demoted=false removed=true <nil>"},
		},
		{
			name: "removal fails: reported with the error",
			conf: guardConf,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				f.mu.Lock()
				f.delErr = errors.New("operation not permitted")
				f.mu.Unlock()
				f.configure("eth0", "10.9.0.100/24", true)
				synctest.Wait()
				stop()
			},
			reports: []string{"VI_1 eth0 10.9.0.100/24 BACKUP demoted=false removed=false operation not permitted"},
			present: []string{"eth0 10.9.0.100/24"},
		},
		{
			name: "guard off: nothing touched",
			conf: guardConf,
			off:  true,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				f.configure("eth0", "10.9.0.100/24", true)
				synctest.Wait()
				stop()
			},
			present: []string{"eth0 10.9.0.100/24"},
		},
		{
			name: "address owner (priority 255), even demoted: nothing touched",
			conf: strings.Replace(guardConf, "priority 100", "priority 255", 1),
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				f.configure("eth0", "10.9.0.100/32", false)
				if err := r.Demote("VI_1", "rival"); err != nil {
					t.Fatal(err)
				}
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				if st := i.Status(); st.State != "BACKUP" {
					t.Errorf("demoted owner %s, want BACKUP", st.State)
				}
				f.configure("eth0", "10.9.0.100/24", true)
				synctest.Wait()
				stop()
			},
			// delVIPs on start removed the /24 it was configured with, as without the guard.
			present: []string{"eth0 10.9.0.100/32", "eth0 10.9.0.100/24"},
		},
		{
			name: "a virtual address another instance has too: untouched",
			conf: guardConf + `
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        10.9.0.100/24
    }
}
`,
			script: func(t *testing.T, r *Router, i *Instance, f *fakeEnv) {
				stop := runFake(i, f)
				time.Sleep(100 * time.Millisecond)
				f.configure("eth0", "10.9.0.100/32", true)
				synctest.Wait()
				stop()
			},
			present: []string{"eth0 10.9.0.100/32"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, i, g := guardRouter(t, tt.conf, !tt.off)
				f := newFakeEnv(i.cfg)
				tt.script(t, r, i, f)
				if d := diffStrings(tt.reports, g.get()); d != "" {
					t.Errorf("guard reports (-want +got):\n%s", d)
				}
				present, _ := f.guardState()
				var eth0 []string
				for _, p := range present {
					if strings.HasPrefix(p, "eth0 ") && p != "eth0 10.9.0.2/24" {
						eth0 = append(eth0, p)
					}
				}
				if d := diffStrings(tt.present, eth0); d != "" {
					t.Errorf("addresses on eth0 at the end, but the source (-want +got):\n%s", d)
				}
			})
		})
	}
}
