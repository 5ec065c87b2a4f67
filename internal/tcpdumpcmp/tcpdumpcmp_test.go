package tcpdumpcmp

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// TestReadParsesTcpdump checks the parser on a recorded capture against
// values read by eye from `tcpdump -r v2pass.pcap -nn -v -e`.
func TestReadParsesTcpdump(t *testing.T) {
	testenv.RequireTools(t, "tcpdump")
	ads, err := Read(filepath.Join("..", "..", "testdata", "captures", "v2pass.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ads) != 7 {
		t.Fatalf("%d adverts, want 7", len(ads))
	}
	a := ads[0]
	if a.SrcMAC != "02:00:00:00:00:01" || a.TTL != 255 || a.Src != "10.99.0.1" || a.Dst != "224.0.0.18" || a.Version != 2 ||
		a.VRID != 51 || a.Priority != 150 || a.AuthType != "simple" || a.Password != "s3cretpw" || a.IntervalMS != 1000 ||
		len(a.Addresses) != 1 || a.Addresses[0] != "10.99.0.100" || a.BadChecksum {
		t.Errorf("first advert %+v", a)
	}
	if last := ads[len(ads)-1]; last.Priority != 0 || last.Src != "10.99.0.2" {
		t.Errorf("last advert %+v (want b's priority-0 resignation)", last)
	}
}

// TestCompareFindsEachDifference: a comparison that cannot fail proves
// nothing, so every field is altered once.
func TestCompareFindsEachDifference(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	theirs := []Advert{{Time: ts, SrcMAC: "02:00:00:00:00:01", TTL: 255, Src: "10.0.0.1", Dst: "224.0.0.18", Version: 2, VRID: 5,
		Priority: 100, AuthType: "simple", Password: "pw", IntervalMS: 1000, Addresses: []string{"10.0.0.100"}}}
	good := output.Advert{Time: output.TimeJSON(ts), SrcMAC: "02:00:00:00:00:01", TTL: 255, Src: "10.0.0.1", Dst: "224.0.0.18", Version: 2, VRID: 5,
		Priority: 100, AuthType: "simple", AuthDigest: "", IntervalMS: 1000, Addresses: []string{"10.0.0.100"}, Checksum: "valid"}
	good.AuthDigest = digestOf("pw")
	if d := Compare([]output.Advert{good}, theirs); len(d) != 0 {
		t.Fatalf("equal adverts differ: %v", d)
	}
	muts := []func(*output.Advert){
		func(a *output.Advert) { a.Time = output.TimeJSON(ts.Add(time.Microsecond)) },
		func(a *output.Advert) { a.SrcMAC = "02:00:00:00:00:02" },
		func(a *output.Advert) { a.TTL = 64 },
		func(a *output.Advert) { a.Src = "10.0.0.2" },
		func(a *output.Advert) { a.Dst = "10.0.0.3" },
		func(a *output.Advert) { a.Version = 3 },
		func(a *output.Advert) { a.VRID = 6 },
		func(a *output.Advert) { a.Priority = 101 },
		func(a *output.Advert) { a.IntervalMS = 2000 },
		func(a *output.Advert) { a.Addresses = []string{"10.0.0.101"} },
		func(a *output.Advert) { a.AuthType = "none" },
		func(a *output.Advert) { a.AuthDigest = "00000000" },
		func(a *output.Advert) { a.Checksum = "invalid" },
	}
	for i, m := range muts {
		a := good
		m(&a)
		if d := Compare([]output.Advert{a}, theirs); len(d) == 0 {
			t.Errorf("mutation %d not detected", i)
		}
	}
	if d := Compare(nil, theirs); len(d) == 0 {
		t.Error("missing advert not detected")
	}
}
