package demote

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

var (
	t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	vip     = netip.MustParseAddr("10.0.0.10")
	vip2    = netip.MustParseAddr("10.0.0.11")
	self    = netip.MustParseAddr("10.0.0.2")
	selfMAC = mac("02:00:00:00:00:02")
	hi      = netip.MustParseAddr("10.0.0.3") // a higher address than self
	hiMAC   = mac("02:00:00:00:00:03")
	lo      = netip.MustParseAddr("10.0.0.1") // a lower address than self
	loMAC   = mac("02:00:00:00:00:01")
)

func mac(s string) obs.MAC {
	m, err := obs.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func at(d time.Duration) time.Time { return t0.Add(d) }

// sec is a duration in (possibly fractional) seconds.
func sec(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// Master_Down_Intervals at a 1 s interval.
var (
	mdi50  = 3*time.Second + 206*time.Second/256 // 3.8046875s
	mdi150 = 3*time.Second + 106*time.Second/256 // 3.4140625s
)

func instance(mod func(*Instance)) Instance {
	in := Instance{
		Name: "VI_1", Interface: "eth0", Family: vrrp.IPv4, VRID: 51, Version: 3, Priority: 100,
		AdvertInt: time.Second, Primary: self, MACs: []obs.MAC{selfMAC}, VIPs: []netip.Addr{vip},
	}
	if mod != nil {
		mod(&in)
	}
	return in
}

// advert is an advertisement from src/m for vrid listing addrs (default:
// the VIP), as the sniffer reports it.
func advert(src netip.Addr, m obs.MAC, vrid, prio uint8, accepted bool, addrs ...netip.Addr) Observed {
	if len(addrs) == 0 {
		addrs = []netip.Addr{vip}
	}
	ev := Observed{Obs: obs.Observation{
		Kind: obs.KindAdvert, Interface: "eth0", SrcMAC: m, Family: vrrp.IPv4, Src: src, Dst: vrrp.MulticastIPv4, TTL: vrrp.TTL,
		Advert:   vrrp.Advertisement{Version: 3, Type: vrrp.TypeAdvertisement, VRID: vrid, Priority: prio, Interval: time.Second, Family: vrrp.IPv4, Addresses: addrs},
		Checksum: vrrp.ChecksumValid,
	}, Accepted: accepted}
	if !accepted {
		ev.Reject = "auth mismatch"
	}
	return ev
}

// arp is an ARP packet in which m claims addr.
func arp(m obs.MAC, addr netip.Addr, op obs.ARPOp, gratuitous bool) Observed {
	return Observed{Obs: obs.Observation{Kind: obs.KindARP, Interface: "eth0", SrcMAC: m, Family: vrrp.IPv4,
		ARP: obs.ARPInfo{Op: op, SenderIP: addr, SenderMAC: m, TargetIP: addr, Gratuitous: gratuitous}}}
}

type timed struct {
	at time.Duration
	ev Event
}

// every repeats ev at from, from+step, ... before to.
func every(from, to, step time.Duration, ev Event) []timed {
	var out []timed
	for t := from; t < to; t += step {
		out = append(out, timed{t, ev})
	}
	return out
}

// script concatenates parts.
func script(parts ...[]timed) []timed { return slices.Concat(parts...) }

func one(d time.Duration, ev Event) []timed { return []timed{{d, ev}} }

// responder returns what answers a probe sent at t.
type responder func(t time.Duration, p Probe) []timed

// answers: m answers probes of vip 1 ms later while up(t).
func answers(m obs.MAC, up func(time.Duration) bool) responder {
	return func(t time.Duration, p Probe) []timed {
		if p.VIP != vip || !up(t) {
			return nil
		}
		return one(t+time.Millisecond, arp(m, vip, obs.ARPReply, false))
	}
}

func always(time.Duration) bool { return true }

func before(end time.Duration) func(time.Duration) bool {
	return func(t time.Duration) bool { return t < end }
}

// rel formats a time relative to t0 ("-" for zero).
func rel(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Sub(t0).String()
}

func fmtEvidence(e Evidence) string {
	return fmt.Sprintf("%s vrid %d prio %d/%d %s advert %s answer %s", e.Rival, e.VRID, e.Priority, e.OwnPriority, e.Claim, rel(e.LastAdvert), rel(e.LastAnswer))
}

func fmtAction(a Action) string {
	switch a := a.(type) {
	case Demote:
		return "Demote " + string(a.Reason) + " " + fmtEvidence(a.Evidence)
	case Resume:
		return "Resume " + string(a.Reason) + " " + fmtEvidence(a.Evidence)
	case Probe:
		return "Probe " + a.Interface + " " + a.VIP.String()
	case Reannounce:
		return "Reannounce " + fmtEvidence(a.Evidence)
	}
	return fmt.Sprintf("%#v", a)
}

// run plays a script against a policy the way a driver does: events in
// time order, a Tick whenever Next() comes first (events before ticks at
// the same time), answers to probes from resp, and, when participant is
// set, the participant's reaction to Demote (BACKUP) and Resume (MASTER).
// It returns every action as "+T Action" up to and including until.
func run(t *testing.T, pol *Policy, evs []timed, resp responder, participant bool, until time.Duration) []string {
	t.Helper()
	queue := slices.Clone(evs)
	slices.SortStableFunc(queue, func(a, b timed) int { return int(a.at - b.at) })
	// push inserts before later events and before events at the same time
	// (an immediate reaction).
	push := func(x timed) {
		i := 0
		for i < len(queue) && queue[i].at < x.at {
			i++
		}
		queue = slices.Insert(queue, i, x)
	}
	var log []string
	last := time.Duration(-1)
	for steps := 0; ; steps++ {
		if steps > 100000 {
			t.Fatal("driver loop does not end")
		}
		next := pol.Next()
		var tick time.Duration = -1
		if !next.IsZero() {
			tick = next.Sub(t0)
			if tick <= last {
				t.Fatalf("Next() = +%v, not after the last step +%v", tick, last)
			}
		}
		var now time.Duration
		var ev Event
		switch {
		case len(queue) > 0 && (tick < 0 || queue[0].at <= tick):
			now, ev = queue[0].at, queue[0].ev
			queue = queue[1:]
		case tick >= 0:
			now, ev = tick, Tick{}
		default:
			return log
		}
		if now > until {
			return log
		}
		if o, ok := ev.(Observed); ok {
			o.Obs.Time = at(now)
			ev = o
		}
		last = now
		for _, a := range pol.Step(at(now), ev) {
			log = append(log, "+"+now.String()+" "+fmtAction(a))
			switch a := a.(type) {
			case Probe:
				if resp != nil {
					for _, x := range resp(now, a) {
						push(x)
					}
				}
			case Demote:
				if participant {
					push(timed{now, StateChanged{State: Backup}})
				}
			case Resume:
				if participant {
					push(timed{now, StateChanged{State: Master}})
				}
			}
		}
	}
}

// probes lists the probe lines of vip at from, from+step, ... up to until.
func probes(from, until, step time.Duration) []string {
	var out []string
	for t := from; t <= until; t += step {
		out = append(out, "+"+t.String()+" Probe eth0 "+vip.String())
	}
	return out
}

// merge orders expected lines by their time (stable).
func merge(parts ...[]string) []string {
	all := slices.Concat(parts...)
	ts := func(s string) time.Duration {
		d, err := time.ParseDuration(strings.TrimPrefix(strings.Fields(s)[0], "+"))
		if err != nil {
			panic(err)
		}
		return d
	}
	slices.SortStableFunc(all, func(a, b string) int { return int(ts(a) - ts(b)) })
	return all
}

func lines(ls ...string) []string { return ls }

// diff returns a (-want +got) line diff, "" when equal.
func diff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && want[i] == got[j]:
			fmt.Fprintf(&b, " %s\n", want[i])
			i, j = i+1, j+1
		case i < len(want) && (j >= len(got) || !slices.Contains(got[j:], want[i])):
			fmt.Fprintf(&b, "-%s\n", want[i])
			i++
		default:
			fmt.Fprintf(&b, "+%s\n", got[j])
			j++
		}
	}
	return b.String()
}

