package participant

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// TestUnicastTTL: unicast_ttl sets the TTL of unicast adverts only, and a
// unicast advert is accepted whatever its TTL, as by keepalived.
func TestUnicastTTL(t *testing.T) {
	const base = "vrrp_instance V {\n interface eth0\n virtual_router_id 9\n version 3\n advert_int 1\n" +
		" unicast_src_ip 10.9.0.2\n virtual_ipaddress {\n  10.9.0.100/24\n }\n"
	const peers = " unicast_peer {\n  10.9.0.3\n }\n"
	tests := []struct {
		name    string
		extra   string
		wantTTL int
		rx1     bool // an advert received with TTL 1 is valid
	}{
		{"multicast", "", 255, false},
		{"multicast, unicast_ttl dropped by the parser", " unicast_ttl 3\n", 255, false},
		{"unicast, default", peers, 255, true},
		{"unicast_ttl 1", peers + " unicast_ttl 1\n", 1, true},
		{"unicast_ttl 64", peers + " unicast_ttl 64\n", 64, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, _, err := keepalived.Parse("t.conf", []byte(base+tc.extra+"}\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			in := k.Instances[0]
			if got := advertTTL(in); got != tc.wantTTL {
				t.Errorf("advert TTL %d, want %d", got, tc.wantTTL)
			}
			src, dst := netip.MustParseAddr("10.9.0.3"), vrrp.MulticastIPv4
			if in.Unicast() {
				dst = netip.MustParseAddr("10.9.0.2")
			}
			a := vrrp.Advertisement{Version: 3, Type: vrrp.TypeAdvertisement, VRID: 9, Priority: 100,
				Interval: in.AdvertInt, Family: vrrp.IPv4, Addresses: []netip.Addr{netip.MustParseAddr("10.9.0.100")}}
			b, err := a.AppendMarshal(nil, vrrp.EncodeOptions{Src: src, Dst: dst})
			if err != nil {
				t.Fatal(err)
			}
			f := rxFilter{in: in, group: groupOf(in, &k.Global), unicast: in.Unicast(), self: netip.MustParseAddr("10.9.0.2")}
			var got vrrp.Advertisement
			err = f.validate(packet{src: src, dst: dst, ttl: 1, data: b}, &got)
			if (err == nil) != tc.rx1 {
				t.Errorf("received with TTL 1: err %v, want valid %v", err, tc.rx1)
			}
		})
	}
}

// TestUnicastTTLZero: Linux sends no IPv4 packet with TTL 0 from a socket,
// so unicast_ttl 0 is refused with a clear error.
func TestUnicastTTLZero(t *testing.T) {
	k, _, err := keepalived.Parse("t.conf", []byte("vrrp_instance V {\n interface eth0\n virtual_router_id 9\n"+
		" unicast_peer {\n  10.9.0.3\n }\n unicast_ttl 0\n virtual_ipaddress {\n  10.9.0.100/24\n }\n}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(k, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "unicast_ttl 0") {
		t.Fatalf("New: err %v, want the unicast_ttl 0 error", err)
	}
}
