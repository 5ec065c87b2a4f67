package participant

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
)

// labRawPair opens, in a lab host with address addr, a raw protocol-112
// socket receiving with what the IP layer says of each packet (rx) and
// one sending from addr (tx); both are closed when the test ends.
func labRawPair(t *testing.T, addr string) (rx, tx net.PacketConn) {
	t.Helper()
	h := netlab.New(t).AddHost("a", addr+"/24")
	if err := h.Do(func() error {
		var err error
		if rx, err = net.ListenPacket("ip4:112", "0.0.0.0"); err != nil {
			return err
		}
		if err = ipv4.NewPacketConn(rx).SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
			return err
		}
		tx, err = net.ListenPacket("ip4:112", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close(); tx.Close() })
	return rx, tx
}

// TestLabPollWaiter drives the Linux waiter on a real raw socket in a lab
// namespace: a deadline, a packet (with what the IP layer says of it), a
// rare event, and closing while the context is still alive (the loop
// returning on a socket error) must each come back as the right event.
func TestLabPollWaiter(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	rx, tx := labRawPair(t, "10.91.0.1")
	e := &netEnv{conn: rx, p4: ipv4.NewPacketConn(rx)}
	links := make(chan linkState, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := e.newWaiter(sources{done: ctx.Done(), links: links, tracks: make(chan election.Event), wake: make(chan struct{})})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			w.close()
		}
	}()

	start := time.Now()
	deadline := start.Add(20 * time.Millisecond)
	if ev := w.wait(deadline); ev.kind != evTimer || time.Now().Before(deadline) {
		t.Errorf("deadline: event %d after %v, want evTimer (%d) after 20ms", ev.kind, time.Since(start), evTimer)
	}

	payload := []byte{0x31, 72, 150, 1, 0, 1, 0, 0, 10, 91, 0, 100}
	if _, err := tx.WriteTo(payload, &net.IPAddr{IP: net.IPv4(10, 91, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	ev := w.wait(time.Now().Add(10 * time.Second))
	if ev.kind != evPacket {
		t.Fatalf("packet: event %d, want evPacket (%d)", ev.kind, evPacket)
	}
	self := netip.MustParseAddr("10.91.0.1")
	if ev.p.src != self || ev.p.dst != self || ev.p.ttl != 64 || ev.p.ifindex == 0 || string(ev.p.data) != string(payload) || ev.p.at.IsZero() {
		t.Errorf("packet %+v, want from and to %s, ttl 64, an interface, data %x", ev.p, self, payload)
	}

	// A flood: with a deadline passed, the waiter returns at most
	// maxStreak packets before the deadline.
	for range 3 * maxStreak {
		if _, err := tx.WriteTo(payload, &net.IPAddr{IP: net.IPv4(10, 91, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if ev := w.wait(time.Now().Add(10 * time.Second)); ev.kind != evPacket {
		t.Fatalf("flood: event %d, want evPacket (%d)", ev.kind, evPacket)
	}
	got := 1
	for ev := w.wait(time.Now()); ev.kind != evTimer; ev = w.wait(time.Now()) {
		if ev.kind != evPacket || got > 2*maxStreak {
			t.Fatalf("flood: event %d after %d packets with the deadline passed, want evTimer within %d", ev.kind, got, maxStreak)
		}
		got++
	}
	if got > maxStreak {
		t.Errorf("flood: %d packets before the passed deadline, want at most %d", got, maxStreak)
	}
	for ev := w.wait(time.Now().Add(50 * time.Millisecond)); ev.kind == evPacket; ev = w.wait(time.Now().Add(50 * time.Millisecond)) {
	}

	links <- linkState{name: "eth0", up: false}
	if ev := w.wait(time.Now().Add(10 * time.Second)); ev.kind != evLink || ev.link != (linkState{name: "eth0", up: false}) {
		t.Errorf("link change: event %+v, want evLink", ev)
	}

	// The loop may return (a socket error) with the context alive: close
	// must not wait for it.
	done := make(chan struct{})
	closed = true
	go func() { w.close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("close hung with the context alive")
	}
}

// TestLabPollWaiterDoesNotAllocate: waiting for a deadline or a packet
// (twice per advert) allocates nothing. Not parallel: AllocsPerRun counts
// the whole process's allocations.
func TestLabPollWaiterDoesNotAllocate(t *testing.T) {
	netlab.Require(t)
	rx, tx := labRawPair(t, "10.92.0.1")
	e := &netEnv{conn: rx, p4: ipv4.NewPacketConn(rx)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := e.newWaiter(sources{done: ctx.Done(), links: make(chan linkState), tracks: make(chan election.Event), wake: make(chan struct{})})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if n := testing.AllocsPerRun(20, func() {
		if ev := w.wait(time.Now().Add(time.Millisecond)); ev.kind != evTimer {
			t.Fatalf("deadline: event %d, want evTimer (%d)", ev.kind, evTimer)
		}
	}); n != 0 {
		t.Errorf("wait for a deadline: %v allocations, want 0", n)
	}
	payload := []byte{0x31, 72, 150, 1, 0, 1, 0, 0, 10, 92, 0, 100}
	dst := &net.IPAddr{IP: net.IPv4(10, 92, 0, 1)}
	for range 21 {
		if _, err := tx.WriteTo(payload, dst); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(20, func() {
		if ev := w.wait(time.Now().Add(10 * time.Second)); ev.kind != evPacket {
			t.Fatalf("packet: event %d, want evPacket (%d)", ev.kind, evPacket)
		}
	}); n != 0 {
		t.Errorf("wait for a packet: %v allocations, want 0", n)
	}
}
