package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

var ts = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func observations() []obs.Observation {
	mac := obs.MAC{2, 0, 0, 0, 0, 1}
	adv := obs.Observation{Kind: obs.KindAdvert, Time: ts, Interface: "eth0", SrcMAC: mac, Family: vrrp.IPv4,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: vrrp.MulticastIPv4, TTL: 255, Checksum: vrrp.ChecksumValid,
		Advert: vrrp.Advertisement{Version: 2, VRID: 51, Priority: 150, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData("hunter2"),
			Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}}
	arp := obs.Observation{Kind: obs.KindARP, Time: ts, Interface: "eth0", SrcMAC: mac, Family: vrrp.IPv4,
		ARP: obs.ARPInfo{Op: obs.ARPRequest, SenderIP: netip.MustParseAddr("10.0.0.100"), SenderMAC: mac, TargetIP: netip.MustParseAddr("10.0.0.100"), Gratuitous: true}}
	nd := obs.Observation{Kind: obs.KindND, Time: ts, Interface: "eth0", VLAN: 7, SrcMAC: mac, Family: vrrp.IPv6,
		Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::1"), TTL: 255,
		ND: obs.NDInfo{Target: netip.MustParseAddr("fd00::100"), TargetMAC: mac, Override: true}}
	inv := obs.Observation{Kind: obs.KindInvalid, Time: ts, Interface: "eth0", SrcMAC: mac, Family: vrrp.IPv4,
		Src: netip.MustParseAddr("10.0.0.9"), Dst: vrrp.MulticastIPv4, TTL: 64, Reason: vrrp.ErrAddressCount}
	return []obs.Observation{adv, arp, nd, inv}
}

func TestJSONObservations(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, JSON, time.UTC)
	for _, o := range observations() {
		p.Observation(&o)
	}
	p.Flush()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	want := []map[string]any{
		{"type": "advert", "vrid": 51.0, "auth_type": "simple", "auth_digest": vrrp.AuthDigest(vrrp.PasswordAuthData("hunter2")), "interval_ms": 1000.0, "checksum": "valid", "time": "2026-01-02T03:04:05.678Z"},
		{"type": "arp", "op": "request", "gratuitous": true, "sender_ip": "10.0.0.100", "sender_mac": "02:00:00:00:00:01"},
		{"type": "nd", "target": "fd00::100", "override": true, "vlan": 7.0},
		{"type": "invalid", "reason": "address_count", "ttl": 64.0, "src": "10.0.0.9"},
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range want[i] {
			if m[k] != v {
				t.Errorf("line %d %s = %v, want %v (%s)", i, k, m[k], v, l)
			}
		}
	}
	if strings.Contains(b.String(), "hunter2") {
		t.Error("password printed")
	}
}

func TestTextObservations(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, Text, time.UTC)
	for _, o := range observations() {
		p.Observation(&o)
	}
	p.Flush()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"03:04:05.678 eth0     v2 vrid 51  prio 150 10.0.0.1 (02:00:00:00:00:01) vips 10.0.0.100 int 1s auth simple (",
		"03:04:05.678 eth0     garp 10.0.0.100 is-at 02:00:00:00:00:01",
		"03:04:05.678 eth0     na   fd00::100 is-at 02:00:00:00:00:01 [override]",
		"03:04:05.678 eth0     INVALID VRRP from 10.0.0.9 (02:00:00:00:00:01): address count larger than the packet TTL 64",
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %q\nwant %q...", i, lines[i], w)
		}
	}
}

func TestFindingAndEvent(t *testing.T) {
	f := rules.Finding{Kind: rules.DuplicateMaster, State: rules.Raised, Severity: rules.Critical, Interface: "eth0", Family: vrrp.IPv4, VRID: 51,
		Sources: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, MACs: []obs.MAC{{2, 0, 0, 0, 0, 1}}, VIPs: []netip.Addr{netip.MustParseAddr("10.0.0.100")},
		FirstSeen: ts, LastSeen: ts, At: ts, Message: "split brain", Fingerprint: "abc"}
	e := rules.Event{Type: "master_change", Time: ts, Interface: "eth0", Family: vrrp.IPv4, VRID: 51, New: netip.MustParseAddr("10.0.0.2"), Priority: 100, Reason: "takeover"}
	var b bytes.Buffer
	p := New(&b, JSON, time.UTC)
	p.Finding(&f)
	p.Event(&e)
	p.Flush()
	var fj FindingJSON
	dec := json.NewDecoder(strings.NewReader(strings.Split(b.String(), "\n")[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil || fj.Kind != "duplicate_master" || fj.State != "raised" || fj.Sources[0] != "10.0.0.1" || fj.VIPs[0] != "10.0.0.100" || fj.Fingerprint != "abc" {
		t.Errorf("finding JSON %+v %v", fj, err)
	}
	if !strings.Contains(b.String(), `"reason":"takeover"`) || strings.Contains(b.String(), `"old"`) {
		t.Errorf("event JSON %s", b.String())
	}
	b.Reset()
	p = New(&b, Text, time.UTC)
	f.State = rules.Resolved
	p.Finding(&f)
	p.Event(&e)
	p.Flush()
	if !strings.Contains(b.String(), "RESOLVED critical duplicate_master vrid 51: split brain [abc]") ||
		!strings.Contains(b.String(), "master   vrid 51: none -> 10.0.0.2") {
		t.Errorf("text:\n%s", b.String())
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
