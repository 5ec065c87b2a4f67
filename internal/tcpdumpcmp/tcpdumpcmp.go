// Package tcpdumpcmp decodes VRRP advertisements from a capture file with
// tcpdump, independently of vrrpguard's decoder, and compares the two. Tests
// use it to prove that vrrpguard reads every field as tcpdump does.
package tcpdumpcmp

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Advert is what tcpdump prints of one advertisement.
type Advert struct {
	Time        time.Time
	SrcMAC      string
	TTL         int
	Src, Dst    string
	Version     int
	VRID        int
	Priority    int
	AuthType    string // v2 only
	Password    string // v2 simple only, as tcpdump prints it
	IntervalMS  int64
	Addresses   []string
	BadChecksum bool // v2 over the message, v3 with the pseudo-header
	Line        string
}

var (
	reHead = regexp.MustCompile(`^(\d+)\.(\d{6}) ([0-9a-f:]{17}) > `)
	reTTL  = regexp.MustCompile(`\b(?:ttl|hlim) (\d+)`)
	reVRRP = regexp.MustCompile(`([0-9a-f.:]+) > ([0-9a-f.:]+): VRRPv(\d), Advertisement, (?:\(ttl \d+\), )?vrid (\d+), prio (\d+)(?:, authtype (\w+))?, intvl (\d+)(s|cs), length \d+(?:, \(bad vrrp cksum [0-9a-f]+\))?(?:, addrs(?:\(\d+\))?: (\S+))?(?: auth "([^"]*)")?`)
)

// Read runs tcpdump on path and returns its advertisements.
func Read(path string) ([]Advert, error) {
	cmd := exec.Command("tcpdump", "-r", path, "-nn", "-v", "-e", "-tt", "ip proto 112 or ip6 proto 112 or (vlan and (ip proto 112 or ip6 proto 112))")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tcpdump -r %s: %v: %s", path, err, stderr.String())
	}
	var records []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(records) > 0 {
			records[len(records)-1] += " " + strings.TrimSpace(l)
			continue
		}
		records = append(records, l)
	}
	var ads []Advert
	for _, r := range records {
		h := reHead.FindStringSubmatch(r)
		v := reVRRP.FindStringSubmatch(r)
		if h == nil || v == nil {
			return nil, fmt.Errorf("cannot parse tcpdump line: %s", r)
		}
		sec, _ := strconv.ParseInt(h[1], 10, 64)
		usec, _ := strconv.ParseInt(h[2], 10, 64)
		a := Advert{Time: time.Unix(sec, usec*1000), SrcMAC: h[3], Src: v[1], Dst: v[2], AuthType: v[6], Password: v[10], Line: r}
		if t := reTTL.FindStringSubmatch(r); t != nil {
			a.TTL, _ = strconv.Atoi(t[1])
		}
		a.Version, _ = strconv.Atoi(v[3])
		a.VRID, _ = strconv.Atoi(v[4])
		a.Priority, _ = strconv.Atoi(v[5])
		n, _ := strconv.ParseInt(v[7], 10, 64)
		if v[8] == "s" {
			a.IntervalMS = n * 1000
		} else {
			a.IntervalMS = n * 10
		}
		if v[9] != "" {
			a.Addresses = strings.Split(v[9], ",")
		}
		a.BadChecksum = strings.Contains(r, "bad vrrp cksum")
		ads = append(ads, a)
	}
	return ads, nil
}

// Compare returns one line per difference between vrrpguard's adverts (as
// printed by replay --format json) and tcpdump's, field by field; nil when
// they agree.
func Compare(ours []output.Advert, theirs []Advert) []string {
	var diffs []string
	if len(ours) != len(theirs) {
		diffs = append(diffs, fmt.Sprintf("vrrpguard printed %d advertisements, tcpdump %d", len(ours), len(theirs)))
	}
	for i := 0; i < len(ours) && i < len(theirs); i++ {
		o, t := ours[i], theirs[i]
		d := func(field string, got, want any) {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				diffs = append(diffs, fmt.Sprintf("advert %d %s: vrrpguard %v, tcpdump %v (%s)", i, field, got, want, t.Line))
			}
		}
		ot, err := time.Parse(time.RFC3339Nano, o.Time)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("advert %d: bad time %q", i, o.Time))
		}
		d("time", ot.UnixMicro(), t.Time.UnixMicro())
		d("src_mac", o.SrcMAC, t.SrcMAC)
		d("ttl", o.TTL, t.TTL)
		d("src", o.Src, t.Src)
		d("dst", o.Dst, t.Dst)
		d("version", o.Version, t.Version)
		d("vrid", o.VRID, t.VRID)
		d("priority", o.Priority, t.Priority)
		d("interval_ms", o.IntervalMS, t.IntervalMS)
		d("addresses", strings.Join(o.Addresses, ","), strings.Join(t.Addresses, ","))
		d("auth_type", o.AuthType, t.AuthType)
		if t.AuthType == "simple" {
			d("auth_digest", o.AuthDigest, vrrp.AuthDigest(vrrp.PasswordAuthData(t.Password)))
		} else {
			d("auth_digest", o.AuthDigest, "")
		}
		// tcpdump checks v2 over the message and v3 with the
		// pseudo-header only.
		d("checksum bad", o.Checksum != "valid", t.BadChecksum)
	}
	return diffs
}

// TsharkChecksums returns, for every VRRP packet of the capture in order,
// the checksum verdict of Wireshark's dissector in vrrpguard's vocabulary:
// "valid" (v2, or v3 with pseudo-header), "valid_without_pseudo_header"
// (v3 over IPv4 checked as in v2) or "invalid".
func TsharkChecksums(path string) ([]string, error) {
	run := func(asV2 bool) ([][]string, error) {
		args := []string{"-r", path, "-Y", "vrrp", "-T", "fields", "-e", "vrrp.version", "-e", "vrrp.checksum.status", "-e", "ipv6.src"}
		if asV2 {
			args = append(args, "-o", "vrrp.v3_checksum_as_in_v2:TRUE")
		}
		cmd := exec.Command("tshark", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("tshark -r %s: %v: %s", path, err, stderr.String())
		}
		var rows [][]string
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if l != "" {
				rows = append(rows, strings.Split(l, "\t"))
			}
		}
		return rows, nil
	}
	std, err := run(false)
	if err != nil {
		return nil, err
	}
	v2, err := run(true)
	if err != nil {
		return nil, err
	}
	if len(std) != len(v2) {
		return nil, fmt.Errorf("tshark gave %d and %d rows", len(std), len(v2))
	}
	out := make([]string, len(std))
	for i, r := range std {
		if len(r) < 2 || len(v2[i]) < 2 {
			return nil, fmt.Errorf("tshark row %q", r)
		}
		ipv6 := len(r) > 2 && r[2] != ""
		switch {
		case r[1] == "1":
			out[i] = "valid"
		case r[0] == "3" && !ipv6 && v2[i][1] == "1":
			out[i] = "valid_without_pseudo_header"
		default:
			out[i] = "invalid"
		}
	}
	return out, nil
}

func digestOf(password string) string { return vrrp.AuthDigest(vrrp.PasswordAuthData(password)) }
