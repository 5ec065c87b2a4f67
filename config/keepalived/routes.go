package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ProtoKeepalived is RTPROT_KEEPALIVED, the routing protocol number
// keepalived gives the routes and rules it tracks ("proto keepalived" in
// `ip route`).
const ProtoKeepalived = 18

// Route is one line of virtual_routes or static_routes, as keepalived
// 2.2.7's alloc_route() reads it:
//
//	[to] [TYPE] DEST [src ADDR] [from PREFIX] [via|gw ADDR] [dev|oif IF]
//	[scope S] [table T] [metric|priority|preference N] [protocol P]
//	[onlink] [no_track] [inet|inet6]
//
// DEST is ADDR[/LEN] or default/any/all. Options vrrpguard does not apply
// are warned about with the line's file:line.
type Route struct {
	// Family is the route's address family.
	Family vrrp.Family
	// Dst is the destination (a zero-length prefix for default).
	Dst netip.Prefix
	// Type is the route type: RTN_UNICAST (1) unless given (blackhole 6,
	// unreachable 7, prohibit 8, throw 9, …).
	Type int
	// Src is the preferred source address (src), if any.
	Src netip.Addr
	// From is the source prefix (from, IPv6 only), if any.
	From netip.Prefix
	// Via is the gateway (via or gw), if any.
	Via netip.Addr
	// Dev is the outgoing interface (dev or oif), "" if none.
	Dev string
	// Scope is the scope number (RT_SCOPE_UNIVERSE, 0, unless given).
	Scope int
	// Table is the routing table (RT_TABLE_MAIN, 254, unless given).
	Table int
	// Metric is the metric (priority); HasMetric says it was given.
	Metric    uint32
	HasMetric bool
	// Protocol is the route's protocol: ProtoKeepalived unless no_track
	// and another protocol were given.
	Protocol int
	// OnLink is onlink; NoTrack is no_track.
	OnLink  bool
	NoTrack bool
	// Raw is the line as written; File and Line locate it.
	Raw  string
	File string
	Line int
}

// Rule is one line of virtual_rules or static_rules, as keepalived
// 2.2.7's alloc_rule() reads it:
//
//	[from PREFIX] [to PREFIX] [not] [table|lookup T | goto N | nop |
//	[type] blackhole|unreachable|prohibit] [preference|priority|order N]
//	[tos T] [fwmark M[/MASK]] [iif|dev IF] [oif IF] [ipproto P]
//	[sport A[-B]] [dport A[-B]] [uidrange A-B] [suppress_prefixlength N]
//	[protocol P] [no_track] [inet|inet6]
type Rule struct {
	// Family is the rule's address family (IPv4 unless an address or
	// inet6 says otherwise).
	Family vrrp.Family
	// From and To are the selectors of the same names (invalid if not
	// given; a zero-length prefix for all).
	From netip.Prefix
	To   netip.Prefix
	// Invert is not.
	Invert bool
	// Action is the FR_ACT_* action: 1 table, 2 goto, 3 nop, 6
	// blackhole, 7 unreachable, 8 prohibit.
	Action int
	// Table is the table of a table action; Goto the target of goto.
	Table int
	Goto  int
	// Priority is the preference. Without one keepalived numbers rules
	// down from 16384 (per family), with a warning.
	Priority uint32
	// Tos is tos/dsfield.
	Tos uint8
	// Fwmark and Fwmask are fwmark M[/MASK]; HasFwmark and HasFwmask say
	// which were given.
	Fwmark, Fwmask       uint32
	HasFwmark, HasFwmask bool
	// IIf and OIf are the interfaces (iif or dev, oif).
	IIf string
	OIf string
	// IPProto is ipproto (0: any).
	IPProto int
	// Sport, Dport are port ranges (both ends 0: not given).
	Sport, Dport [2]uint16
	// UIDRange is uidrange; HasUIDRange says it was given.
	UIDRange    [2]uint32
	HasUIDRange bool
	// SuppressPrefixLen is suppress_prefixlength (-1: not given).
	SuppressPrefixLen int
	// Protocol is the rule's protocol: ProtoKeepalived unless no_track is
	// given, then the protocol given (0: none, the kernel's default).
	Protocol int
	// NoTrack is no_track.
	NoTrack bool
	// Raw is the line as written; File and Line locate it.
	Raw  string
	File string
	Line int
}

