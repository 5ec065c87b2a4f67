package app

import (
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/sniffer"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ownAdverts carries the adverts `run`'s participant sent to its watcher.
// The capture filter of the node's interfaces leaves those adverts out
// (sniffer.Own), so that the node's own adverts, every advert it sends as
// master, do not wake the capture; instead the participant's goroutines
// push each advert right after sending it (push never blocks: a full
// queue counts the advert as dropped), and the watcher takes them per
// interface in time order: before each captured packet of the interface,
// the adverts sent before it; on each of the engine's ticks, those sent
// longer ago than the capture can hold a packet back (its block timeout
// and a little more), so that they do not overtake packets still in the
// capture ring. Per interface, the engine thus sees the same observations
// in the same order as when the capture read the node's adverts off the
// wire, only later on a silent segment (by up to a tick, 100 ms, well
// within every deadline of the engine: a finding's onset is the packets'
// time, not the time they are handled).
type ownAdverts struct {
	set  atomic.Pointer[ownSet]
	kick func() // asks the watcher to take the queue now (when it fills up)
	// stale: an advert came from another MAC than the filter's (the
	// interface's MAC changed); the watcher makes a new set.
	stale atomic.Bool
	// lag is how long a tick leaves an advert in the queue: the longest
	// the capture may still hold back a packet sent before it.
	lag time.Duration

	mu sync.Mutex
	qs map[string]*ownQueue // by interface
	n  int                  // queued in all
}

// ownQueue is a ring of slots that grows when full, up to ownQueueLen
// (slots are reused: in the steady state a few are in use).
type ownQueue struct {
	q    []ownSlot
	head int
	n    int
}

func (q *ownQueue) front() *ownSlot { return &q.q[q.head] }

func (q *ownQueue) pop() {
	q.head = (q.head + 1) % len(q.q)
	q.n--
}

// slot returns the slot after the last, growing the ring if it is full;
// nil when it holds ownQueueLen.
func (q *ownQueue) slot() *ownSlot {
	if q.n == len(q.q) {
		if len(q.q) >= ownQueueLen {
			return nil
		}
		grown := make([]ownSlot, max(2*len(q.q), 16))
		for i := range q.n {
			grown[i] = q.q[(q.head+i)%len(q.q)]
		}
		q.q, q.head = grown, 0
	}
	q.n++
	return &q.q[(q.head+q.n-1)%len(q.q)]
}

// ownSet is which adverts are handed over: by interface, family and VRID
// (what the capture filters leave out), with the counters of each
// interface.
type ownSet struct {
	keys   map[ownKey]*ownCounters
	byName map[string]*ownCounters
	filter map[string]sniffer.Own // with each interface's MAC
}

type ownKey struct {
	iface string
	v6    bool
	vrid  uint8
}

type ownCounters struct {
	handed, dropped atomic.Uint64
}

type ownSlot struct {
	at       time.Time
	iface    string
	mac      obs.MAC
	src, dst netip.Addr
	ttl      uint8
	payload  []byte
}

const (
	// ownQueueLen bounds the adverts of an interface waiting for the
	// watcher: at 10 ms adverts a tick (100 ms) holds 10 per instance.
	ownQueueLen = 4096
	// ownKickAt is the number queued at which push asks for a take.
	ownKickAt = 256
	// ownLagSlack is added to the capture's block timeout for the lag: the
	// kernel retires a block on a timer of jiffies (4 ms at HZ 250), and
	// the capture goroutine must still be woken and scheduled.
	ownLagSlack = 10 * time.Millisecond
)

// newOwnSet is the set of the instances of k on the captured interfaces
// (an interface with more VRIDs than a filter can test, or whose MAC
// macOf does not know, hands over none). Interfaces the watcher captures
// but k has no instance on get an empty filter.
func newOwnSet(k *keepalived.Config, captured []string, prev *ownSet, macOf func(iface string) ([6]byte, bool)) *ownSet {
	s := &ownSet{keys: map[ownKey]*ownCounters{}, byName: map[string]*ownCounters{}, filter: map[string]sniffer.Own{}}
	for _, name := range captured {
		s.filter[name] = sniffer.Own{}
		c := &ownCounters{}
		if prev != nil && prev.byName[name] != nil {
			c = prev.byName[name] // counters survive a reload
		}
		s.byName[name] = c
	}
	seen := map[ownKey]bool{}
	for _, in := range k.Instances {
		own, ok := s.filter[in.Interface]
		key := ownKey{iface: in.Interface, v6: in.Family() == vrrp.IPv6, vrid: in.VRID}
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		if key.v6 {
			own.V6 = append(own.V6, in.VRID)
		} else {
			own.V4 = append(own.V4, in.VRID)
		}
		s.filter[in.Interface] = own
	}
	for name, own := range s.filter {
		own.MAC, _ = macOf(name)
		if !own.Valid() {
			s.filter[name] = sniffer.Own{}
			continue
		}
		sort.Slice(own.V4, func(i, j int) bool { return own.V4[i] < own.V4[j] })
		sort.Slice(own.V6, func(i, j int) bool { return own.V6[i] < own.V6[j] })
		s.filter[name] = own
		for _, v := range own.V4 {
			s.keys[ownKey{name, false, v}] = s.byName[name]
		}
		for _, v := range own.V6 {
			s.keys[ownKey{name, true, v}] = s.byName[name]
		}
	}
	return s
}

// interfaceMAC is the MAC of a named interface (false: none, or no
// Ethernet address).
func interfaceMAC(iface string) ([6]byte, bool) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil || len(ifi.HardwareAddr) != 6 {
		return [6]byte{}, false
	}
	return [6]byte(ifi.HardwareAddr), true
}

