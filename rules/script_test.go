package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// The tests drive the engine with timed scripts of observations, the way
// they arrive from the wire. Times are seconds from t0.

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func macOf(a netip.Addr) obs.MAC {
	b := a.AsSlice()
	return obs.MAC{2, 0, 0, 0, 0, b[len(b)-1]}
}

// ad describes one advert; zero fields take defaults (v2, VRID 51, 1s,
// VIP 10.0.0.100, no auth, TTL 255, valid checksum, eth0).
type ad struct {
	src      string
	prio     uint8
	vrid     uint8
	version  uint8
	interval time.Duration
	vips     []string
	auth     string // simple password; "" = none
	ttl      uint8
	badSum   bool
	iface    string
}

func (a ad) obs(t float64) obs.Observation {
	if a.vrid == 0 {
		a.vrid = 51
	}
	if a.version == 0 {
		a.version = 2
	}
	if a.interval == 0 {
		a.interval = time.Second
	}
	if a.vips == nil {
		a.vips = []string{"10.0.0.100"}
	}
	if a.ttl == 0 {
		a.ttl = 255
	}
	if a.iface == "" {
		a.iface = "eth0"
	}
	src := ip(a.src)
	o := obs.Observation{Kind: obs.KindAdvert, Time: at(t), Interface: a.iface, SrcMAC: macOf(src), Src: src,
		Family: vrrp.FamilyOf(src), TTL: a.ttl, Checksum: vrrp.ChecksumValid}
	o.Dst = vrrp.MulticastIPv4
	if o.Family == vrrp.IPv6 {
		o.Dst = vrrp.MulticastIPv6
	}
	if a.badSum {
		o.Checksum = vrrp.ChecksumInvalid
	}
	o.Advert = vrrp.Advertisement{Version: a.version, Type: 1, VRID: a.vrid, Priority: a.prio, Interval: a.interval, Family: o.Family}
	if a.auth != "" {
		o.Advert.AuthType = vrrp.AuthSimple
		o.Advert.AuthData = vrrp.PasswordAuthData(a.auth)
	}
	for _, v := range a.vips {
		o.Advert.Addresses = append(o.Advert.Addresses, ip(v))
	}
	return o
}

// every returns adverts of a from start to end (inclusive) every step.
func every(a ad, start, end, step float64) []obs.Observation {
	var out []obs.Observation
	for t := start; t <= end+1e-9; t += step {
		out = append(out, a.obs(t))
	}
	return out
}

func garp(t float64, vip, mac string) obs.Observation {
	m, err := obs.ParseMAC(mac)
	if err != nil {
		panic(err)
	}
	v := ip(vip)
	return obs.Observation{Kind: obs.KindARP, Time: at(t), Interface: "eth0", SrcMAC: m, Family: vrrp.IPv4,
		ARP: obs.ARPInfo{Op: obs.ARPRequest, SenderIP: v, SenderMAC: m, TargetIP: v, Gratuitous: true}}
}

func na(t float64, target, mac string) obs.Observation {
	m, err := obs.ParseMAC(mac)
	if err != nil {
		panic(err)
	}
	return obs.Observation{Kind: obs.KindND, Time: at(t), Interface: "eth0", SrcMAC: m, Family: vrrp.IPv6, TTL: 255,
		ND: obs.NDInfo{Target: ip(target), TargetMAC: m, Override: true}}
}

// result is everything a script produced.
type result struct {
	findings []Finding
	events   []Event
	engine   *Engine
}

func runScript(t *testing.T, p Params, exp []Expected, end float64, parts ...[]obs.Observation) result {
	t.Helper()
	e, err := New(p, exp)
	if err != nil {
		t.Fatal(err)
	}
	var all []obs.Observation
	for _, part := range parts {
		all = append(all, part...)
	}
	// Stable sort by time: scripts are written per router.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].Time.Before(all[j-1].Time); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	var res result
	res.engine = e
	collect := func(outs []Output) {
		for _, o := range outs {
			if o.Finding != nil {
				res.findings = append(res.findings, *o.Finding)
			}
			if o.Event != nil {
				res.events = append(res.events, *o.Event)
			}
		}
	}
	for i := range all {
		collect(noteRaised(t, e.Observe(&all[i])))
	}
	collect(noteRaised(t, e.Tick(at(end))))
	return res
}

func (r result) find(k Kind, st State) *Finding {
	for i := range r.findings {
		if r.findings[i].Kind == k && r.findings[i].State == st {
			return &r.findings[i]
		}
	}
	return nil
}

func (r result) dump() string {
	var b strings.Builder
	for _, f := range r.findings {
		fmt.Fprintf(&b, "  %s %s at %.3f vrid %d srcs %v: %s\n", f.Kind, f.State, f.At.Sub(t0).Seconds(), f.VRID, f.Sources, f.Message)
	}
	for _, e := range r.events {
		fmt.Fprintf(&b, "  event %s %s at %.3f %v -> %v\n", e.Type, e.Reason, e.Time.Sub(t0).Seconds(), e.Old, e.New)
	}
	return b.String()
}

// raisedBetween asserts that kind was raised within [from, to].
func (r result) raisedBetween(t *testing.T, k Kind, from, to float64) *Finding {
	t.Helper()
	f := r.find(k, Raised)
	if f == nil {
		t.Fatalf("%s not raised; got:\n%s", k, r.dump())
	}
	if s := f.At.Sub(t0).Seconds(); s < from-1e-9 || s > to+1e-9 {
		t.Errorf("%s raised at %.3fs, want within [%.3f, %.3f]\n%s", k, s, from, to, r.dump())
	}
	if f.Message == "" || f.Fingerprint == "" || f.Severity != SeverityOf(k) {
		t.Errorf("%s: incomplete finding %+v", k, f)
	}
	return f
}

func (r result) resolvedBetween(t *testing.T, k Kind, from, to float64) {
	t.Helper()
	f := r.find(k, Resolved)
	if f == nil {
		t.Fatalf("%s not resolved; got:\n%s", k, r.dump())
	}
	if s := f.At.Sub(t0).Seconds(); s < from-1e-9 || s > to+1e-9 {
		t.Errorf("%s resolved at %.3fs, want within [%.3f, %.3f]\n%s", k, s, from, to, r.dump())
	}
	if raised := r.find(k, Raised); raised != nil && raised.Fingerprint != f.Fingerprint {
		t.Errorf("%s: resolved fingerprint %s differs from raised %s", k, f.Fingerprint, raised.Fingerprint)
	}
}

func (r result) noFindings(t *testing.T) {
	t.Helper()
	if len(r.findings) > 0 {
		t.Errorf("unexpected findings:\n%s", r.dump())
	}
}

func (r result) notRaised(t *testing.T, kinds ...Kind) {
	t.Helper()
	for _, k := range kinds {
		if r.find(k, Raised) != nil {
			t.Errorf("%s raised:\n%s", k, r.dump())
		}
	}
}

func (r result) reasons() []string {
	var out []string
	for _, e := range r.events {
		out = append(out, e.Reason)
	}
	return out
}

func eqStrings(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }
