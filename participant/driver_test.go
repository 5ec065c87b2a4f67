package participant

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

const testConf = `
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.0.100/24
    }
}
`

// fakeEnv records what the driver does.
type fakeEnv struct {
	mu      sync.Mutex
	start   time.Time
	sent    []sentAdvert
	vips    []string // "add" / "del"
	garps   int
	rx      chan packet
	linkCh  chan linkState
	filter  rxFilter
	ifUp    bool
	src     netip.Addr
	lastAdv vrrp.Advertisement
	// The local VIP guard's view: addresses configured on the system,
	// address events, removals by the guard and an error to fail them with.
	in      *keepalived.Instance
	present []addrEvent
	addrCh  chan addrEvent
	removed []string // "dev prefix"
	delErr  error
}

type sentAdvert struct {
	at   time.Duration
	prio uint8
}

func newFakeEnv(in *keepalived.Instance) *fakeEnv {
	src := netip.MustParseAddr("10.9.0.2")
	return &fakeEnv{start: time.Now(), rx: make(chan packet, 8), linkCh: make(chan linkState, 8), ifUp: true, src: src,
		filter: rxFilter{in: in, group: vrrp.MulticastIPv4, self: src}, in: in, addrCh: make(chan addrEvent, 8)}
}

func (f *fakeEnv) source() netip.Addr { return f.src }
func (f *fakeEnv) sendAdvert(a *vrrp.Advertisement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentAdvert{time.Since(f.start), a.Priority})
	f.lastAdv = *a
	return nil
}
func (f *fakeEnv) validate(p packet, a *vrrp.Advertisement) error { return f.filter.validate(p, a) }
func (f *fakeEnv) packets() <-chan packet                         { return f.rx }
func (f *fakeEnv) links() <-chan linkState                        { return f.linkCh }
func (f *fakeEnv) linkUp(string) (bool, error)                    { return f.ifUp, nil }
func (f *fakeEnv) addrs() <-chan addrEvent                        { return f.addrCh }

// addVIPs and delVIPs add and remove the configured addresses (not the
// source address) on their interfaces, as netEnv does.
func (f *fakeEnv) addVIPs() error {
	f.log("add")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.in.VIPs {
		a := addrEvent{dev: vipDev(f.in, v), prefix: v.Prefix}
		if !f.has(a) {
			f.present = append(f.present, a)
		}
	}
	return nil
}

func (f *fakeEnv) delVIPs() error {
	f.log("del")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.in.VIPs {
		if v.Prefix.Addr() != f.src {
			f.drop(addrEvent{dev: vipDev(f.in, v), prefix: v.Prefix})
		}
	}
	return nil
}

// has and drop find and remove an address (any prefix length); f.mu is
// held.
func (f *fakeEnv) has(a addrEvent) bool {
	for _, p := range f.present {
		if p.dev == a.dev && p.prefix.Addr() == a.prefix.Addr() {
			return true
		}
	}
	return false
}

func (f *fakeEnv) drop(a addrEvent) bool {
	for n, p := range f.present {
		if p.dev == a.dev && p.prefix == a.prefix {
			f.present = append(f.present[:n], f.present[n+1:]...)
			return true
		}
	}
	return false
}

// presentVIPs returns every configured address: the driver must pick its
// own.
func (f *fakeEnv) presentVIPs() ([]addrEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]addrEvent(nil), f.present...)
	for n := range out {
		out[n].at = time.Now()
	}
	return out, nil
}

func (f *fakeEnv) delAddr(a addrEvent) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.delErr != nil {
		return false, f.delErr
	}
	if !f.drop(a) {
		return false, nil
	}
	f.removed = append(f.removed, a.dev+" "+a.prefix.String())
	return true, nil
}

// configure adds an address by hand; event says whether the watch reports
// it (false: the event was lost).
func (f *fakeEnv) configure(dev, prefix string, event bool) {
	a := addrEvent{dev: dev, prefix: netip.MustParsePrefix(prefix)}
	f.mu.Lock()
	f.present = append(f.present, a)
	f.mu.Unlock()
	if event {
		a.at = time.Now()
		f.addrCh <- a
	}
}

// guardState returns the addresses configured and those the guard removed.
func (f *fakeEnv) guardState() (present, removed []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.present {
		present = append(present, p.dev+" "+p.prefix.String())
	}
	return present, append([]string(nil), f.removed...)
}
func (f *fakeEnv) announce() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.garps++
	return nil
}
func (f *fakeEnv) close() {}
func (f *fakeEnv) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vips = append(f.vips, s)
}

func (f *fakeEnv) snapshot() ([]sentAdvert, []string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentAdvert(nil), f.sent...), append([]string(nil), f.vips...), f.garps
}

func testInstance(t *testing.T, conf string) *Instance {
	t.Helper()
	k, _, err := keepalived.Parse("test.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(k, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r.instances[0]
}

// advertFrom encodes a v3 advert as a peer would send it.
func advertFrom(t *testing.T, src string, prio uint8) packet {
	t.Helper()
	s := netip.MustParseAddr(src)
	a := vrrp.Advertisement{Version: 3, VRID: 51, Priority: prio, Interval: 100 * time.Millisecond,
		Addresses: []netip.Addr{netip.MustParseAddr("10.9.0.100")}}
	b, err := a.Marshal(vrrp.EncodeOptions{Src: s, Dst: vrrp.MulticastIPv4})
	if err != nil {
		t.Fatal(err)
	}
	return packet{src: s, dst: vrrp.MulticastIPv4, ttl: 255, data: b}
}

// TestDriverTimeline drives one instance with a fake clock (synctest): it
// becomes master exactly Master_Down_Interval after startup, advertises
// every interval, yields to a higher priority, takes over Skew_Time after a
// priority-0 advert, and resigns with priority 0 on shutdown.
func TestDriverTimeline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		i := testInstance(t, testConf)
		f := newFakeEnv(i.cfg)
		var changes []string
		i.opts.OnChange = func(st Status, tr *election.Transition) {
			if tr != nil {
				changes = append(changes, st.State)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- i.run(ctx, f) }()
		mdi := 300*time.Millisecond + 156*100*time.Millisecond/256 // 360.9375 ms
		time.Sleep(mdi + 250*time.Millisecond)
		synctest.Wait()
		sent, vips, garps := f.snapshot()
		want := []sentAdvert{{mdi, 100}, {mdi + 100*time.Millisecond, 100}, {mdi + 200*time.Millisecond, 100}}
		if !equalSent(sent, want) {
			t.Fatalf("adverts %v, want %v", sent, want)
		}
		if d := diffStrings([]string{"del", "add"}, vips); d != "" {
			t.Errorf("VIP operations (-want +got):\n%s", d)
		}
		if garps != 5 {
			t.Errorf("%d gratuitous ARPs on promotion, want 5 (garp_master_repeat)", garps)
		}
		if st := i.Status(); st.State != "MASTER" || st.Sent != 3 {
			t.Errorf("status %+v", st)
		}

		// A higher priority master: back to backup, VIPs removed.
		f.rx <- advertFrom(t, "10.9.0.3", 200)
		synctest.Wait()
		if st := i.Status(); st.State != "BACKUP" || st.Master != "10.9.0.3" || st.MasterPriority != 200 {
			t.Errorf("after higher advert: %+v", st)
		}
		// The master resigns: takeover after Skew_Time.
		t0 := time.Since(f.start)
		f.rx <- advertFrom(t, "10.9.0.3", 0)
		synctest.Wait()
		time.Sleep(time.Second)
		sent, vips, garps = f.snapshot()
		if got, want := sent[3].at-t0, 156*100*time.Millisecond/256; got != want {
			t.Errorf("takeover %v after priority 0, want Skew_Time %v", got, want)
		}
		if garps != 10 {
			t.Errorf("%d gratuitous ARPs after two promotions, want 10", garps)
		}
		// The second burst garp_master_delay (5 s) after promotion.
		time.Sleep(5 * time.Second)
		if _, _, garps = f.snapshot(); garps != 15 {
			t.Errorf("%d gratuitous ARPs 5 s later, want 15", garps)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		sent, vips, _ = f.snapshot()
		if last := sent[len(sent)-1]; last.prio != 0 {
			t.Errorf("last advert %+v, want priority 0 on shutdown", last)
		}
		if d := diffStrings([]string{"del", "add", "del", "add", "del"}, vips); d != "" {
			t.Errorf("VIP operations (-want +got):\n%s", d)
		}
		if d := diffStrings([]string{"BACKUP", "MASTER", "BACKUP", "MASTER", "INIT"}, changes); d != "" {
			t.Errorf("transitions (-want +got):\n%s", d)
		}
	})
}