func newOwnAdverts(set *ownSet, lag time.Duration) *ownAdverts {
	o := &ownAdverts{qs: map[string]*ownQueue{}, kick: func() {}, lag: lag}
	o.set.Store(set)
	return o
}

// push queues an advert the participant sent, if it is one the capture
// leaves out; it never blocks.
func (o *ownAdverts) push(s *participant.Sent) {
	if len(s.Payload) < 2 {
		return
	}
	set := o.set.Load()
	c := set.keys[ownKey{iface: s.Interface, v6: s.Src.Is6() && !s.Src.Is4In6(), vrid: s.Payload[1]}]
	if c == nil {
		return // the capture sees it
	}
	if s.MAC != set.filter[s.Interface].MAC {
		// The interface's MAC changed: the filter does not leave this
		// advert out, so the capture sees it; the watcher moves the
		// filter to the new MAC.
		o.stale.Store(true)
		return
	}
	o.mu.Lock()
	q := o.qs[s.Interface]
	if q == nil {
		q = &ownQueue{}
		o.qs[s.Interface] = q
	}
	sl := q.slot()
	if sl == nil {
		o.mu.Unlock()
		c.dropped.Add(1)
		return
	}
	sl.at, sl.iface, sl.mac, sl.src, sl.dst, sl.ttl = s.At, s.Interface, obs.MAC(s.MAC), s.Src, s.Dst, s.TTL
	sl.payload = append(sl.payload[:0], s.Payload...)
	o.n++
	kick := o.n == ownKickAt
	o.mu.Unlock()
	c.handed.Add(1)
	if kick {
		o.kick()
	}
}

// take removes the oldest queued advert sent at or before upTo (any, with
// all) — of iface, or of any interface if iface is "" — and appends its
// frame to b (sniffer.SentFrame).
func (o *ownAdverts) take(iface string, upTo time.Time, all bool, b []byte) (frame []byte, from string, at time.Time, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var q *ownQueue
	if iface != "" {
		if q = o.qs[iface]; q == nil || q.n == 0 {
			return b, "", time.Time{}, false
		}
	} else {
		for _, x := range o.qs {
			if x.n > 0 && (q == nil || x.front().at.Before(q.front().at)) {
				q = x
			}
		}
		if q == nil {
			return b, "", time.Time{}, false
		}
	}
	sl := q.front()
	if !all && sl.at.After(upTo) {
		return b, "", time.Time{}, false
	}
	frame = sniffer.SentFrame(b[:0], sl.mac, sl.src, sl.dst, sl.ttl, sl.payload)
	from, at = sl.iface, sl.at
	q.pop()
	o.n--
	return frame, from, at, true
}

// ownCollector exports the counters of the handed-over adverts.
type ownCollector struct {
	o               *ownAdverts
	handed, dropped *prometheus.Desc
}

func newOwnCollector(o *ownAdverts) *ownCollector {
	return &ownCollector{o: o,
		handed: prometheus.NewDesc("vrrpguard_capture_own_adverts_total",
			"Adverts this node's participant sent and handed to the watcher itself (the capture filter leaves them out).", []string{"interface"}, nil),
		dropped: prometheus.NewDesc("vrrpguard_capture_own_dropped_total",
			"Adverts this node's participant sent that the watcher did not take in time (its queue was full).", []string{"interface"}, nil),
	}
}

func (c *ownCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.handed
	ch <- c.dropped
}

func (c *ownCollector) Collect(ch chan<- prometheus.Metric) {
	for name, k := range c.o.set.Load().byName {
		ch <- prometheus.MustNewConstMetric(c.handed, prometheus.CounterValue, float64(k.handed.Load()), name)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(k.dropped.Load()), name)
	}
}
