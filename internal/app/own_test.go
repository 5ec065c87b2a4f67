package app

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

const ownTestConf = `
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress { 10.0.0.100/24 }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress { fd00::100/64 }
}
vrrp_instance C {
    interface eth1
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress { 10.1.0.100/24 }
}
`

// testMAC is every interface's MAC in these tests.
func testMAC(string) ([6]byte, bool) { return [6]byte{2, 0, 0, 0, 0, 1}, true }

func ownTestConfig(t *testing.T) *keepalived.Config {
	t.Helper()
	k, _, err := keepalived.Parse("keepalived.conf", []byte(ownTestConf), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sentAdvert is an advert of the node on eth0 (VRID, priority) at at.
func sentAdvert(t *testing.T, iface string, fam vrrp.Family, vrid, prio uint8, at time.Time) *participant.Sent {
	t.Helper()
	src, dst, vip := netip.MustParseAddr("10.0.0.1"), vrrp.MulticastIPv4, netip.MustParseAddr("10.0.0.100")
	if fam == vrrp.IPv6 {
		src, dst, vip = netip.MustParseAddr("fe80::1"), vrrp.MulticastIPv6, netip.MustParseAddr("fd00::100")
	}
	a := vrrp.Advertisement{Version: 2, Type: 1, VRID: vrid, Priority: prio, Interval: time.Second, Family: fam, Addresses: []netip.Addr{vip}}
	if fam == vrrp.IPv6 {
		a.Version = 3
	}
	b, err := a.Marshal(vrrp.EncodeOptions{Src: src, Dst: dst})
	if err != nil {
		t.Fatal(err)
	}
	return &participant.Sent{At: at, Interface: iface, MAC: [6]byte{2, 0, 0, 0, 0, 1}, Src: src, Dst: dst, TTL: 255, Payload: b}
}

// ownTestWatcher is a watcher without capture whose hook records what
// reaches the engine, as "iface family vrid prio".
func ownTestWatcher(t *testing.T, set *ownSet) (*watcher, *[]string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pl, err := newWatcherPipeline(watcherOptions{Params: rules.DefaultParams(), Out: io.Discard, Format: output.JSON, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	w := &watcher{pl: pl, log: log, own: newOwnAdverts(set, 30*time.Millisecond), ownDec: map[string]*sniffer.Decoder{}}
	if w.ticks, err = newLazyTicker(time.Hour, func(time.Time) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.ticks.Close)
	w.hook = func(o *obs.Observation) {
		seen = append(seen, fmt.Sprintf("%s %s %d %d", o.Interface, o.Family, o.Advert.VRID, o.Advert.Priority))
	}
	return w, &seen
}

func TestOwnSetFromConfig(t *testing.T) {
	set := newOwnSet(ownTestConfig(t), []string{"eth0", "eth2"}, nil, testMAC)
	if got, want := fmt.Sprint(set.filter), "map[eth0:{[2 0 0 0 0 1] [51] [52]} eth2:{[2 0 0 0 0 1] [] []}]"; got != want {
		t.Errorf("filters %s, want %s (eth1 is not captured: its adverts are captured... nowhere, and not handed over)", got, want)
	}
	for k, want := range map[ownKey]bool{{"eth0", false, 51}: true, {"eth0", true, 52}: true, {"eth0", true, 51}: false, {"eth1", false, 51}: false} {
		if got := set.keys[k] != nil; got != want {
			t.Errorf("handed over %+v: %v, want %v", k, got, want)
		}
	}
	// Too many VRIDs on one interface for the filter: none handed over.
	var conf string
	for v := 1; v <= sniffer.MaxOwnVRIDs+1; v++ {
		conf += fmt.Sprintf("vrrp_instance I%d {\n interface eth0\n virtual_router_id %d\n priority 100\n virtual_ipaddress { 10.0.%d.1/24 }\n}\n", v, v, v)
	}
	k, _, err := keepalived.Parse("keepalived.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	if set := newOwnSet(k, []string{"eth0"}, nil, testMAC); !set.filter["eth0"].Empty() || len(set.keys) != 0 {
		t.Errorf("%d VRIDs: filter %v, %d handed over; want none", sniffer.MaxOwnVRIDs+1, set.filter["eth0"], len(set.keys))
	}
}

// captured is the observation of a peer's advert on iface captured at at.
func captured(t *testing.T, iface string, vrid, prio uint8, at time.Time) *obs.Observation {
	t.Helper()
	peer := sentAdvert(t, iface, vrrp.IPv4, vrid, prio, at)
	peer.Src, peer.MAC = netip.MustParseAddr("10.0.0.2"), [6]byte{2, 0, 0, 0, 0, 2}
	fr := sniffer.SentFrame(nil, peer.MAC, peer.Src, peer.Dst, peer.TTL, peer.Payload)
	return sniffer.NewDecoder(layers.LinkTypeEthernet).Decode(fr, gopacket.CaptureInfo{Timestamp: peer.At}, iface, 0)
}

// TestOwnAdvertsInOrder: per interface, own adverts reach the engine
// before a captured packet sent after them and after one sent before
// them; a tick takes those older than the lag (the capture may still hold
// a packet sent before a younger one), of every interface in time order;
// adverts the capture sees itself are not queued.
func TestOwnAdvertsInOrder(t *testing.T) {
	w, seen := ownTestWatcher(t, newOwnSet(ownTestConfig(t), []string{"eth0", "eth1"}, nil, testMAC))
	t0 := time.Unix(1700000000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, ms(10)))
	w.sent(sentAdvert(t, "eth0", vrrp.IPv6, 52, 100, ms(20)))
	w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 53, 100, ms(25))) // not own: the capture sees it
	w.sent(sentAdvert(t, "eth1", vrrp.IPv4, 51, 100, ms(30)))
	w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, ms(40)))
	w.sent(sentAdvert(t, "eth1", vrrp.IPv4, 51, 100, ms(50)))
	var want []string
	step := func(what string, f func(), more ...string) {
		t.Helper()
		f()
		want = append(want, more...)
		if fmt.Sprint(*seen) != fmt.Sprint(want) {
			t.Fatalf("after %s: %q, want %q", what, *seen, want)
		}
	}
	step("a captured advert on eth0 at 25 ms", func() { w.observe(captured(t, "eth0", 51, 100, ms(25))) },
		"eth0 ipv4 51 150", "eth0 ipv6 52 100", "eth0 ipv4 51 100")
	step("a captured advert on eth1 at 35 ms", func() { w.observe(captured(t, "eth1", 51, 90, ms(35))) },
		"eth1 ipv4 51 100", "eth1 ipv4 51 90")
	step("a tick at 60 ms (lag 30 ms)", func() { w.tick(ms(60)) })
	step("a tick at 75 ms", func() { w.tick(ms(75)) }, "eth0 ipv4 51 150")
	step("a tick at 200 ms", func() { w.tick(ms(200)) }, "eth1 ipv4 51 100")
	step("a second tick at 200 ms", func() { w.tick(ms(200)) })
	c := w.own.set.Load().byName["eth0"]
	if c.handed.Load() != 3 || c.dropped.Load() != 0 {
		t.Errorf("eth0 counters: %d handed over, %d dropped; want 3, 0", c.handed.Load(), c.dropped.Load())
	}
	if d := w.ownDec["eth0"]; d == nil || d.Stats.Adverts != 3 {
		t.Errorf("own decoder of eth0: %+v, want 3 adverts", d)
	}
}