// Route types (RTN_*), as `ip route` names them.
var routeTypes = map[string]int{
	"unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5,
	"blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10,
}

// Rule actions (FR_ACT_*) of the route types a rule may name.
var ruleTypeActions = map[string]int{"blackhole": 6, "unreachable": 7, "prohibit": 8}

// Route and rule protocols by name (/etc/iproute2/rt_protos).
var rtProtos = map[string]int{
	"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
	"mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
	"keepalived": 18, "babel": 42, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189, "eigrp": 192,
}

// routeIgnored are alloc_route() options vrrpguard does not apply, with
// the number of values each takes ("lock" before a value is extra).
var routeIgnored = map[string]int{
	"tos": 1, "dsfield": 1, "expires": 1, "mtu": 1, "hoplimit": 1, "advmss": 1, "rtt": 1,
	"rttvar": 1, "reordering": 1, "window": 1, "cwnd": 1, "ssthresh": 1, "realms": 1,
	"rto_min": 1, "initcwnd": 1, "initrwnd": 1, "features": 1, "quickack": 1, "congctl": 1,
	"pref": 1, "ttl-propagate": 1, "fastopen_no_cookie": 1, "add": 0, "prepend": 0, "append": 0,
	"track_group": 1,
}

// routeSkipping are options that change the route itself in a way
// vrrpguard cannot reproduce: the route is not added (warned).
var routeSkipping = map[string]bool{"nexthop": true, "or": true, "encap": true, "vrf": true, "as": true}

// ruleIgnored are alloc_rule() options vrrpguard does not apply, with the
// number of values each takes.
var ruleIgnored = map[string]int{
	"realms": 1, "suppress_ifgroup": 1, "sup_group": 1, "tunnel-id": 1, "track_group": 1,
}

// routeParser reads one route line.
type routeParser struct {
	p   *parser
	n   *node
	blk string
	w   []string
	i   int
	fam vrrp.Family
}

// next returns the value after option opt, or an error saying what was
// expected.
func (rp *routeParser) next(opt, want string) (string, error) {
	rp.i++
	if rp.i >= len(rp.w) {
		return "", errAt(rp.n, "%s: '%s' needs %s", rp.what(), opt, want)
	}
	return rp.w[rp.i], nil
}

func (rp *routeParser) what() string {
	return rp.blk + " " + strconv.Quote(rp.n.raw)
}

// keyword records the family named by "inet" or "inet6" (opt) on a line
// of kind ("route" or "rule") and checks it agrees with the line's.
func (rp *routeParser) keyword(opt, kind string) error {
	f := vrrp.IPv4
	if opt == "inet6" {
		f = vrrp.IPv6
	}
	if rp.fam != vrrp.FamilyUnknown && rp.fam != f {
		return errAt(rp.n, "%s: %s given for an %s %s", rp.what(), opt, famName(rp.fam), kind)
	}
	rp.fam = f
	return nil
}

// family records the family of an address and checks it agrees with the
// line's.
func (rp *routeParser) family(a netip.Addr, opt string) error {
	f := vrrp.FamilyOf(a)
	if rp.fam == vrrp.FamilyUnknown {
		rp.fam = f
		return nil
	}
	if rp.fam != f {
		return errAt(rp.n, "%s: '%s %s' mixes IPv4 and IPv6 (expected an %s address)", rp.what(), opt, a, famName(rp.fam))
	}
	return nil
}

// prefix reads ADDR[/LEN] or default/any/all (invalid prefix: the
// family's default, set once the family is known).
func (rp *routeParser) prefix(opt, s string) (netip.Prefix, bool, error) {
	switch s {
	case "default", "any", "all":
		return netip.Prefix{}, true, nil
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, false, errAt(rp.n, "%s: %s %q: expected ADDRESS[/PREFIXLEN] or default", rp.what(), opt, s)
	}
	pf, err := ParseVIP(s)
	if err != nil {
		return netip.Prefix{}, false, errAt(rp.n, "%s: %s %q: expected ADDRESS[/PREFIXLEN] or default", rp.what(), opt, s)
	}
	return pf.Masked(), false, rp.family(pf.Addr(), opt)
}

// addr reads an address option.
func (rp *routeParser) addr(opt string) (netip.Addr, error) {
	s, err := rp.next(opt, "an IP address")
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := parseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errAt(rp.n, "%s: %s %q: expected an IP address", rp.what(), opt, s)
	}
	return a.Unmap(), rp.family(a.Unmap(), opt)
}

