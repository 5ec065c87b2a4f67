package config

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Expected is what vrrpguard expects on one VRRP segment (interface,
// family, VRID), merged from keepalived vrrp_instances (for example those
// of both nodes of a pair) and YAML expect entries. A zero Version or
// AdvertInt, or a false VIPsKnown or AuthKnown, means "not specified".
type Expected struct {
	// Names are the names of the instances and entries merged.
	Names []string
	// Interface is the segment's interface; "" matches any.
	Interface string
	// VRID is the virtual router id.
	VRID uint8
	// Family is the address family of the segment's adverts.
	Family vrrp.Family
	// Version is the VRRP version (2 or 3).
	Version int
	// AdvertInt is the advertisement interval as sent on the wire.
	AdvertInt time.Duration
	// VIPs are the advertised addresses, sorted; VIPsKnown tells whether
	// they were specified.
	VIPs      []netip.Prefix
	VIPsKnown bool
	// ExcludedVIPs are virtual_ipaddress_excluded: owned by the master
	// (seen in ARP/ND) but not advertised. Sorted.
	ExcludedVIPs []netip.Prefix
	// AuthType and AuthDigest are the version 2 authentication: the type
	// and vrrp.AuthDigest of the 8-byte authentication field
	// (empty for AuthNone). AuthKnown tells whether they were specified.
	AuthType   vrrp.AuthType
	AuthDigest string
	AuthKnown  bool
	// Peers are the routers' addresses: unicast_src_ip, mcast_src_ip and
	// unicast_peer of every merged instance, and YAML peers. Sorted.
	Peers []netip.Addr
	// Priorities lists each merged keepalived instance's priority.
	Priorities []Priority
	// Sources are "file:line" of each instance or entry merged.
	Sources []string
}

// Priority is one router's configured priority for a segment.
type Priority struct {
	// Source is "file:line" of the vrrp_instance.
	Source string
	// RouterID is the file's global router_id ("" if not set).
	RouterID string
	// Priority is the configured base priority.
	Priority uint8
	// State is the configured initial state, MASTER or BACKUP.
	State string
}

// Key returns the segment as "interface/family/VRID", e.g. "eth0/ipv4/51"
// ("*" for any interface).
func (e *Expected) Key() string {
	return ifOrAny(e.Interface) + "/" + e.Family.String() + "/" + strconv.Itoa(int(e.VRID))
}

func ifOrAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// fromInstance converts a keepalived instance.
func fromInstance(k *keepalived.Config, in *keepalived.Instance) Expected {
	e := Expected{
		Names:     []string{in.Name},
		Interface: in.Interface,
		VRID:      in.VRID,
		Family:    in.Family(),
		Version:   in.Version,
		AdvertInt: in.AdvertInt,
		VIPsKnown: true,
		AuthKnown: true,
		Sources:   []string{in.Pos()},
		Priorities: []Priority{{
			Source: in.Pos(), RouterID: k.Global.RouterID, Priority: in.Priority, State: in.State,
		}},
	}
	for _, v := range in.VIPs {
		e.VIPs = append(e.VIPs, v.Prefix)
	}
	for _, v := range in.ExcludedVIPs {
		e.ExcludedVIPs = append(e.ExcludedVIPs, v.Prefix)
	}
	switch in.Auth.Type {
	case "PASS":
		e.AuthType = vrrp.AuthSimple
	case "AH":
		e.AuthType = vrrp.AuthAH
	}
	if e.AuthType != vrrp.AuthNone {
		e.AuthDigest = vrrp.AuthDigest(in.Auth.AuthData())
	}
	if a := in.SrcIP(); a.IsValid() {
		e.Peers = append(e.Peers, a)
	}
	e.Peers = append(e.Peers, in.UnicastPeers...)
	e.normalize()
	return e
}

// fromExpect converts a YAML expect entry.
func fromExpect(x *Expect) Expected {
	e := Expected{
		Interface: x.Interface,
		VRID:      uint8(x.VRID),
		Family:    x.family(),
		Version:   x.Version,
		AdvertInt: x.AdvertInt,
		VIPs:      slices.Clone(x.VIPs),
		VIPsKnown: x.VIPs != nil,
		Peers:     slices.Clone(x.Peers),
		Sources:   []string{x.File + ":" + strconv.Itoa(x.Line)},
	}
	if x.Name != "" {
		e.Names = []string{x.Name}
	}
	switch {
	case x.AuthPass != "":
		e.AuthKnown, e.AuthType = true, vrrp.AuthSimple
		e.AuthDigest = vrrp.AuthDigest(vrrp.PasswordAuthData(x.AuthPass))
	case x.AuthDigest != "":
		e.AuthKnown, e.AuthType, e.AuthDigest = true, vrrp.AuthSimple, x.AuthDigest
	case x.AuthType == "none":
		e.AuthKnown = true
	case x.AuthType == "ah":
		e.AuthKnown, e.AuthType = true, vrrp.AuthAH
		e.AuthDigest = vrrp.AuthDigest([vrrp.AuthDataLen]byte{})
	}
	e.normalize()
	return e
}

func (e *Expected) normalize() {
	slices.SortFunc(e.VIPs, comparePrefix)
	e.VIPs = slices.Compact(e.VIPs)
	slices.SortFunc(e.ExcludedVIPs, comparePrefix)
	e.ExcludedVIPs = slices.Compact(e.ExcludedVIPs)
	slices.SortFunc(e.Peers, netip.Addr.Compare)
	e.Peers = slices.Compact(e.Peers)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// Expectations merges keepalived configurations (for example one file per
// node of a pair) and YAML expect entries into one Expected per segment
// (interface, family, VRID). Sources describing the same segment are merged
// and their peers united. Sources that disagree on version, advert
// interval, VIPs or authentication are kept as separate Expected values for
// that segment, with a Warning naming both file:line: that disagreement is
// itself a misconfiguration. Two routers with the same priority, or two
// address owners (255), are warned about too.
func Expectations(files []*keepalived.Config, expect []Expect) ([]Expected, []Warning) {
	var all []Expected
	for _, k := range files {
		if k == nil {
			continue
		}
		for _, in := range k.Instances {
			all = append(all, fromInstance(k, in))
		}
	}
	for i := range expect {
		all = append(all, fromExpect(&expect[i]))
	}

	type key struct {
		ifname string
		fam    vrrp.Family
		vrid   uint8
	}
	groups := map[key][]*Expected{}
	var order []key
	var warns []Warning
	for i := range all {
		e := &all[i]
		k := key{e.Interface, e.Family, e.VRID}
		g, ok := groups[k]
		if !ok {
			order = append(order, k)
		}
		merged := false
		for _, c := range g {
			if slices.Contains(c.Sources, e.Sources[0]) {
				// The same file read twice.
				merged = true
				break
			}
			if diff := differences(c, e); len(diff) == 0 {
				c.merge(e)
				merged = true
				break
			}
		}
		if !merged {
			for _, c := range g {
				warns = append(warns, disagreement(c, e))
			}
			groups[k] = append(g, e)
		}
	}

	var out []Expected
	for _, k := range order {
		g := groups[k]
		// Peers are the routers of the segment, whatever they disagree on.
		var peers []netip.Addr
		for _, c := range g {
			peers = append(peers, c.Peers...)
		}
		var prios []Priority
		for _, c := range g {
			c.Peers = slices.Clone(peers)
			c.normalize()
			prios = append(prios, c.Priorities...)
			out = append(out, *c)
		}
		warns = append(warns, priorityWarnings(g[0].Key(), prios)...)
	}
	slices.SortStableFunc(out, func(a, b Expected) int {
		return cmp.Or(cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family), cmp.Compare(a.VRID, b.VRID))
	})
	return out, warns
}

// merge adds o (compatible with e) to e.
func (e *Expected) merge(o *Expected) {
	for _, n := range o.Names {
		if !slices.Contains(e.Names, n) {
			e.Names = append(e.Names, n)
		}
	}
	if e.Version == 0 {
		e.Version = o.Version
	}
	if e.AdvertInt == 0 {
		e.AdvertInt = o.AdvertInt
	}
	if !e.VIPsKnown && o.VIPsKnown {
		e.VIPs, e.VIPsKnown = slices.Clone(o.VIPs), true
	}
	if !e.AuthKnown && o.AuthKnown {
		e.AuthType, e.AuthDigest, e.AuthKnown = o.AuthType, o.AuthDigest, true
	}
	e.ExcludedVIPs = append(e.ExcludedVIPs, o.ExcludedVIPs...)
	e.Peers = append(e.Peers, o.Peers...)
	e.Priorities = append(e.Priorities, o.Priorities...)
	e.Sources = append(e.Sources, o.Sources...)
	e.normalize()
}

// differences lists what a and b disagree on ("" values are unspecified
// and agree with anything).
func differences(a, b *Expected) []string {
	var d []string
	if a.Version != 0 && b.Version != 0 && a.Version != b.Version {
		d = append(d, fmt.Sprintf("version (%d vs %d)", a.Version, b.Version))
	}
	if a.AdvertInt != 0 && b.AdvertInt != 0 && a.AdvertInt != b.AdvertInt {
		d = append(d, fmt.Sprintf("advert_int (%s vs %s)", a.AdvertInt, b.AdvertInt))
	}
	if a.VIPsKnown && b.VIPsKnown && !slices.Equal(addrs(a.VIPs), addrs(b.VIPs)) {
		d = append(d, fmt.Sprintf("VIPs (%s vs %s)", addrList(a.VIPs), addrList(b.VIPs)))
	}
	if a.AuthKnown && b.AuthKnown && (a.AuthType != b.AuthType || a.AuthDigest != b.AuthDigest) {
		d = append(d, fmt.Sprintf("authentication (%s vs %s)", authString(a), authString(b)))
	}
	return d
}

// addrs returns the sorted, deduplicated addresses of prefixes: adverts
// carry addresses, not prefix lengths.
func addrs(ps []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Addr())
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

func addrList(ps []netip.Prefix) string {
	a := addrs(ps)
	if len(a) == 0 {
		return "none"
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, " ")
}

func authString(e *Expected) string {
	switch e.AuthType {
	case vrrp.AuthNone:
		return "none"
	case vrrp.AuthSimple:
		return "PASS digest " + e.AuthDigest
	}
	return e.AuthType.String()
}

func disagreement(a, b *Expected) Warning {
	file, line := splitPos(b.Sources[0])
	return Warning{File: file, Line: line, Message: fmt.Sprintf(
		"segment %s: %s and %s disagree on %s", a.Key(), b.Sources[0], a.Sources[0], strings.Join(differences(b, a), ", "))}
}

func priorityWarnings(seg string, prios []Priority) []Warning {
	var w []Warning
	for i, p := range prios {
		for _, q := range prios[:i] {
			if p.Priority != q.Priority || p.Source == q.Source {
				continue
			}
			file, line := splitPos(p.Source)
			what := "the same priority " + strconv.Itoa(int(p.Priority)) + " (the higher address then wins the election)"
			if p.Priority == 255 {
				what = "priority 255: two address owners"
			}
			w = append(w, Warning{File: file, Line: line, Message: fmt.Sprintf("segment %s: %s and %s have %s", seg, p.Source, q.Source, what)})
			break
		}
	}
	return w
}

func splitPos(pos string) (string, int) {
	i := strings.LastIndexByte(pos, ':')
	if i < 0 {
		return pos, 0
	}
	n, err := strconv.Atoi(pos[i+1:])
	if err != nil {
		return pos, 0
	}
	return pos[:i], n
}

// Expectations loads the keepalived files the configuration lists (with
// opts) and merges them with its expect entries; see the function
// Expectations. Warnings from reading the keepalived files are included.
func (f *File) Expectations(opts keepalived.Options) ([]Expected, []Warning, error) {
	var files []*keepalived.Config
	var warns []Warning
	for _, path := range f.Keepalived {
		k, w, err := opts.Load(path)
		warns = append(warns, w...)
		if err != nil {
			return nil, warns, err
		}
		files = append(files, k)
	}
	exp, w := Expectations(files, f.Expect)
	return exp, append(warns, w...), nil
}

// VIPAddrs returns the addresses of the VIPs (what adverts carry).
func (e *Expected) VIPAddrs() []netip.Addr { return addrs(e.VIPs) }
