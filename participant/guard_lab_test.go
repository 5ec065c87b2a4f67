package participant

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// guardHelperEnv names the keepalived.conf a re-executed test binary runs
// as a participant with the VIP guard on (see TestMain). The participant
// uses the netlink package's per-call sockets, which follow the calling
// thread's namespace, so it runs in a process of its own inside the lab
// namespace rather than in the test process.
const guardHelperEnv = "VRRPGUARD_PARTICIPANT_GUARD_CONF"

func TestMain(m *testing.M) {
	if conf := os.Getenv(guardHelperEnv); conf != "" {
		os.Exit(runGuardHelper(conf))
	}
	os.Exit(m.Run())
}

// runGuardHelper runs the instances of conf with the guard on until SIGTERM,
// logging to stdout and printing one "guard ..." line per report.
func runGuardHelper(conf string) int {
	k, _, err := keepalived.Load(conf)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	r, err := New(k, Options{
		Logger:    slog.New(slog.NewTextHandler(os.Stdout, nil)),
		GuardVIPs: true,
		OnGuard: func(ev GuardEvent) {
			fmt.Printf("guard instance=%s interface=%s address=%s state=%s removed=%v err=%v\n",
				ev.Instance, ev.Interface, ev.Address, ev.State, ev.Removed, ev.Err)
		},
	})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := r.Run(ctx); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// addrWatch records the address events of a namespace with their arrival
// times, stamped by a goroutine that waits for them (so the stamps do not
// depend on when the test reads them).
type addrWatch struct {
	stamped chan stampedAddr
}

type stampedAddr struct {
	u  netlink.AddrUpdate
	at time.Time
}

func watchAddrsIn(t *testing.T, h *netlab.Host) *addrWatch {
	t.Helper()
	ch, done := make(chan netlink.AddrUpdate, 256), make(chan struct{})
	if err := h.Do(func() error { return netlink.AddrSubscribe(ch, done) }); err != nil {
		t.Fatalf("subscribe to address events in %s: %v", h, err)
	}
	w := &addrWatch{stamped: make(chan stampedAddr, 256)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for u := range ch { // until the subscription's goroutine ends
			select {
			case w.stamped <- stampedAddr{u, time.Now()}:
			default: // the test stopped reading
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-finished
	})
	return w
}

// next waits for the next event adding (or removing) ip and returns when it
// arrived.
func (w *addrWatch) next(t *testing.T, ip netip.Addr, added bool, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s := <-w.stamped:
			a, _ := netip.AddrFromSlice(s.u.LinkAddress.IP)
			if a.Unmap() == ip && s.u.NewAddr == added {
				return s.at
			}
		case <-deadline:
			t.Fatalf("no event %s %v within %v", map[bool]string{true: "adding", false: "removing"}[added], ip, timeout)
		}
	}
}

// addAddrNetlink adds an address to eth0 of h (IPv6 without DAD) and
// returns when the call was made.
func addAddrNetlink(t *testing.T, h *netlab.Host, cidr string) time.Time {
	t.Helper()
	p := netip.MustParsePrefix(cidr)
	var at time.Time
	err := h.Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		at = time.Now()
		return netlink.AddrAdd(l, a)
	})
	if err != nil {
		t.Fatalf("add %s in %s: %v", cidr, h, err)
	}
	return at
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestLabGuardRemovesVIPOnBackup runs keepalived as master (150) and a
// participant with the guard on as backup (100), both from the same
// keepalived.conf text, then adds the VIP by hand (ip addr add) on the
// backup several times: each time the participant removes it at once and
// reports it. The delay is measured from the kernel's address events (the
// add and the removal, seen by one netlink listener in the namespace);
// the median must stay under 100 ms. Other addresses stay, and once the
// participant is master (keepalived stopped) the guard leaves its VIP
// alone.
func TestLabGuardRemovesVIPOnBackup(t *testing.T) {
	netlab.Require(t)
	t.Parallel()
	for _, fl := range []struct{ name, a, b, plen, vip, other string }{
		{"ipv4", "10.93.0.1", "10.93.0.2", "/24", "10.93.0.100", "10.93.0.50"},
		{"ipv6", "fd93::1", "fd93::2", "/64", "fd93::100", "fd93::50"},
	} {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			a := lab.AddHost("a", fl.a+fl.plen)
			b := lab.AddHost("b", fl.b+fl.plen)
			conf := func(prio int) string {
				return netlab.Conf(netlab.Instance{VRID: 71, Priority: prio, Version: 3, AdvertInt: 100 * time.Millisecond,
					VIPs: []string{fl.vip + fl.plen}})
			}
			ka := a.StartKeepalived(t, conf(150))
			lab.WaitVIP(t, fl.vip, 10*time.Second)
			path := filepath.Join(t.TempDir(), "keepalived.conf")
			if err := os.WriteFile(path, []byte(conf(100)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := b.Cmd(os.Args[0])
			cmd.Env = append(os.Environ(), guardHelperEnv+"="+path)
			g := b.StartCmd(t, cmd)
			g.WaitOutput(t, "entering BACKUP state", 10*time.Second)
			w := watchAddrsIn(t, b)

			vip := netip.MustParseAddr(fl.vip)
			// Each round adds the VIP and waits for its removal and the
			// report: with ip addr add (the delay includes starting ip), then
			// with a netlink call from this process (the delay from the call
			// to the removal event's arrival).
			const rounds = 9
			want := fmt.Sprintf("guard instance=VI_1 interface=eth0 address=%s%s state=BACKUP removed=true err=<nil>", fl.vip, fl.plen)
			var byIP, byNetlink []time.Duration
			for n := range 2 * rounds {
				var added time.Time
				if n < rounds {
					added = time.Now()
					b.AddAddr(t, fl.vip+fl.plen)
				} else {
					added = addAddrNetlink(t, b, fl.vip+fl.plen)
				}
				removed := w.next(t, vip, false, 2*time.Second)
				if n < rounds {
					byIP = append(byIP, removed.Sub(added))
				} else {
					byNetlink = append(byNetlink, removed.Sub(added))
				}
				// The report follows the removal.
				for end := time.Now().Add(time.Second); strings.Count(g.Output(), want) < n+1 && time.Now().Before(end); {
					time.Sleep(time.Millisecond)
				}
				if got := strings.Count(g.Output(), want); got != n+1 {
					t.Fatalf("round %d: %d reports %q, want %d:\n%s", n, got, want, n+1, g.Output())
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("VIP added on the backup, removed after: from running ip addr add median %v %v; from a netlink add median %v %v",
				median(byIP), byIP, median(byNetlink), byNetlink)
			if m := median(byIP); m >= 100*time.Millisecond {
				t.Errorf("median delay from ip addr add to removal %v, want under 100 ms", m)
			}

			// Not a virtual address: left alone.
			b.AddAddr(t, fl.other+fl.plen)
			time.Sleep(300 * time.Millisecond)
			if !b.HasAddr(fl.other) || !b.HasAddr(fl.b) {
				t.Errorf("the guard removed %s or the source address %s", fl.other, fl.b)
			}

			// Master: the guard leaves the VIP alone.
			if err := ka.Stop(); err != nil {
				t.Fatal(err)
			}
			g.WaitOutput(t, "entering MASTER state", 5*time.Second)
			b.WaitAddr(t, fl.vip, time.Second)
			time.Sleep(500 * time.Millisecond)
			if !b.HasAddr(fl.vip) {
				t.Errorf("master lost its VIP %s", fl.vip)
			}
			if got := strings.Count(g.Output(), "guard instance="); got != 2*rounds {
				t.Errorf("%d guard reports, want %d:\n%s", got, 2*rounds, g.Output())
			}
			if err := g.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-g.Done():
			case <-time.After(10 * time.Second):
				t.Fatalf("participant did not stop on SIGTERM:\n%s", g.Output())
			}
			if err := g.Err(); err != nil {
				t.Errorf("participant: %v\n%s", err, g.Output())
			}
			if b.HasAddr(fl.vip) {
				t.Errorf("VIP %s still configured after the participant stopped", fl.vip)
			}
		})
	}
}
