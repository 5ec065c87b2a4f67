package app

import (
	"encoding/json"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/status"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// ownStatus reads run's /api/v1/status from inside h.
func ownStatus(t *testing.T, h *netlab.Host) status.Doc {
	t.Helper()
	resp, err := nsClient(h).Get("http://" + defaultRunListen + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d status.Doc
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// routerOf is the router with address addr on the segment of vrid (nil:
// none).
func routerOf(d status.Doc, vrid uint8, addr string) (*status.Segment, *status.Router) {
	for i := range d.Segments {
		s := &d.Segments[i]
		if s.VRID != vrid {
			continue
		}
		for j := range s.Routers {
			if s.Routers[j].Address == addr {
				return s, &s.Routers[j]
			}
		}
	}
	return nil, nil
}

// TestRunOwnAdverts: `run`'s watcher sees the node's own adverts exactly
// once each, whether the participant hands them over (the default: the
// capture filter leaves them out, vrrpguard_capture_own_adverts_total
// counts them, the kernel passes the capture almost nothing from a silent
// backup) or the capture reads them off the interface (--own-adverts
// capture). With the handover, a reload that changes the instance's VRID
// moves the filter: the new VRID's adverts are seen once each, and the old
// VRID, now the peer's alone, is captured.
func TestRunOwnAdverts(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	for _, mode := range []string{ownHandover, ownCapture} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			f := runFlavours[1] // v3 over IPv4, 100 ms
			_, a, b := labPair(t, f)
			n := &runNode{host: a, conf: writeFile(t, "keepalived.conf", f.conf(150))}
			n.proc = a.Start(t, binary(t), "run", "--config", n.conf, "--listen", defaultRunListen, "--no-probe", "--own-adverts", mode)
			n.proc.WaitOutput(t, "msg=starting", 10*time.Second)
			kb := b.StartKeepalived(t, f.conf(100))
			a.WaitAddr(t, f.vip, 15*time.Second)
			kb.WaitLog(t, "Entering BACKUP STATE", 15*time.Second)
			self := f.subnet + "1"
			const metrics = "http://" + defaultRunListen + "/metrics"
			own := func() float64 {
				v, _ := metricValue(t, a, metrics, `vrrpguard_capture_own_adverts_total{interface="eth0"}`)
				return v
			}
			received := func() float64 {
				v, _ := metricValue(t, a, metrics, `vrrpguard_capture_received_packets_total{interface="eth0"}`)
				return v
			}
			// window samples the own router's advert count on vrid, the
			// handed-over count and the capture's count over 3 s (30 adverts).
			window := func(vrid uint8) (adverts, handed, captured float64) {
				t.Helper()
				var r0 *status.Router
				waitFor(t, "run's watcher to see its own router", 10*time.Second, func() bool {
					_, r0 = routerOf(ownStatus(t, a), vrid, self)
					return r0 != nil && r0.Adverts > 0
				})
				o0, c0 := own(), received()
				time.Sleep(3 * time.Second)
				seg, r1 := routerOf(ownStatus(t, a), vrid, self)
				o1, c1 := own(), received()
				if seg.Master != self || r1.Role != "master" || seg.Health != "ok" {
					t.Errorf("VRID %d: master %q health %q, own role %q; want %s, ok, master", vrid, seg.Master, seg.Health, r1.Role, self)
				}
				return float64(r1.Adverts - r0.Adverts), o1 - o0, c1 - c0
			}
			adverts, handed, captured := window(61)
			t.Logf("%s: in 3 s the watcher saw %v own adverts; %v handed over, %v captured", mode, adverts, handed, captured)
			if adverts < 20 || adverts > 40 {
				t.Errorf("the watcher saw %v own adverts in 3 s at 100 ms, want about 30 (each once)", adverts)
			}
			if mode == ownCapture {
				// (The counts are read one after the other: ±2.)
				if handed != 0 || captured < adverts-2 {
					t.Errorf("--own-adverts capture: %v handed over, %v captured; want 0 and at least the %v adverts", handed, captured, adverts)
				}
				return
			}
			if handed < adverts-2 || handed > adverts+2 || captured > 5 {
				t.Errorf("handover: %v handed over, %v captured for %v adverts seen; want the adverts handed over, not captured", handed, captured, adverts)
			}

			// The instance moves to VRID 62: keepalived, alone on 61, takes it.
			if err := writeFileErr(n.conf, strings.Replace(f.conf(150), "virtual_router_id 61", "virtual_router_id 62", 1)); err != nil {
				t.Fatal(err)
			}
			n.proc.Signal(syscall.SIGHUP)
			n.proc.WaitOutput(t, "msg=reloaded", 10*time.Second)
			b.WaitAddr(t, f.vip, 15*time.Second)
			adverts, handed, captured = window(62)
			t.Logf("after the reload: %v own adverts on VRID 62; %v handed over, %v captured (keepalived's on 61)", adverts, handed, captured)
			if adverts < 20 || adverts > 40 || handed < adverts-2 || handed > adverts+2 {
				t.Errorf("VRID 62: %v adverts seen, %v handed over in 3 s; want about 30 of each", adverts, handed)
			}
			if captured < 20 || captured > 45 {
				t.Errorf("VRID 62: %v packets captured in 3 s, want keepalived's ~30 adverts on 61 only", captured)
			}

			// The interface's MAC changes (a bond's fail_over_mac): the
			// handed-over adverts carry the new one, as the wire does.
			const mac = "02:5a:00:00:00:62"
			a.Run(t, "ip", "link", "set", "eth0", "address", mac)
			waitFor(t, "the own router's MAC to follow the interface's", 10*time.Second, func() bool {
				_, r := routerOf(ownStatus(t, a), 62, self)
				return r != nil && r.MAC == mac
			})
			// The filter moved to the new MAC: handed over again, once each.
			time.Sleep(500 * time.Millisecond)
			adverts, handed, captured = window(62)
			t.Logf("after the MAC change: %v own adverts on VRID 62; %v handed over, %v captured", adverts, handed, captured)
			if adverts < 20 || adverts > 40 || handed < adverts-2 || handed > adverts+2 || captured > 55 {
				t.Errorf("after the MAC change: %v adverts seen, %v handed over, %v captured in 3 s; want ~30 seen and handed over, only keepalived's captured", adverts, handed, captured)
			}
		})
	}
}