func TestPolicy(t *testing.T) {
	master := func(prio uint8) []timed { return one(0, StateChanged{State: Master, Priority: prio}) }
	// lostBetween: answers except to probes in [from, to), and none from end on.
	lostBetween := func(from, to, end time.Duration) func(time.Duration) bool {
		return func(t time.Duration) bool { return (t < from || t >= to) && t < end }
	}
	tests := []struct {
		name        string
		inst        func(*Instance)
		params      Params
		script      []timed
		resp        responder
		participant bool
		until       time.Duration
		want        []string
	}{
		{
			name:   "outranked: wrong password, yields within one interval",
			script: script(master(100), every(sec(0.5), 20*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false))),
			resp:   answers(hiMAC, always), participant: true, until: 10 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 500ms answer -"),
				probes(sec(0.5), 10*time.Second, 2*time.Second)),
		},
		{
			name:   "outranking: holds 10s then yields to keepalived",
			script: script(master(100), every(sec(0.5), 30*time.Second, time.Second, advert(lo, loMAC, 51, 50, false))),
			resp:   answers(loMAC, always), participant: true, until: 20 * time.Second,
			want: merge(
				lines("+10.5s Demote hold_expired 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 10.5s answer 8.501s"),
				probes(sec(0.5), 20*time.Second, 2*time.Second)),
		},
		{
			// keepalived 2.2.7 that rejects a higher-priority advertisement
			// with the wrong password stops advertising and keeps the VIP.
			name:   "silent keepalived keeps VIP (answers only)",
			script: script(master(150), one(sec(0.2), advert(lo, loMAC, 51, 100, false))),
			resp:   answers(loMAC, always), participant: true, until: 12 * time.Second,
			want: merge(
				lines("+10.2s Demote hold_expired 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 8.201s"),
				probes(sec(0.2), 12*time.Second, 2*time.Second)),
		},
		{
			name: "recent advertiser found by its answers after own MASTER (not within the hand-over grace)",
			script: script(one(0, StateChanged{State: Backup, Priority: 100}),
				every(sec(0.5), 2*time.Second, time.Second, advert(hi, hiMAC, 51, 200, false)),
				one(10*time.Second, StateChanged{State: Master})),
			resp: answers(hiMAC, always), participant: true, until: 17 * time.Second,
			want: merge(
				lines("+12.001s Demote outranked 10.0.0.3 vrid 51 prio 200/100 answers_only advert 1.5s answer 12.001s"),
				probes(10*time.Second, 17*time.Second, 2*time.Second)),
		},
		{
			name:   "resume after rival silent for MDI",
			script: script(master(100), every(sec(0.5), 10*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false))),
			resp:   nil, participant: true, until: 15 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 500ms answer -",
					"+"+(sec(9.5)+mdi150).String()+" Resume rival_silent 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 9.5s answer -"),
				// After the resume the rival is a candidate: probes go on.
				probes(sec(0.5), 15*time.Second, 2*time.Second)),
		},
		{
			name:   "resume waits for answers to stop for the answer window",
			script: script(master(100), every(sec(0.5), 20*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false))),
			resp:   answers(hiMAC, before(20*time.Second)), participant: true, until: 25 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 500ms answer -",
					"+23.501s Resume rival_silent 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 19.5s answer 18.501s"),
				probes(sec(0.5), 25*time.Second, 2*time.Second)),
		},
		{
			name: "resume at once when the rival resigns",
			script: script(master(100), every(sec(0.5), 5*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false)),
				one(sec(5.2), advert(hi, hiMAC, 51, 0, false))),
			resp: answers(hiMAC, before(5*time.Second)), participant: true, until: 8 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 500ms answer -",
					"+5.2s Resume rival_resigned 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert - answer -"),
				probes(sec(0.5), 5*time.Second, 2*time.Second)),
		},
		{
			name: "host that never advertised is not a rival",
			script: script(master(100),
				every(time.Second, 30*time.Second, 2*time.Second, arp(mac("02:00:00:00:00:99"), vip, obs.ARPReply, false)),
				every(2*time.Second, 30*time.Second, 5*time.Second, arp(mac("02:00:00:00:00:99"), vip, obs.ARPRequest, true))),
			participant: true, until: 30 * time.Second,
			want: nil,
		},
		{
			// The master is a normal peer until the link breaks; then
			// nothing of it is seen and this node's election takes over.
			name: "partition: nothing seen, no action",
			script: script(one(0, StateChanged{State: Backup, Priority: 100}),
				every(sec(0.5), 5*time.Second, time.Second, advert(hi, hiMAC, 51, 150, true)),
				one(sec(4.5)+mdi150, StateChanged{State: Master})),
			participant: true, until: 60 * time.Second,
			want: nil,
		},
		{
			name: "accepted adverts during normal preemption are not a rival",
			script: script(one(0, StateChanged{State: Backup, Priority: 100}),
				// lo is master until this node preempts it at 3.7 s; one
				// advertisement and one ARP reply cross the hand-over.
				every(sec(0.5), 4*time.Second, time.Second, advert(lo, loMAC, 51, 50, true)),
				one(sec(3.7), StateChanged{State: Master}),
				one(sec(4.0), advert(lo, loMAC, 51, 50, true)),
				one(sec(4.1), arp(loMAC, vip, obs.ARPReply, false)),
				// hi comes up and preempts this node.
				one(10*time.Second, advert(hi, hiMAC, 51, 150, true)),
				one(10*time.Second, StateChanged{State: Backup}),
				every(11*time.Second, 20*time.Second, time.Second, advert(hi, hiMAC, 51, 150, true))),
			resp: answers(loMAC, always), participant: true, until: 20 * time.Second,
			want: nil,
		},
		{
			name:   "one-way loss: accepted higher-priority adverts keep arriving while MASTER",
			script: script(master(100), every(sec(0.5), 20*time.Second, time.Second, advert(hi, hiMAC, 51, 150, true))),
			resp:   answers(hiMAC, always), participant: true, until: 10 * time.Second,
			want: merge(
				lines("+1.5s Demote outranked 10.0.0.3 vrid 51 prio 150/100 unheard_adverts advert 1.5s answer -"),
				probes(sec(1.5), 10*time.Second, 2*time.Second)),
		},
		{
			name: "other VRID advertising our VIP",
			script: script(master(100),
				// VRID 53 with other addresses is someone else's business.
				every(sec(0.3), 5*time.Second, time.Second, advert(netip.MustParseAddr("10.0.0.5"), mac("02:00:00:00:00:05"), 53, 200, false, netip.MustParseAddr("10.0.0.20"))),
				// Equal priority, higher address: it outranks.
				every(sec(0.5), 5*time.Second, time.Second, advert(netip.MustParseAddr("10.0.0.4"), mac("02:00:00:00:00:04"), 52, 100, false, vip2, vip))),
			participant: true, until: 3 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.4 vrid 52 prio 100/100 other_vrid advert 500ms answer -"),
				probes(sec(0.5), 3*time.Second, 2*time.Second)),
		},
		{
			name:   "no flapping over 60 s with a silent VIP holder",
			script: script(master(150), one(sec(0.2), advert(lo, loMAC, 51, 100, false))),
			resp:   answers(loMAC, always), participant: true, until: 60 * time.Second,
			want: merge(
				lines("+10.2s Demote hold_expired 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 8.201s"),
				probes(sec(0.2), 60*time.Second, 2*time.Second)),
		},
		{
			// Answers to probes in [20 s, 26 s) are lost: the instance
			// resumes, meets the holder again and yields at once; the
			// next resume needs twice the silence (10 s).
			name:   "lost answers: a returning rival is yielded to at once, and needs twice the silence",
			script: script(master(150), one(sec(0.2), advert(lo, loMAC, 51, 100, false))),
			resp:   answers(loMAC, lostBetween(20*time.Second, 26*time.Second, 40*time.Second)), participant: true, until: 50 * time.Second,
			want: merge(
				lines("+10.2s Demote hold_expired 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 8.201s",
					"+23.201s Resume rival_silent 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 18.201s",
					"+26.201s Demote rival_returned 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 26.201s",
					"+48.201s Resume rival_silent 10.0.0.1 vrid 51 prio 100/150 answers_only advert 200ms answer 38.201s"),
				probes(sec(0.2), 50*time.Second, 2*time.Second)),
		},
		{
			name: "reannounce once after rival silent",
			script: script(master(100),
				every(sec(0.5), 5*time.Second, time.Second, advert(lo, loMAC, 51, 50, false))),
			participant: true, until: 12 * time.Second,
			want: merge(
				lines("+"+(sec(4.5)+mdi50).String()+" Reannounce 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 4.5s answer -"),
				// It may still hold the VIP silently: probes go on.
				probes(sec(0.5), 12*time.Second, 2*time.Second)),
		},
		{
			name: "reannounce after a vrrpguard rival yields (priority 0), then nothing to watch",
			script: script(master(100),
				one(sec(0.5), advert(lo, loMAC, 51, 50, false)),
				one(sec(0.6), advert(lo, loMAC, 51, 0, false))),
			participant: true, until: 10 * time.Second,
			want: lines(
				"+500ms Probe eth0 10.0.0.10",
				"+600ms Reannounce 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 500ms answer -"),
		},
		{
			// keepalived (50) that cannot hear this node is master too;
			// once it hears this node it steps down without a word: it
			// stops advertising and answering. The instance re-announces
			// after the first unanswered probe (answer wait: half the probe
			// interval) and 1.5 missed intervals, not after the whole
			// answer window (+8.501s), and only once.
			name: "reannounce as soon as an outranked rival stops answering and advertising",
			script: script(master(100),
				every(sec(0.5), 5*time.Second, time.Second, advert(lo, loMAC, 51, 50, true))),
			resp: answers(loMAC, before(5*time.Second)), participant: true, until: 12 * time.Second,
			want: merge(
				lines("+6.5s Reannounce 10.0.0.1 vrid 51 prio 50/100 unheard_adverts advert 4.5s answer 3.501s"),
				probes(sec(1.5), 7500*time.Millisecond, 2*time.Second)),
		},
		{
			name: "no early reannounce while the rival advertises though an answer is lost",
			script: script(master(100),
				every(sec(0.5), 20*time.Second, time.Second, advert(lo, loMAC, 51, 50, false))),
			resp: answers(loMAC, lostBetween(2*time.Second, 3*time.Second, time.Hour)), participant: true, until: 12 * time.Second,
			want: merge(
				lines("+10.5s Demote hold_expired 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 10.5s answer 8.501s"),
				probes(sec(0.5), 12*time.Second, 2*time.Second)),
		},
		{
			// Quiet from 5 s to 8 s: re-announced at 7.5 s; back at 8 s,
			// which re-arms it; quiet again from 12.2 s: re-announced at
			// 13.5 s; no third one when it is finally not live.
			name:   "early reannounce once per silence of the rival",
			params: Params{Hold: 20 * time.Second},
			script: script(master(100),
				every(sec(0.5), 5*time.Second, time.Second, advert(lo, loMAC, 51, 50, false)),
				every(8*time.Second, sec(12.1), time.Second, advert(lo, loMAC, 51, 50, false))),
			resp:        answers(loMAC, func(t time.Duration) bool { return t < 5*time.Second || (t >= 8*time.Second && t < sec(12.2)) }),
			participant: true, until: 17 * time.Second,
			want: merge(
				lines("+7.5s Reannounce 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 4.5s answer 4.501s",
					"+13.5s Reannounce 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 12s answer 10.501s"),
				probes(sec(0.5), 17*time.Second, 2*time.Second)),
		},
		{
			name: "own MAC never a rival",
			inst: func(in *Instance) { in.Addrs = []netip.Addr{netip.MustParseAddr("10.0.0.200")} },
			script: script(master(100),
				// Own advertisements, captured on the way out.
				every(sec(0.5), 10*time.Second, time.Second, advert(self, selfMAC, 51, 100, false)),
				// Another source address, own MAC.
				every(sec(0.6), 10*time.Second, time.Second, advert(netip.MustParseAddr("10.0.0.9"), selfMAC, 51, 200, false)),
				// An own secondary address, another MAC (a bond member).
				every(sec(0.7), 10*time.Second, time.Second, advert(netip.MustParseAddr("10.0.0.200"), mac("02:00:00:00:00:22"), 51, 200, false)),
				every(sec(0.8), 10*time.Second, time.Second, arp(selfMAC, vip, obs.ARPRequest, true))),
			participant: true, until: 10 * time.Second,
			want: nil,
		},
		{
			name: "backup or fault never demotes",
			script: script(one(0, StateChanged{State: Backup, Priority: 100}),
				every(sec(0.5), 10*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false)),
				one(5*time.Second, StateChanged{State: Fault})),
			resp: answers(hiMAC, always), participant: true, until: 10 * time.Second,
			want: nil,
		},
		{
			name: "demoted: rank changes do not resume",
			script: script(master(100),
				every(sec(0.5), 10*time.Second, time.Second, advert(hi, hiMAC, 51, 150, false)),
				one(5*time.Second, StateChanged{State: Backup, Priority: 200}),
				every(sec(10.5), 20*time.Second, time.Second, advert(hi, hiMAC, 51, 50, false))),
			participant: true, until: 20 * time.Second,
			want: merge(
				lines("+500ms Demote outranked 10.0.0.3 vrid 51 prio 150/100 rejected_adverts advert 500ms answer -"),
				probes(sec(0.5), 20*time.Second, 2*time.Second)),
		},
		{
			name: "bad TTL, bad checksum and other interfaces are not evidence",
			script: script(master(100),
				one(sec(0.5), func() Event { e := advert(hi, hiMAC, 51, 150, false); e.Obs.TTL = 254; return e }()),
				one(sec(0.6), func() Event { e := advert(hi, hiMAC, 51, 150, false); e.Obs.Checksum = vrrp.ChecksumInvalid; return e }()),
				one(sec(0.7), func() Event { e := advert(hi, hiMAC, 51, 150, false); e.Obs.Interface = "eth1"; return e }()),
				// Same VRID, none of the VIPs: another cluster's VRID clash.
				one(sec(0.8), advert(hi, hiMAC, 51, 150, false, netip.MustParseAddr("10.9.9.9")))),
			participant: true, until: 10 * time.Second,
			want: nil,
		},
		{
			name:   "hold is a parameter",
			params: Params{Hold: 3 * time.Second},
			script: script(master(100), every(sec(0.5), 10*time.Second, time.Second, advert(lo, loMAC, 51, 50, false))),
			resp:   answers(loMAC, always), participant: true, until: 4 * time.Second,
			want: merge(
				lines("+3.5s Demote hold_expired 10.0.0.1 vrid 51 prio 50/100 rejected_adverts advert 3.5s answer 2.501s"),
				probes(sec(0.5), 4*time.Second, 2*time.Second)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol, err := New(instance(tc.inst), tc.params)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, pol, tc.script, tc.resp, tc.participant, tc.until)
			if d := diff(tc.want, got); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
}
