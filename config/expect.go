package config

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// fromInstance is what a keepalived instance expects on its segment.
func fromInstance(k *keepalived.Config, in *keepalived.Instance) rules.Expected {
	e := rules.Expected{
		Names:     []string{in.Name},
		Interface: in.Interface,
		VRID:      in.VRID,
		Family:    in.Family(),
		Version:   uint8(in.Version),
		Interval:  in.AdvertInt,
		VIPsKnown: true,
		HasAuth:   true,
		Sources:   []string{in.Pos()},
		Priorities: []rules.Priority{{
			Source: in.Pos(), RouterID: k.Global.RouterID, Priority: in.Priority, State: in.State,
		}},
	}
	for _, v := range in.VIPs {
		e.VIPs = append(e.VIPs, v.Prefix.Addr())
	}
	for _, v := range in.ExcludedVIPs {
		e.ExcludedVIPs = append(e.ExcludedVIPs, v.Prefix.Addr())
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
	normalize(&e)
	return e
}

// normalize sorts the addresses of e and drops duplicates.
func normalize(e *rules.Expected) {
	e.VIPs = sortedAddrs(e.VIPs)
	e.ExcludedVIPs = sortedAddrs(e.ExcludedVIPs)
	e.Peers = sortedAddrs(e.Peers)
}

func sortedAddrs(a []netip.Addr) []netip.Addr {
	slices.SortFunc(a, netip.Addr.Compare)
	return slices.Compact(a)
}

// clone returns a copy of e that shares no slice with it.
func clone(e rules.Expected) rules.Expected {
	e.Names = slices.Clone(e.Names)
	e.VIPs = slices.Clone(e.VIPs)
	e.ExcludedVIPs = slices.Clone(e.ExcludedVIPs)
	e.Peers = slices.Clone(e.Peers)
	e.Priorities = slices.Clone(e.Priorities)
	e.Sources = slices.Clone(e.Sources)
	return e
}

// Expectations merges keepalived configurations (for example one file per
// node of a pair) and YAML expect entries (File.Expect) into one
// rules.Expected per segment (interface, family, VRID), with the interfaces
// as configured (see File.ForWatcher). Sources describing the same segment
// are merged and their peers united. Sources that disagree on version,
// advert interval, VIPs or authentication are kept as separate
// expectations for that segment, with a Warning naming both file:line:
// that disagreement is itself a misconfiguration. Two routers with the
// same priority, or two address owners (255), are warned about too. The
// arguments are not modified.
func Expectations(files []*keepalived.Config, expect []rules.Expected) ([]rules.Expected, []Warning) {
	m := &merger{groups: map[segment][]*rules.Expected{}}
	for _, k := range files {
		if k == nil {
			continue
		}
		for _, in := range k.Instances {
			m.add(fromInstance(k, in))
		}
	}
	for _, x := range expect {
		x = clone(x)
		normalize(&x)
		m.add(x)
	}
	return m.result()
}

// segment is what expectations are merged by.
type segment struct {
	ifname string
	fam    vrrp.Family
	vrid   uint8
}

// merger merges expectations per segment.
type merger struct {
	groups map[segment][]*rules.Expected // per segment, those that disagree
	order  []segment                     // segments in the order first seen
	warns  []Warning
}

// add merges e into the first expectation of its segment it agrees with,
// or keeps it apart with a warning about each it disagrees with.
func (m *merger) add(e rules.Expected) {
	k := segment{e.Interface, e.Family, e.VRID}
	g, ok := m.groups[k]
	if !ok {
		m.order = append(m.order, k)
	}
	for _, c := range g {
		if len(e.Sources) > 0 && slices.Contains(c.Sources, e.Sources[0]) {
			return // the same file read twice
		}
		if len(differences(c, &e)) == 0 {
			merge(c, &e)
			return
		}
	}
	for _, c := range g {
		m.warns = append(m.warns, disagreement(c, &e))
	}
	m.groups[k] = append(g, &e)
}

// result returns the merged expectations, sorted by interface, family and
// VRID, and the warnings: each disagreement, then per segment the routers
// whose priorities clash.
func (m *merger) result() ([]rules.Expected, []Warning) {
	var out []rules.Expected
	warns := m.warns
	for _, k := range m.order {
		g := m.groups[k]
		// Peers are the routers of the segment, whatever they disagree on.
		var peers []netip.Addr
		for _, c := range g {
			peers = append(peers, c.Peers...)
		}
		var prios []rules.Priority
		for _, c := range g {
			c.Peers = slices.Clone(peers)
			normalize(c)
			prios = append(prios, c.Priorities...)
			out = append(out, *c)
		}
		warns = append(warns, priorityWarnings(g[0].Key(), prios)...)
	}
	slices.SortStableFunc(out, func(a, b rules.Expected) int {
		return cmp.Or(cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family), cmp.Compare(a.VRID, b.VRID))
	})
	return out, warns
}