// uint reads a number option up to hi.
func (rp *routeParser) uint(opt string, hi uint64) (uint64, error) {
	s, err := rp.next(opt, "a number")
	if err != nil {
		return 0, err
	}
	v, ok := parseUint(s)
	if !ok || v > hi {
		return 0, errAt(rp.n, "%s: %s %q: expected a number 0-%d", rp.what(), opt, s, hi)
	}
	return v, nil
}

// table reads a table number or name (main, local, default).
func (rp *routeParser) table(opt string) (int, error) {
	s, err := rp.next(opt, "a table")
	if err != nil {
		return 0, err
	}
	switch s {
	case "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	v, ok := parseUint(s)
	if !ok || v > 1<<32-1 {
		return 0, errAt(rp.n, "%s: %s %q: expected a table number or main, local, default (vrrpguard does not read names from /etc/iproute2/rt_tables)", rp.what(), opt, s)
	}
	return int(v), nil
}

// protocol reads a protocol number or name.
func (rp *routeParser) protocol(opt string) (int, error) {
	s, err := rp.next(opt, "a protocol")
	if err != nil {
		return 0, err
	}
	if v, ok := rtProtos[s]; ok {
		return v, nil
	}
	v, ok := parseUint(s)
	if !ok || v > 255 {
		return 0, errAt(rp.n, "%s: %s %q: expected a protocol number 0-255 or name (static, boot, keepalived, …)", rp.what(), opt, s)
	}
	return int(v), nil
}

// ignore warns about an option vrrpguard does not apply and skips its
// values.
func (rp *routeParser) ignore(opt string, values int) {
	parts := []string{opt}
	for range values {
		if rp.i+1 < len(rp.w) && rp.w[rp.i+1] == "lock" {
			rp.i++
			parts = append(parts, "lock")
		}
		if rp.i+1 < len(rp.w) {
			rp.i++
			parts = append(parts, rp.w[rp.i])
		}
	}
	rp.p.warn(rp.n, "%s: option '%s' is not used by vrrpguard; added without it", rp.what(), strings.Join(parts, " "))
}

// route parses one route line; ok is false for a route vrrpguard does not
// add (warned).
func (p *parser) route(blk string, n *node) (r Route, ok bool, err error) {
	rp := &routeParser{p: p, n: n, blk: blk, w: n.words}
	r = Route{Type: 1, Table: 254, Raw: n.raw, File: n.file, Line: n.line}
	var dst netip.Prefix
	var dstSet, dstDefault, protoSet bool
	for ; rp.i < len(rp.w); rp.i++ {
		opt := rp.w[rp.i]
		switch opt {
		case "inet", "inet6":
			if err := rp.keyword(opt, "route"); err != nil {
				return r, false, err
			}
		case "src":
			if r.Src, err = rp.addr(opt); err != nil {
				return r, false, err
			}
		case "via", "gw":
			if opt == "gw" {
				p.warn(n, "%s: 'gw' is deprecated, keepalived asks for 'via'", rp.what())
			}
			if rp.i+1 < len(rp.w) && (rp.w[rp.i+1] == "inet" || rp.w[rp.i+1] == "inet6") {
				rp.i++
			}
			if r.Via, err = rp.addr(opt); err != nil {
				return r, false, err
			}
		case "from":
			s, err := rp.next(opt, "a prefix")
			if err != nil {
				return r, false, err
			}
			pf, _, err := rp.prefix(opt, s)
			if err != nil {
				return r, false, err
			}
			if !pf.IsValid() || !pf.Addr().Is6() {
				return r, false, errAt(n, "%s: from %q: expected an IPv6 prefix (keepalived supports route 'from' only with IPv6)", rp.what(), s)
			}
			r.From = pf
			// The netlink library has no RTA_SRC for routes: adding the
			// route without it would route every source.
			p.warn(n, "%s: option 'from %s' (a source-specific IPv6 route) is not supported by vrrpguard; the route is not added", rp.what(), s)
			return r, false, nil
		case "table":
			if r.Table, err = rp.table(opt); err != nil {
				return r, false, err
			}
		case "protocol":
			if r.Protocol, err = rp.protocol(opt); err != nil {
				return r, false, err
			}
			protoSet = true
		case "scope":
			s, err := rp.next(opt, "a scope")
			if err != nil {
				return r, false, err
			}
			if r.Scope, err = ParseScope(s); err != nil {
				return r, false, errAt(n, "%s: scope %q: expected global, site, link, host, nowhere or a number", rp.what(), s)
			}
		case "metric", "priority", "preference":
			v, err := rp.uint(opt, 1<<32-1)
			if err != nil {
				return r, false, err
			}
			r.Metric, r.HasMetric = uint32(v), true
		case "dev", "oif":
			if r.Dev, err = rp.next(opt, "an interface name"); err != nil {
				return r, false, err
			}
			if len(r.Dev) > ifNameMax {
				return r, false, errAt(n, "%s: %s %q: interface names are at most %d characters", rp.what(), opt, r.Dev, ifNameMax)
			}
		case "onlink":
			r.OnLink = true
		case "no_track":
			r.NoTrack = true
		default:
			if v, ok := routeIgnored[opt]; ok {
				rp.ignore(opt, v)
				continue
			}
			if routeSkipping[opt] {
				p.warn(n, "%s: option '%s' (multipath, encapsulation, VRF or MPLS) is not supported by vrrpguard; the route is not added", rp.what(), opt)
				return r, false, nil
			}
			s := opt
			if s == "to" {
				if s, err = rp.next(opt, "a destination"); err != nil {
					return r, false, err
				}
			}
			if t, ok := routeTypes[s]; ok {
				r.Type = t
				if s, err = rp.next(s, "a destination"); err != nil {
					return r, false, err
				}
			}
			if dstSet {
				return r, false, errAt(n, "%s: unexpected %q: the destination is already %q (unknown option?)", rp.what(), s, dstWord(dst, dstDefault))
			}
			if _, perr := ParseVIP(s); perr != nil && s != "default" && s != "any" && s != "all" {
				return r, false, errAt(n, "%s: unknown option or destination %q: expected ADDRESS[/PREFIXLEN], default or an option (src, via, dev, table, metric, scope, protocol, onlink, …)", rp.what(), s)
			}
			pf, def, err := rp.prefix("destination", s)
			if err != nil {
				return r, false, err
			}
			dst, dstDefault, dstSet = pf, def, true
		}
	}
	if !dstSet {
		return r, false, errAt(n, "%s: a route needs a destination (ADDRESS[/PREFIXLEN] or default)", rp.what())
	}
	if rp.fam == vrrp.FamilyUnknown {
		rp.fam = vrrp.IPv4
	}
	r.Family = rp.fam
	r.Dst = dst
	if dstDefault {
		r.Dst = netip.PrefixFrom(zeroAddr(r.Family), 0)
	}
	switch {
	case !protoSet:
		r.Protocol = ProtoKeepalived // also with no_track (keepalived's netlink_route)
	case !r.NoTrack && r.Protocol != ProtoKeepalived:
		p.warn(n, "%s: a tracked route's protocol is keepalived (%d); keepalived resets protocol %d (add no_track to keep it)", rp.what(), ProtoKeepalived, r.Protocol)
		r.Protocol = ProtoKeepalived
	}
	return r, true, nil
}

// famName names a family as messages do: IPv4, IPv6.
func famName(f vrrp.Family) string {
	if f == vrrp.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

func dstWord(p netip.Prefix, def bool) string {
	if def {
		return "default"
	}
	return p.String()
}

func zeroAddr(f vrrp.Family) netip.Addr {
	if f == vrrp.IPv6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// rule parses one rule line; ok is false for a rule vrrpguard does not
// add (warned).
func (p *parser) rule(blk string, n *node) (r Rule, ok bool, err error) {
	rp := &routeParser{p: p, n: n, blk: blk, w: n.words}
	r = Rule{SuppressPrefixLen: -1, Raw: n.raw, File: n.file, Line: n.line}
	var fromDef, toDef, prioSet, protoSet bool
	setAction := func(a int) error {
		if r.Action != 0 {
			return errAt(n, "%s: more than one of table, goto, nop, blackhole, prohibit, unreachable", rp.what())
		}
		r.Action = a
		return nil
	}
	for ; rp.i < len(rp.w); rp.i++ {
		opt := rp.w[rp.i]
		switch opt {
		case "inet", "inet6":
			if err := rp.keyword(opt, "rule"); err != nil {
				return r, false, err
			}
		case "from", "to":
			s, err := rp.next(opt, "a prefix")
			if err != nil {
				return r, false, err
			}
			pf, def, err := rp.prefix(opt, s)
			if err != nil {
				return r, false, err
			}
			if opt == "from" {
				r.From, fromDef = pf, def
			} else {
				r.To, toDef = pf, def
			}
		case "table", "lookup":
			t, err := rp.table(opt)
			if err != nil {
				return r, false, err
			}
			if t == 0 {
				return r, false, errAt(n, "%s: table 0 is not valid", rp.what())
			}
			if err := setAction(1); err != nil {
				return r, false, err
			}
			r.Table = t
		case "not":
			r.Invert = true
		case "preference", "priority", "order":
			v, err := rp.uint(opt, 1<<32-1)
			if err != nil {
				return r, false, err
			}
			r.Priority, prioSet = uint32(v), true
		case "tos", "dsfield":
			v, err := rp.uint(opt, 255)
			if err != nil {
				return r, false, err
			}
			r.Tos = uint8(v)
		case "fwmark":
			s, err := rp.next(opt, "MARK[/MASK]")
			if err != nil {
				return r, false, err
			}
			m, mask, hasMask := strings.Cut(s, "/")
			v, e1 := strconv.ParseUint(m, 0, 32)
			mv, e2 := strconv.ParseUint(mask, 0, 32)
			ok1, ok2 := e1 == nil, e2 == nil
			if !ok1 || v > 1<<32-1 || (hasMask && (!ok2 || mv > 1<<32-1)) {
				return r, false, errAt(n, "%s: fwmark %q: expected MARK[/MASK] (numbers up to 0xffffffff)", rp.what(), s)
			}
			r.Fwmark, r.HasFwmark = uint32(v), true
			if hasMask {
				r.Fwmask, r.HasFwmask = uint32(mv), true
			}
		case "dev", "iif", "oif":
			s, err := rp.next(opt, "an interface name")
			if err != nil {
				return r, false, err
			}
			if len(s) > ifNameMax {
				return r, false, errAt(n, "%s: %s %q: interface names are at most %d characters", rp.what(), opt, s, ifNameMax)
			}
			if opt == "oif" {
				r.OIf = s
			} else {
				r.IIf = s
			}
		case "ipproto":
			s, err := rp.next(opt, "a protocol")
			if err != nil {
				return r, false, err
			}
			v, ok := ipProtos[s]
			if !ok {
				u, uok := parseUint(s)
				if !uok || u > 255 {
					return r, false, errAt(n, "%s: ipproto %q: expected tcp, udp, icmp, … or a number 0-255", rp.what(), s)
				}
				v = int(u)
			}
			r.IPProto = v
		case "sport", "dport":
			s, err := rp.next(opt, "PORT[-PORT]")
			if err != nil {
				return r, false, err
			}
			a, b, rng := strings.Cut(s, "-")
			lo, ok1 := parseUint(a)
			hi, ok2 := lo, true
			if rng {
				hi, ok2 = parseUint(b)
			}
			if !ok1 || !ok2 || lo > 65535 || hi > 65535 || hi < lo {
				return r, false, errAt(n, "%s: %s %q: expected PORT or PORT-PORT (0-65535)", rp.what(), opt, s)
			}
			if opt == "sport" {
				r.Sport = [2]uint16{uint16(lo), uint16(hi)}
			} else {
				r.Dport = [2]uint16{uint16(lo), uint16(hi)}
			}
		case "uidrange":
			s, err := rp.next(opt, "UID-UID")
			if err != nil {
				return r, false, err
			}
			a, b, _ := strings.Cut(s, "-")
			lo, ok1 := parseUint(a)
			hi, ok2 := parseUint(b)
			if !ok1 || !ok2 || lo > 1<<32-1 || hi > 1<<32-1 || hi < lo {
				return r, false, errAt(n, "%s: uidrange %q: expected UID-UID", rp.what(), s)
			}
			r.UIDRange, r.HasUIDRange = [2]uint32{uint32(lo), uint32(hi)}, true
		case "suppress_prefixlength", "sup_pl":
			v, err := rp.uint(opt, 1<<31-1)
			if err != nil {
				return r, false, err
			}
			r.SuppressPrefixLen = int(v)
		case "protocol":
			if r.Protocol, err = rp.protocol(opt); err != nil {
				return r, false, err
			}
			protoSet = true
		case "no_track":
			r.NoTrack = true
		case "l3mdev":
			p.warn(n, "%s: option 'l3mdev' (VRF) is not supported by vrrpguard; the rule is not added", rp.what())
			return r, false, nil
		default:
			if v, ok := ruleIgnored[opt]; ok {
				rp.ignore(opt, v)
				continue
			}
			s := opt
			if s == "type" {
				if s, err = rp.next(opt, "blackhole, unreachable or prohibit"); err != nil {
					return r, false, err
				}
			}
			switch a, isType := ruleTypeActions[s]; {
			case s == "goto":
				v, err := rp.uint(s, 1<<32-1)
				if err != nil {
					return r, false, err
				}
				if err := setAction(2); err != nil {
					return r, false, err
				}
				r.Goto = int(v)
			case s == "nop":
				if err := setAction(3); err != nil {
					return r, false, err
				}
			case isType:
				if err := setAction(a); err != nil {
					return r, false, err
				}
			default:
				return r, false, errAt(n, "%s: unknown rule option %q: expected from, to, table, priority, fwmark, iif, oif, not, goto, nop, blackhole, unreachable, prohibit, …", rp.what(), s)
			}
		}
	}
	if r.Action == 0 {
		return r, false, errAt(n, "%s: a rule needs an action (table N, goto N, nop, blackhole, unreachable or prohibit)", rp.what())
	}
	if r.Action == 2 && (!prioSet || r.Priority >= uint32(r.Goto)) {
		return r, false, errAt(n, "%s: goto %d needs a preference lower than its target", rp.what(), r.Goto)
	}
	if r.Action != 1 && r.SuppressPrefixLen >= 0 {
		return r, false, errAt(n, "%s: suppress_prefixlength needs a table action", rp.what())
	}
	if rp.fam == vrrp.FamilyUnknown {
		rp.fam = vrrp.IPv4
	}
	r.Family = rp.fam
	if fromDef {
		r.From = netip.PrefixFrom(zeroAddr(r.Family), 0)
	}
	if toDef {
		r.To = netip.PrefixFrom(zeroAddr(r.Family), 0)
	}
	if !r.NoTrack {
		if protoSet && r.Protocol != ProtoKeepalived {
			p.warn(n, "%s: a tracked rule's protocol is keepalived (%d); keepalived resets protocol %d (add no_track to keep it)", rp.what(), ProtoKeepalived, r.Protocol)
		}
		r.Protocol = ProtoKeepalived
	}
	if !prioSet {
		next := &p.rulePrio4
		if r.Family == vrrp.IPv6 {
			next = &p.rulePrio6
		}
		if *next == 0 {
			*next = 16384
		}
		r.Priority = *next
		*next--
		p.warn(n, "%s: no preference; keepalived uses %d (probably not what you want)", rp.what(), r.Priority)
	}
	return r, true, nil
}

// ipProtos are the IP protocol names ipproto takes (/etc/protocols).
var ipProtos = map[string]int{"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50,
	"ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "vrrp": 112}

// routes reads a virtual_routes or static_routes block.
func (p *parser) routes(blk *node) ([]Route, error) { return readLines(p, blk, p.route) }

// rules reads a virtual_rules or static_rules block.
func (p *parser) rules(blk *node) ([]Rule, error) { return readLines(p, blk, p.rule) }

// readLines reads each value line of blk with read (given the block's
// keyword), keeping the entries it returns with ok; the first error ends
// it.
func readLines[T any](p *parser, blk *node, read func(block string, n *node) (T, bool, error)) ([]T, error) {
	lines, err := p.valueLines(blk)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, n := range lines {
		v, ok, err := read(blk.kw(), n)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// staticAddresses reads a static_ipaddress block: address lines as in
// virtual_ipaddress.
func (p *parser) staticAddresses(blk *node) ([]VIP, error) {
	lines, err := p.valueLines(blk)
	if err != nil {
		return nil, err
	}
	var out []VIP
	for _, n := range lines {
		v, err := p.vip(n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseScope parses a scope as `ip` takes it: global (universe), site,
// link, host, nowhere, or a number 0-255.
func ParseScope(s string) (int, error) {
	switch s {
	case "global", "universe":
		return 0, nil
	case "site":
		return 200, nil
	case "link":
		return 253, nil
	case "host":
		return 254, nil
	case "nowhere":
		return 255, nil
	}
	n, ok := parseUint(s)
	if !ok || n > 255 {
		return 0, fmt.Errorf("unknown scope %q", s)
	}
	return int(n), nil
}
