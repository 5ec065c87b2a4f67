package status

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func advert(t time.Time, src string, mac byte, prio uint8, pass string) *obs.Observation {
	return &obs.Observation{Kind: obs.KindAdvert, Time: t, Interface: "eth0", SrcMAC: obs.MAC{2, 0, 0, 0, 0, mac},
		Family: vrrp.IPv4, Src: netip.MustParseAddr(src), Dst: vrrp.MulticastIPv4, TTL: 255, Checksum: vrrp.ChecksumValid,
		Advert: vrrp.Advertisement{Version: 2, Type: vrrp.TypeAdvertisement, VRID: 51, Priority: prio, Interval: time.Second,
			Family: vrrp.IPv4, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData(pass),
			Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}}
}

// splitBrain runs an engine through a split brain: two routers of VRID 51
// keep advertising (with different passwords).
func splitBrain(t *testing.T) rules.Snapshot {
	t.Helper()
	e, err := rules.New(rules.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		at := t0.Add(time.Duration(i) * time.Second)
		e.Observe(advert(at, "10.0.0.1", 1, 150, "secret1"))
		e.Observe(advert(at.Add(100*time.Millisecond), "10.0.0.2", 2, 100, "secret2"))
	}
	return e.Snapshot(t0.Add(6 * time.Second))
}

func TestBuildSplitBrain(t *testing.T) {
	d := Build(splitBrain(t))
	if len(d.Segments) != 1 {
		t.Fatalf("segments %+v", d.Segments)
	}
	g := d.Segments[0]
	if g.Health != "split_brain" || g.Masters != 2 || len(g.Routers) != 2 || g.VRID != 51 || g.Family != "ipv4" {
		t.Errorf("segment %+v", g)
	}
	kinds := map[string]bool{}
	for _, f := range d.Findings {
		kinds[f.Kind] = true
	}
	if !kinds["duplicate_master"] || !kinds["auth_mismatch"] {
		t.Errorf("findings %v, want duplicate_master and auth_mismatch", kinds)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret1", "secret2"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the status document shows the password %q", secret)
		}
	}
	if !bytes.Contains(raw, []byte(`"auth_digest":"`+vrrp.AuthDigest(vrrp.PasswordAuthData("secret1"))+`"`)) {
		t.Errorf("no auth digest in %s", raw)
	}
}

func TestHealthOfSegments(t *testing.T) {
	for _, tc := range []struct {
		masters int
		want    string
	}{{0, "no_master"}, {1, "ok"}, {2, "split_brain"}, {3, "split_brain"}} {
		g := segment(&rules.SegmentSnapshot{LiveMasters: tc.masters})
		if g.Health != tc.want {
			t.Errorf("%d masters: health %q, want %q", tc.masters, g.Health, tc.want)
		}
	}
}

func TestTextAndPageShowTheSame(t *testing.T) {
	d := Build(splitBrain(t))
	d.Command, d.Node, d.Version = "run", "lb01", "test"
	d.Instances = []participant.Status{{Instance: "VI_1", Interface: "eth0", VRID: 51, Family: "ipv4", Version: 2,
		State: "MASTER", Priority: 150, Since: t0, Reason: "election"}}
	var text bytes.Buffer
	if err := WriteText(&text, &d, time.UTC); err != nil {
		t.Fatal(err)
	}
	p, err := NewPage(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := p.Write(&page, &d); err != nil {
		t.Fatal(err)
	}
	digest := "10.0.0.1 prio 150 master auth " + vrrp.AuthDigest(vrrp.PasswordAuthData("secret1"))
	for _, want := range []string{"VI_1", "SPLIT_BRAIN", "10.0.0.1", "10.0.0.2", "duplicate_master", "auth_mismatch", "10.0.0.100", digest} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
		pw := want
		if want == "SPLIT_BRAIN" {
			pw = "SPLIT BRAIN"
		}
		if !strings.Contains(page.String(), pw) {
			t.Errorf("page lacks %q", pw)
		}
	}
	if !strings.Contains(page.String(), `http-equiv="refresh"`) || !strings.Contains(page.String(), `name="viewport"`) {
		t.Error("page does not refresh itself or lacks a viewport for phones")
	}
	if strings.Contains(page.String(), "<script") {
		t.Error("page carries JavaScript")
	}
}

func TestEmptyDocument(t *testing.T) {
	e, _ := rules.New(rules.DefaultParams(), nil)
	d := Build(e.Snapshot(t0))
	raw, _ := json.Marshal(d)
	for _, want := range []string{`"segments":[]`, `"vips":[]`, `"findings":[]`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("empty document %s lacks %s (lists must be [], not null)", raw, want)
		}
	}
	var text bytes.Buffer
	_ = WriteText(&text, &d, time.UTC)
	if !strings.Contains(text.String(), "no VRRP advertisement seen yet") {
		t.Errorf("text of nothing:\n%s", text.String())
	}
}