// TestRunGARPFollowsMACChange: the interface of a master changes its MAC
// (a bond's fail_over_mac, ip link set address): the periodic gratuitous
// ARPs (garp_master_refresh) announce the new MAC, not the one of the
// start, which would send the virtual address's traffic to nowhere.
func TestRunGARPFollowsMACChange(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	f := runFlavours[1]
	_, a, b := labPair(t, f)
	startRun(t, a, f.conf(150, "garp_master_refresh 1"))
	a.WaitAddr(t, f.vip, 15*time.Second)
	const mac = "02:5a:00:00:00:61"
	a.Run(t, "ip", "link", "set", "eth0", "address", mac)
	capt := b.StartCapture(t, "eth0", "arp")
	time.Sleep(2500 * time.Millisecond) // two refreshes
	path := capt.Stop()
	vip := netip.MustParseAddr(f.vip)
	var macs []string
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if o.Kind == obs.KindARP && o.ARP.Gratuitous && o.ARP.SenderIP == vip {
			macs = append(macs, o.ARP.SenderMAC.String())
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(macs) == 0 {
		t.Fatalf("no gratuitous ARP for %s in 2.5 s with garp_master_refresh 1", vip)
	}
	for _, m := range macs {
		if m != mac {
			t.Errorf("gratuitous ARPs for %s announce %v, want only %s", vip, macs, mac)
			break
		}
	}
}