// TestDriverStateMasterStartsInBackup: like keepalived, an instance with
// "state MASTER" and a priority below 255 starts in BACKUP and sends its
// first advert only after Master_Down_Interval (the election machine has
// no initial state; this is the configuration reaching it).
func TestDriverStateMasterStartsInBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		i := testInstance(t, strings.Replace(testConf, "state BACKUP", "state MASTER", 1))
		if i.cfg.State != "MASTER" || i.cfg.Priority != 100 {
			t.Fatalf("config state %q priority %d, want MASTER 100", i.cfg.State, i.cfg.Priority)
		}
		f := newFakeEnv(i.cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- i.run(ctx, f) }()
		mdi := 300*time.Millisecond + 156*100*time.Millisecond/256
		time.Sleep(mdi - time.Millisecond)
		synctest.Wait()
		if sent, _, _ := f.snapshot(); len(sent) != 0 {
			t.Errorf("adverts before Master_Down_Interval: %v", sent)
		}
		if st := i.Status(); st.State != "BACKUP" {
			t.Errorf("state %s just before Master_Down_Interval, want BACKUP", st.State)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if sent, _, _ := f.snapshot(); !equalSent(sent, []sentAdvert{{mdi, 100}}) {
			t.Errorf("adverts %v, want the first at Master_Down_Interval %v", sent, mdi)
		}
		if st := i.Status(); st.State != "MASTER" {
			t.Errorf("state %s after Master_Down_Interval, want MASTER", st.State)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestDriverInterfaceFault: the interface going down makes a master resign
// into FAULT; coming back it is backup again.
func TestDriverInterfaceFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		i := testInstance(t, testConf)
		f := newFakeEnv(i.cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- i.run(ctx, f) }()
		time.Sleep(time.Second)
		f.linkCh <- linkState{name: "eth0", up: false}
		synctest.Wait()
		if st := i.Status(); st.State != "FAULT" {
			t.Fatalf("state %s after link down, want FAULT", st.State)
		}
		n := len(f.sent)
		time.Sleep(time.Second)
		if len(f.sent) != n {
			t.Errorf("adverts sent in FAULT")
		}
		f.linkCh <- linkState{name: "eth0", up: true}
		synctest.Wait()
		if st := i.Status(); st.State != "BACKUP" {
			t.Fatalf("state %s after link up, want BACKUP", st.State)
		}
		cancel()
		<-done
	})
}

// TestDriverDontTrackPrimary: with dont_track_primary the interface going
// down leaves a master master, still advertising.
func TestDriverDontTrackPrimary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		i := testInstance(t, strings.Replace(testConf, "advert_int 0.1", "advert_int 0.1\n    dont_track_primary", 1))
		f := newFakeEnv(i.cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- i.run(ctx, f) }()
		time.Sleep(time.Second)
		if st := i.Status(); st.State != "MASTER" {
			t.Fatalf("state %s before link down, want MASTER", st.State)
		}
		f.linkCh <- linkState{name: "eth0", up: false}
		synctest.Wait()
		f.mu.Lock()
		n := len(f.sent)
		f.mu.Unlock()
		time.Sleep(time.Second)
		if st := i.Status(); st.State != "MASTER" {
			t.Fatalf("state %s after link down, want MASTER", st.State)
		}
		f.mu.Lock()
		if len(f.sent) <= n {
			t.Errorf("no adverts sent after link down (%d before, %d after)", n, len(f.sent))
		}
		f.mu.Unlock()
		cancel()
		<-done
	})
}

func equalSent(a, b []sentAdvert) bool {
	if len(a) < len(b) {
		return false
	}
	for n := range b {
		if a[n] != b[n] {
			return false
		}
	}
	return len(a) == len(b)
}

func diffStrings(want, got []string) string {
	if len(want) == len(got) {
		same := true
		for n := range want {
			same = same && want[n] == got[n]
		}
		if same {
			return ""
		}
	}
	s := ""
	for _, w := range want {
		s += "-" + w + "\n"
	}
	for _, g := range got {
		s += "+" + g + "\n"
	}
	return s
}

// quietEnv is a fakeEnv whose sends leave no record (for allocation
// counts).
type quietEnv struct{ *fakeEnv }

func (quietEnv) sendAdvert(*vrrp.Advertisement) error { return nil }

// TestDriverAdvertDoesNotAllocate: the driver's work per advertisement
// (a master's advert timer, a backup's received advert) allocates nothing,
// the election machine's step included (StepInto), so 100 adverts a
// second make no garbage for the collector to wake up for.
func TestDriverAdvertDoesNotAllocate(t *testing.T) {
	i := testInstance(t, testConf)
	f := newFakeEnv(i.cfg)
	d, err := newDriver(i, quietEnv{f})
	if err != nil {
		t.Fatal(err)
	}
	d.exec(d.m.Step(time.Now(), election.InterfaceChanged{Up: true}))
	d.exec(d.m.Step(time.Now(), election.Startup{}))
	p := advertFrom(t, "10.9.0.3", 200)
	if n := testing.AllocsPerRun(100, func() { d.received(p) }); n != 0 {
		t.Errorf("backup: %v allocations per received advert, want 0", n)
	}
	d.exec(d.m.Step(time.Now(), election.AdvertReceived{Src: netip.MustParseAddr("10.9.0.3"), Priority: 0, Interval: 100 * time.Millisecond}))
	d.fire(time.Now().Add(time.Hour))
	if st := i.Status(); st.State != "MASTER" {
		t.Fatalf("state %s, want MASTER", st.State)
	}
	sent := i.Status().Sent
	if n := testing.AllocsPerRun(100, func() { d.fire(d.deadline[election.AdverTimer]) }); n != 0 {
		t.Errorf("master: %v allocations per advert timer, want 0", n)
	}
	if got := i.Status().Sent - sent; got != 101 {
		t.Errorf("master: %d adverts sent in 101 advert timers", got)
	}
}