// merge adds o (compatible with e) to e.
func merge(e, o *rules.Expected) {
	for _, n := range o.Names {
		if !slices.Contains(e.Names, n) {
			e.Names = append(e.Names, n)
		}
	}
	if e.Version == 0 {
		e.Version = o.Version
	}
	if e.Interval == 0 {
		e.Interval = o.Interval
	}
	if !e.VIPsKnown && o.VIPsKnown {
		e.VIPs, e.VIPsKnown = slices.Clone(o.VIPs), true
	}
	if !e.HasAuth && o.HasAuth {
		e.AuthType, e.AuthDigest, e.HasAuth = o.AuthType, o.AuthDigest, true
	}
	e.ExcludedVIPs = append(e.ExcludedVIPs, o.ExcludedVIPs...)
	e.Peers = append(e.Peers, o.Peers...)
	e.Priorities = append(e.Priorities, o.Priorities...)
	e.Sources = append(e.Sources, o.Sources...)
	normalize(e)
}

// differences lists what a and b disagree on (unspecified values agree
// with anything).
func differences(a, b *rules.Expected) []string {
	var d []string
	if a.Version != 0 && b.Version != 0 && a.Version != b.Version {
		d = append(d, fmt.Sprintf("version (%d vs %d)", a.Version, b.Version))
	}
	if a.Interval != 0 && b.Interval != 0 && a.Interval != b.Interval {
		d = append(d, fmt.Sprintf("advert_int (%s vs %s)", a.Interval, b.Interval))
	}
	if a.VIPsKnown && b.VIPsKnown && !slices.Equal(a.VIPs, b.VIPs) {
		d = append(d, fmt.Sprintf("VIPs (%s vs %s)", addrList(a.VIPs), addrList(b.VIPs)))
	}
	if a.HasAuth && b.HasAuth && (a.AuthType != b.AuthType || a.AuthDigest != b.AuthDigest) {
		d = append(d, fmt.Sprintf("authentication (%s vs %s)", authString(a), authString(b)))
	}
	return d
}

func addrList(a []netip.Addr) string {
	if len(a) == 0 {
		return "none"
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, " ")
}

func authString(e *rules.Expected) string {
	switch e.AuthType {
	case vrrp.AuthNone:
		return "none"
	case vrrp.AuthSimple:
		return "PASS digest " + e.AuthDigest
	}
	return e.AuthType.String()
}

// disagreement warns that b (at its first source) disagrees with a.
func disagreement(a, b *rules.Expected) Warning {
	src := firstSource(b)
	file, line := splitPos(src)
	return Warning{File: file, Line: line, Message: fmt.Sprintf(
		"segment %s: %s and %s disagree on %s", a.Key(), src, firstSource(a), strings.Join(differences(b, a), ", "))}
}

func firstSource(e *rules.Expected) string {
	if len(e.Sources) == 0 {
		return "(unknown)"
	}
	return e.Sources[0]
}

func priorityWarnings(seg string, prios []rules.Priority) []Warning {
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
func (f *File) Expectations(opts keepalived.Options) ([]rules.Expected, []Warning, error) {
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

// ForWatcher returns the expectations as a watcher sees them, on another
// host or in a capture file: the interface a keepalived.conf names is that
// node's own NIC, not the watcher's, so only an expectation that comes
// from the file's YAML expect entries alone (written for the watcher)
// keeps its interface; the others match any interface. own are the
// keepalived configurations of the node the watcher runs on (`vrrpguard
// run`'s): their interfaces are the watcher's too, so expectations that
// come from them (and YAML entries) keep theirs. exp is not modified.
func (f *File) ForWatcher(exp []rules.Expected, own ...*keepalived.Config) []rules.Expected {
	pinned := map[string]bool{} // sources that name the watcher's interfaces
	for _, x := range f.Expect {
		for _, s := range x.Sources {
			pinned[s] = true
		}
	}
	ownFiles := map[string]bool{}
	for _, k := range own {
		if k != nil {
			for _, name := range k.Files {
				ownFiles[name] = true
			}
		}
	}
	out := slices.Clone(exp)
	for i := range out {
		for _, s := range out[i].Sources {
			if file, _ := splitPos(s); !pinned[s] && !ownFiles[file] {
				out[i].Interface = ""
				break
			}
		}
	}
	return out
}
