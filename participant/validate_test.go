package participant

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

func TestValidate(t *testing.T) {
	k, _, err := keepalived.Parse("t.conf", []byte(`
vrrp_instance V2 {
    interface eth0
    virtual_router_id 7
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cr3tpw-long
    }
    virtual_ipaddress {
        10.9.0.100/24
    }
}
vrrp_instance V3 {
    interface eth0
    virtual_router_id 8
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.0.101/24
    }
}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	v2, v3 := k.Instances[0], k.Instances[1]
	src := netip.MustParseAddr("10.9.0.3")
	self := netip.MustParseAddr("10.9.0.2")
	enc := func(a vrrp.Advertisement, o vrrp.EncodeOptions) []byte {
		a.Addresses = []netip.Addr{netip.MustParseAddr("10.9.0.100")}
		if o.Src == (netip.Addr{}) {
			o.Src, o.Dst = src, vrrp.MulticastIPv4
		}
		b, err := a.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good2 := vrrp.Advertisement{Version: 2, VRID: 7, Priority: 50, AuthType: vrrp.AuthSimple, AuthData: vrrp.PasswordAuthData("s3cr3tpw"), Interval: time.Second}
	good3 := vrrp.Advertisement{Version: 3, VRID: 8, Priority: 50, Interval: 100 * time.Millisecond}
	mod := func(a vrrp.Advertisement, f func(*vrrp.Advertisement)) vrrp.Advertisement { f(&a); return a }
	pkt := func(b []byte) packet { return packet{src: src, dst: vrrp.MulticastIPv4, ttl: 255, ifindex: 2, data: b} }
	tests := []struct {
		name    string
		in      *keepalived.Instance
		p       packet
		notOurs bool
		ok      bool
	}{
		{"v2 PASS ok (8-byte field of a longer password)", v2, pkt(enc(good2, vrrp.EncodeOptions{})), false, true},
		{"v2 wrong password", v2, pkt(enc(mod(good2, func(a *vrrp.Advertisement) { a.AuthData = vrrp.PasswordAuthData("other") }), vrrp.EncodeOptions{})), false, false},
		{"v2 no auth", v2, pkt(enc(mod(good2, func(a *vrrp.Advertisement) { a.AuthType = 0; a.AuthData = [8]byte{} }), vrrp.EncodeOptions{})), false, false},
		{"v2 interval mismatch", v2, pkt(enc(mod(good2, func(a *vrrp.Advertisement) { a.Interval = 2 * time.Second }), vrrp.EncodeOptions{})), false, false},
		{"v3 with pseudo-header (keepalived)", v3, pkt(enc(good3, vrrp.EncodeOptions{})), false, true},
		{"v3 without pseudo-header (RFC 9568, Cisco)", v3, pkt(enc(good3, vrrp.EncodeOptions{OmitPseudoHeader: true})), false, true},
		{"v3 bad checksum", v3, func() packet { p := pkt(enc(good3, vrrp.EncodeOptions{})); p.data[7] ^= 1; return p }(), false, false},
		{"ttl 254", v3, func() packet { p := pkt(enc(good3, vrrp.EncodeOptions{})); p.ttl = 254; return p }(), false, false},
		{"other vrid", v3, pkt(enc(mod(good3, func(a *vrrp.Advertisement) { a.VRID = 9 }), vrrp.EncodeOptions{})), true, false},
		{"v2 packet for v3 instance", v3, pkt(enc(mod(good2, func(a *vrrp.Advertisement) { a.VRID = 8 }), vrrp.EncodeOptions{})), true, false},
		{"other interface", v3, func() packet { p := pkt(enc(good3, vrrp.EncodeOptions{})); p.ifindex = 3; return p }(), true, false},
		{"own packet", v3, func() packet {
			p := pkt(enc(good3, vrrp.EncodeOptions{Src: self, Dst: vrrp.MulticastIPv4}))
			p.src = self
			return p
		}(), true, false},
		{"truncated", v3, pkt([]byte{0x31, 8}), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := rxFilter{in: tc.in, group: vrrp.MulticastIPv4, ifindex: 2, self: self}
			var a vrrp.Advertisement
			err := f.validate(tc.p, &a)
			if (err == nil) != tc.ok || errors.Is(err, errNotOurs) != tc.notOurs {
				t.Fatalf("validate = %v, want ok=%v notOurs=%v", err, tc.ok, tc.notOurs)
			}
			// Rejects judges the same advertisement seen on the wire
			// (the interface and own-source checks are the caller's).
			var seen vrrp.Advertisement
			if seen.Unmarshal(tc.p.data, vrrp.IPv4) != nil || tc.p.ifindex != 2 || tc.p.src == self {
				return
			}
			csum := vrrp.VerifyChecksum(tc.p.data, tc.p.src, tc.p.dst)
			if why := Rejects(tc.in, &keepalived.Global{}, &seen, tc.p.src, tc.p.dst, uint8(tc.p.ttl), csum); (why == "") != tc.ok {
				t.Errorf("Rejects = %q, validate ok = %v", why, tc.ok)
			}
		})
	}
}