// TestOwnAdvertsFullQueue: a queue nobody takes from counts what does not
// fit as dropped, never blocks, and asks for a take once it is getting
// full.
func TestOwnAdvertsFullQueue(t *testing.T) {
	w, seen := ownTestWatcher(t, newOwnSet(ownTestConfig(t), []string{"eth0"}, nil, testMAC))
	kicks := 0
	w.own.kick = func() { kicks++ }
	t0 := time.Unix(1700000000, 0)
	for i := range ownQueueLen + 10 {
		w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, t0.Add(time.Duration(i)*time.Millisecond)))
	}
	c := w.own.set.Load().byName["eth0"]
	if c.handed.Load() != ownQueueLen || c.dropped.Load() != 10 {
		t.Errorf("%d handed over, %d dropped; want %d, 10", c.handed.Load(), c.dropped.Load(), ownQueueLen)
	}
	if kicks != 1 {
		t.Errorf("%d kicks, want 1 (at %d queued)", kicks, ownKickAt)
	}
	w.takeOwn()
	if len(*seen) != ownQueueLen {
		t.Errorf("took %d, want %d", len(*seen), ownQueueLen)
	}
	if q := w.own.qs["eth0"]; len(q.q) != ownQueueLen {
		t.Errorf("the ring grew to %d slots, want %d", len(q.q), ownQueueLen)
	}
	// Emptied, it is used again from where it is.
	w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, t0))
	w.takeOwn()
	if len(*seen) != ownQueueLen+1 || c.dropped.Load() != 10 {
		t.Errorf("after emptying: took %d in all, %d dropped; want %d, 10", len(*seen), c.dropped.Load(), ownQueueLen+1)
	}
}

// TestSetOwnNeverTwice: while a reload changes the own set, only adverts
// of both the old and the new set are handed over.
func TestSetOwnNeverTwice(t *testing.T) {
	old := newOwnSet(ownTestConfig(t), []string{"eth0"}, nil, testMAC)
	k, _, err := keepalived.Parse("keepalived.conf", []byte(`
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress { 10.0.0.100/24 }
}
vrrp_instance D {
    interface eth0
    virtual_router_id 54
    priority 150
    virtual_ipaddress { 10.0.0.101/24 }
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	next := newOwnSet(k, []string{"eth0"}, old, testMAC)
	if next.byName["eth0"] != old.byName["eth0"] {
		t.Error("counters do not survive the reload")
	}
	w, _ := ownTestWatcher(t, old)
	var during *ownSet
	w.caps = &captures{}
	w.caps.setOwnHook = func() { during = w.own.set.Load() }
	if err := w.setOwn(k, next); err != nil {
		t.Fatal(err)
	}
	if during == nil || len(during.keys) != 1 || during.keys[ownKey{"eth0", false, 51}] == nil {
		t.Errorf("while the filters change: %v, want only eth0 IPv4 51", during)
	}
	if w.own.set.Load() != next {
		t.Error("the new set is not in place")
	}
}

// ownCaptured is the node's own advert as the capture shows it.
func ownCaptured(t *testing.T, prio uint8, at time.Time) *obs.Observation {
	t.Helper()
	s := sentAdvert(t, "eth0", vrrp.IPv4, 51, prio, at)
	fr := sniffer.SentFrame(nil, obs.MAC(s.MAC), s.Src, s.Dst, s.TTL, s.Payload)
	return sniffer.NewDecoder(layers.LinkTypeEthernet).Decode(fr, gopacket.CaptureInfo{Timestamp: at}, "eth0", 0)
}

// TestOwnTickDoesNotOvertakeCapture: the peer (priority 200) resigns at
// 100 ms and this node takes over at 106 ms; the capture hands the peer's
// priority-0 advert over only at 120 ms (its block timeout), after an
// engine tick at 110 ms. The engine reports the same master changes as
// when the node's adverts were captured off the wire with the peer's.
func TestOwnTickDoesNotOvertakeCapture(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	events := func(handover bool) string {
		var out bytes.Buffer
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		pl, err := newWatcherPipeline(watcherOptions{Params: rules.DefaultParams(), Out: &out, Format: output.JSON, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		w := &watcher{pl: pl, log: log, ownDec: map[string]*sniffer.Decoder{}}
		if w.ticks, err = newLazyTicker(time.Hour, func(time.Time) {}); err != nil {
			t.Fatal(err)
		}
		defer w.ticks.Close()
		if handover {
			w.own = newOwnAdverts(newOwnSet(ownTestConfig(t), []string{"eth0"}, nil, testMAC), 30*time.Millisecond)
		}
		own := func(at time.Time) {
			if handover {
				w.sent(sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, at))
			}
		}
		w.observe(captured(t, "eth0", 51, 200, ms(0)))
		own(ms(106))
		w.tick(ms(110)) // before the capture hands the block over
		w.observe(captured(t, "eth0", 51, 0, ms(100)))
		if !handover {
			w.observe(ownCaptured(t, 150, ms(106))) // in the same block
		}
		for i := 1; i <= 30; i++ { // this node's adverts every 100 ms, ticks between
			own(ms(106 + 100*i))
			w.tick(ms(120 + 100*i))
			if !handover {
				w.observe(ownCaptured(t, 150, ms(106+100*i)))
			}
		}
		var ev []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, "master") {
				ev = append(ev, l)
			}
		}
		return strings.Join(ev, "\n")
	}
	wire, handed := events(false), events(true)
	if wire == "" || wire != handed {
		t.Errorf("master changes differ:\nfrom the wire:\n%s\nhanded over:\n%s", wire, handed)
	}
}

// TestOwnMACChange: an advert sent from another MAC than the filter's (the
// interface's MAC changed) is not handed over — the filter does not leave
// it out, the capture sees it — and the next tick moves the filter and
// the set to the new MAC, after which adverts are handed over again.
func TestOwnMACChange(t *testing.T) {
	k := ownTestConfig(t)
	w, seen := ownTestWatcher(t, newOwnSet(k, []string{"eth0"}, nil, testMAC))
	w.ownConf.Store(k)
	w.caps = &captures{}
	var filters []string
	w.caps.setOwnHook = func() { filters = append(filters, fmt.Sprint(w.caps.opts.Own["eth0"].MAC)) }
	newMAC := [6]byte{2, 0, 0, 0, 0, 9}
	t0 := time.Unix(1700000000, 0)
	s := sentAdvert(t, "eth0", vrrp.IPv4, 51, 150, t0)
	s.MAC = newMAC
	w.sent(s)
	if !w.own.stale.Load() || w.own.qs["eth0"] != nil && w.own.qs["eth0"].n != 0 {
		t.Fatalf("an advert from a new MAC: stale %v, queued %v; want stale, nothing queued", w.own.stale.Load(), w.own.qs["eth0"])
	}
	// The interface now has the new MAC.
	ifaceMAC := func(string) ([6]byte, bool) { return newMAC, true }
	old := w.own.set.Load()
	// tick makes the new set with interfaceMAC; here the test's stand-in.
	if err := w.setOwn(k, newOwnSet(k, []string{"eth0"}, old, ifaceMAC)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(filters); got != "["+fmt.Sprint(newMAC)+"]" {
		t.Errorf("filters set: %s, want the new MAC", got)
	}
	w.sent(s)
	w.tick(t0.Add(time.Second))
	if len(*seen) != 1 {
		t.Errorf("after the move: %q delivered, want the advert from the new MAC", *seen)
	}
}
