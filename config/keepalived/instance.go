package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ifNameMax is IFNAMSIZ-1.
const ifNameMax = 15

// instanceReader reads the keywords of one vrrp_instance block.
type instanceReader struct {
	*parser
	in *Instance
	// strictMode is strict_mode, nil when not given (the global
	// vrrp_strict then applies).
	strictMode *bool
}

// instanceKeyword reads one keyword of a vrrp_instance block (and its
// block); an error is fatal.
type instanceKeyword func(r *instanceReader, n *node) error

// instanceKeywords are the vrrp_instance keywords vrrpguard reads; the
// others keepalived knows (keywordTable) are kept in Instance.Other with a
// warning.
var instanceKeywords = map[string]instanceKeyword{
	"state":             (*instanceReader).state,
	"interface":         (*instanceReader).iface,
	"virtual_router_id": (*instanceReader).vrid,
	"priority":          (*instanceReader).priority,
	"advert_int":        (*instanceReader).advertInt,
	"version":           (*instanceReader).version,
	"native_ipv6":       (*instanceReader).nativeIPv6,
	"authentication":    (*instanceReader).auth,
	"virtual_ipaddress": func(r *instanceReader, n *node) error { return r.vips(n, &r.in.VIPs, true) },
	"virtual_ipaddress_excluded": func(r *instanceReader, n *node) error {
		return r.vips(n, &r.in.ExcludedVIPs, false)
	},
	"unicast_peer":   (*instanceReader).peers,
	"unicast_src_ip": (*instanceReader).srcIP,
	"mcast_src_ip":   (*instanceReader).srcIP,
	"mcast_dst_ip":   (*instanceReader).mcastDstIP,
	"track_interface": func(r *instanceReader, n *node) (err error) {
		r.in.TrackInterfaces, err = r.trackInterfaces(n, r.in.TrackInterfaces)
		return err
	},
	"track_script": func(r *instanceReader, n *node) (err error) {
		r.in.TrackScripts, err = r.trackScripts(n, r.in.TrackScripts)
		return err
	},
	"track_process": func(r *instanceReader, n *node) (err error) {
		r.in.TrackProcesses, err = r.trackProcesses(n, r.in.TrackProcesses)
		return err
	},
	"track_file": func(r *instanceReader, n *node) (err error) {
		r.in.TrackFiles, err = r.trackFiles(n, r.in.TrackFiles)
		return err
	},
	"nopreempt":                  func(r *instanceReader, n *node) error { return r.flag(n, &r.in.Nopreempt, true) },
	"preempt":                    func(r *instanceReader, n *node) error { return r.flag(n, &r.in.Nopreempt, false) },
	"preempt_delay":              (*instanceReader).preemptDelay,
	"accept":                     (*instanceReader).accept,
	"no_accept":                  (*instanceReader).accept,
	"strict_mode":                (*instanceReader).strict,
	"notify_master":              (*instanceReader).notify,
	"notify_backup":              (*instanceReader).notify,
	"notify_fault":               (*instanceReader).notify,
	"notify_stop":                (*instanceReader).notify,
	"notify":                     (*instanceReader).notify,
	"notify_master_rx_lower_pri": (*instanceReader).notify,
	"notify_priority_changes": func(r *instanceReader, n *node) error {
		return r.softly(r.optBool(n, &r.in.notifyPrio))
	},
	"virtual_routes": func(r *instanceReader, n *node) error {
		rs, err := r.routes(n)
		r.in.Routes = append(r.in.Routes, rs...)
		return err
	},
	"virtual_rules": func(r *instanceReader, n *node) error {
		rs, err := r.rules(n)
		r.in.Rules = append(r.in.Rules, rs...)
		return err
	},
	// An instance's gratuitous ARP settings do not change what is expected
	// on the wire: like keepalived, report a bad value and carry on.
	"garp_master_delay": func(r *instanceReader, n *node) error {
		return r.softly(r.seconds(n, &r.in.GarpMasterDelay, maxSeconds))
	},
	"garp_master_repeat": func(r *instanceReader, n *node) error {
		return r.softly(r.repeat(n, &r.in.GarpMasterRepeat))
	},
	"garp_master_refresh": func(r *instanceReader, n *node) error {
		return r.softly(r.seconds(n, &r.in.GarpMasterRefresh, 1<<32-1))
	},
	"garp_master_refresh_repeat": func(r *instanceReader, n *node) error {
		return r.softly(r.repeat(n, &r.in.GarpMasterRefreshRepeat))
	},
	"use_vmac":           (*instanceReader).useVMAC,
	"dont_track_primary": func(r *instanceReader, n *node) error { return r.flag(n, &r.in.DontTrackPrimary, true) },
	// Like keepalived, a bad value of these is reported and ignored.
	"smtp_alert": func(r *instanceReader, n *node) error {
		v, err := r.boolArg(n)
		if err == nil {
			r.in.SMTPAlert, r.in.smtpAlertSet = v, true
		}
		return r.softly(err)
	},
	"unicast_ttl": func(r *instanceReader, n *node) error {
		v, err := r.uintArg(n, 0, 255)
		if err == nil {
			ttl := uint8(v)
			r.in.UnicastTTL = &ttl
			r.extra(n, 2)
		}
		return r.softly(err)
	},
}

// instance reads a vrrp_instance block.
func (p *parser) instance(blk *node) error {
	in, err := p.newInstance(blk)
	if err != nil {
		return err
	}
	r := &instanceReader{parser: p, in: in}
	for _, n := range blk.children {
		if err := r.keyword(n); err != nil {
			return err
		}
	}
	return r.finish(blk)
}

// newInstance checks the "vrrp_instance NAME {" line and starts the
// instance, with the gratuitous ARP settings not set (-1) until complete.
func (p *parser) newInstance(blk *node) (*Instance, error) {
	name, err := blockName(blk)
	if err != nil {
		return nil, err
	}
	in := &Instance{Name: name, File: blk.file, Line: blk.line, Other: map[string][]string{},
		GarpMasterDelay: -1, GarpMasterRepeat: -1, GarpMasterRefresh: -1, GarpMasterRefreshRepeat: -1}
	if prev := p.k.Instance(in.Name); prev != nil {
		return nil, errAt(blk, "duplicate vrrp_instance %q (first defined at %s)", in.Name, prev.Pos())
	}
	return in, nil
}

// keyword reads one statement of the block: a keyword vrrpguard reads, one
// keepalived knows (kept in Other), or an unknown one (a warning).
func (r *instanceReader) keyword(n *node) error {
	kw := n.kw()
	if read, ok := instanceKeywords[kw]; ok {
		if err := read(r, n); err != nil {
			return err
		}
		r.read("vrrp_instance", n)
		return nil
	}
	if kw == "unicast_fault_no_peer" || kw == "check_unicast_src" || kw == "old_unicast_checksum" {
		r.in.unicastConfig = true
	}
	r.known("vrrp_instance", "vrrp_instance "+r.in.Name, n, r.in.Other)
	return nil
}

// finish settles strict mode and checks what keepalived requires of every
// instance, then adds it.
func (r *instanceReader) finish(blk *node) error {
	in := r.in
	in.Strict = r.k.Global.Strict
	if r.strictMode != nil {
		in.Strict = *r.strictMode
	}
	if in.VRID == 0 {
		return errAt(blk, "vrrp_instance %s: missing virtual_router_id (keepalived refuses the instance)", in.Name)
	}
	if in.Interface == "" && !(len(in.UnicastPeers) > 0 && in.SrcIP().IsValid()) {
		return errAt(blk, "vrrp_instance %s: missing interface (keepalived refuses the instance; only a unicast instance with unicast_src_ip may omit it)", in.Name)
	}
	r.k.Instances = append(r.k.Instances, in)
	return nil
}

// softly reports err as a warning (keepalived ignores the value) and
// carries on.
func (r *instanceReader) softly(err error) error {
	r.soften(err)
	return nil
}

// flag sets a keyword without value.
func (r *instanceReader) flag(n *node, dst *bool, v bool) error {
	r.noBlock(n)
	*dst = v
	return nil
}

func (r *instanceReader) state(n *node) error {
	s, err := r.value(n)
	if err != nil {
		return err
	}
	switch s {
	case "MASTER":
		r.in.State = s
	case "BACKUP":
		if r.in.State == "MASTER" {
			r.warn(n, "state previously set to MASTER; keepalived ignores BACKUP")
		} else {
			r.in.State = s
		}
	default:
		r.warn(n, "state: unknown state %q (MASTER or BACKUP, upper case); keepalived uses BACKUP", s)
		r.in.State = "BACKUP"
	}
	return nil
}

func (r *instanceReader) iface(n *node) error {
	name, err := r.value(n)
	if err != nil {
		return err
	}
	if len(name) > ifNameMax {
		return errAt(n, "interface: name %q is longer than %d characters", name, ifNameMax)
	}
	r.in.Interface = name
	return nil
}

func (r *instanceReader) vrid(n *node) error {
	v, err := r.uintArg(n, 1, 255)
	r.in.VRID = uint8(v)
	return err
}

func (r *instanceReader) priority(n *node) error {
	v, err := r.uintArg(n, 1, 255)
	r.in.Priority = uint8(v)
	r.in.priorityLine = true
	return err
}

func (r *instanceReader) advertInt(n *node) (err error) {
	r.in.AdvertInt, err = r.timerArg(n, 10*time.Millisecond, 255*time.Second)
	return err
}

func (r *instanceReader) version(n *node) error {
	v, err := r.uintArg(n, 2, 3)
	if err != nil {
		if len(n.words) > 1 {
			err = errAt(n, "version: expected 2 or 3, got %q", n.words[1])
		}
		return err
	}
	in := r.in
	switch {
	case in.Version != 0 && in.Version != int(v):
		r.warn(n, "version %d conflicts with the version %d set before; keepalived ignores it", v, in.Version)
	case v == 2 && in.family == vrrp.IPv6:
		r.warn(n, "version 2 conflicts with the IPv6 addresses before it; keepalived ignores it")
	default:
		in.Version = int(v)
	}
	return nil
}

func (r *instanceReader) nativeIPv6(n *node) error {
	r.noBlock(n)
	if r.in.family == vrrp.IPv4 {
		r.warn(n, "native_ipv6 with IPv4 addresses; keepalived ignores it")
		return nil
	}
	r.in.family = vrrp.IPv6
	r.in.Version = 3
	return nil
}

// familyAddr reads an address argument that sets or must match the
// instance's family; ok is false if keepalived ignores it (warned).
func (r *instanceReader) familyAddr(n *node) (a netip.Addr, ok bool, err error) {
	r.extra(n, 2)
	if a, err = r.addrArg(n); err != nil {
		return a, false, err
	}
	return a, r.setFamily(n, a, n.kw()+" "+a.String()), nil
}

// srcIP reads unicast_src_ip and mcast_src_ip.
func (r *instanceReader) srcIP(n *node) error {
	unicast := n.kw() == "unicast_src_ip"
	if unicast {
		r.in.unicastConfig = true
	}
	a, ok, err := r.familyAddr(n)
	switch {
	case !ok:
	case unicast:
		r.in.UnicastSrcIP = a
	default:
		r.in.McastSrcIP = a
	}
	return err
}

func (r *instanceReader) mcastDstIP(n *node) error {
	a, ok, err := r.familyAddr(n)
	if !ok {
		return err
	}
	if (a.Is4() && !a.IsMulticast()) || (a.Is6() && !a.IsLinkLocalMulticast()) {
		r.warn(n, "mcast_dst_ip %s is not a (link-local) multicast address; keepalived ignores it", a)
		return nil
	}
	r.in.McastDstIP = a
	return nil
}

func (r *instanceReader) preemptDelay(n *node) (err error) {
	r.in.PreemptDelay, err = r.timerArg(n, 0, 1000*time.Second)
	return err
}

func (r *instanceReader) accept(n *node) error {
	r.noBlock(n)
	v := n.kw() == "accept"
	r.in.Accept = &v
	return nil
}

func (r *instanceReader) strict(n *node) error {
	v, err := r.boolArg(n)
	return assign(&r.strictMode)(&v, err)
}

// notify reads notify_master, notify_backup, notify_fault, notify_stop
// and notify.
func (r *instanceReader) notify(n *node) error {
	cmd, user, group, err := r.scriptArg(n)
	if err != nil {
		return err
	}
	in := r.in
	f := notifyField(n.kw(), &in.NotifyMaster, &in.NotifyBackup, &in.NotifyFault, &in.NotifyStop, &in.Notify)
	if n.kw() == "notify_master_rx_lower_pri" {
		f = &in.NotifyMasterRxLowerPri
	}
	if *f != "" {
		r.warn(n, "%s script already given; keepalived ignores this one", n.kw())
		return nil
	}
	*f = cmd
	if in.NotifyLines == nil {
		in.NotifyLines = map[string]ScriptLine{}
	}
	in.NotifyLines[n.kw()] = ScriptLine{Cmd: cmd, RunAs: RunAs{User: user, Group: group}, File: n.file, Line: n.line}
	return nil
}

func (r *instanceReader) useVMAC(n *node) error {
	r.noBlock(n)
	r.in.UseVMAC = true
	for _, w := range n.words[1:] {
		if !looksLikeMAC(w) && r.in.VMACInterface == "" {
			r.in.VMACInterface = w
		}
	}
	return nil
}

func looksLikeMAC(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 5 && len(parts) != 6 {
		return false
	}
	for _, x := range parts {
		if len(x) != 2 || !isHex(x[0]) || !isHex(x[1]) {
			return false
		}
	}
	return true
}

// setFamily records the instance's family from the first address that
// sets it, and reports whether a (later) address matches it.
func (r *instanceReader) setFamily(n *node, a netip.Addr, what string) bool {
	in := r.in
	f := vrrp.IPv4
	if a.Is6() {
		f = vrrp.IPv6
	}
	if in.family == vrrp.FamilyUnknown {
		in.family = f
		return true
	}
	if in.family != f {
		r.warn(n, "%s: address family differs from the instance's (%s); keepalived ignores it", what, in.family)
		return false
	}
	return true
}

func (r *instanceReader) auth(blk *node) error {
	p, in := r.parser, r.in
	if err := needBlock(blk); err != nil {
		return err
	}
	for _, n := range blk.children {
		switch n.kw() {
		case "auth_type":
			t, err := p.value(n)
			if err != nil {
				return err
			}
			switch t {
			case "PASS", "AH":
				in.Auth.Type = t
			default:
				p.warn(n, "auth_type: unknown type %q (PASS or AH); keepalived ignores it", t)
			}
		case "auth_pass":
			s, err := p.value(n)
			if err != nil {
				return err
			}
			in.Auth.Pass = s
			if len(s) > vrrp.AuthDataLen {
				p.warn(n, "auth_pass is %d characters long; only the first %d are used", len(s), vrrp.AuthDataLen)
			}
		default:
			p.skip(n, "authentication")
		}
	}
	return nil
}

// vips parses a virtual_ipaddress(_excluded) block.
func (r *instanceReader) vips(blk *node, list *[]VIP, advertised bool) error {
	lines, err := r.valueLines(blk)
	if err != nil {
		return err
	}
	for _, n := range lines {
		v, err := r.vip(n)
		if err != nil {
			return err
		}
		if advertised && !r.setFamily(n, v.Prefix.Addr(), "virtual_ipaddress "+v.Prefix.String()) {
			continue
		}
		*list = append(*list, v)
	}
	return nil
}

// vip parses one address line: ADDR[/LEN] [dev IF] [brd ADDR] [scope S]
// [label L] [peer ADDR] and flags, as keepalived's alloc_ipaddress().
func (p *parser) vip(n *node) (VIP, error) {
	v := VIP{Raw: n.raw, File: n.file, Line: n.line}
	pf, err := ParseVIP(n.words[0])
	if err != nil {
		return v, errAt(n, "invalid address %q: expected ADDRESS[/PREFIXLEN]", n.words[0])
	}
	v.Prefix = pf
	w := n.words
	for i := 1; i < len(w); i++ {
		opt := w[i]
		switch opt {
		case "dev", "scope", "broadcast", "brd", "label", "peer", "preferred_lft", "track_group":
			if i+1 >= len(w) {
				return v, errAt(n, "address %s: %q needs a value", w[0], opt)
			}
			i++
			if err := p.vipOption(n, &v, opt, w[i]); err != nil {
				return v, err
			}
		case "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac":
			p.unusedOption(n, opt, "")
		default:
			p.warn(n, "address %s: unknown option %q; keepalived ignores it", w[0], opt)
		}
	}
	if pf.Addr().Is6() && (v.Scope != "" || v.Label != "") {
		p.warn(n, "address %s: scope and label do not apply to IPv6 addresses; keepalived ignores them", w[0])
		v.Scope, v.Label = "", ""
	}
	return v, nil
}

// vipOption applies an address option that takes a value.
func (p *parser) vipOption(n *node, v *VIP, opt, val string) error {
	addr := n.words[0]
	switch opt {
	case "dev":
		if v.Dev != "" {
			return errAt(n, "address %s: dev given twice", addr)
		}
		v.Dev = val
	case "scope":
		v.Scope = val
	case "broadcast", "brd":
		if v.Prefix.Addr().Is6() {
			return errAt(n, "address %s: broadcast for an IPv6 address", addr)
		}
		if val != "+" && val != "-" {
			if a, err := parseAddr(val); err != nil || !a.Is4() {
				return errAt(n, "address %s: invalid broadcast address %q", addr, val)
			}
		}
		v.Brd = val
	case "label":
		if len(val) > ifNameMax {
			return errAt(n, "address %s: label %q is longer than %d characters", addr, val, ifNameMax)
		}
		v.Label = val
	case "peer":
		a, err := parseAddr(val)
		if err != nil || a.Is4() != v.Prefix.Addr().Is4() {
			p.warn(n, "address %s: invalid peer %q ignored", addr, val)
			return nil
		}
		v.Peer = a
	case "track_group", "preferred_lft":
		p.unusedOption(n, opt, val)
	}
	return nil
}

// unusedOption warns about an address option vrrpguard does not apply,
// saying what keepalived would do (the table's virtual_ipaddress rows).
func (p *parser) unusedOption(n *node, opt, val string) {
	k, _ := lookupKeyword("virtual_ipaddress", opt)
	if val != "" {
		opt += " " + val
	}
	p.warn(n, "address %s: option '%s' is not used by vrrpguard; keepalived would %s", n.words[0], opt, k.Keepalived)
}

// ParseVIP parses an address as virtual_ipaddress takes it: ADDR or
// ADDR/LEN, keeping host bits (10.0.0.100/24 stays 10.0.0.100/24); a bare
// address is a full-length prefix. Zones are refused and IPv4-mapped IPv6
// addresses are unmapped.
func ParseVIP(s string) (netip.Prefix, error) {
	addr, bits, hasLen := strings.Cut(s, "/")
	a, err := parseAddr(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	n := a.BitLen()
	if hasLen {
		v, ok := parseUint(bits)
		if !ok || v > uint64(a.BitLen()) {
			return netip.Prefix{}, fmt.Errorf("bad prefix length %q", bits)
		}
		n = int(v)
	}
	return netip.PrefixFrom(a, n), nil
}

// peers reads a unicast_peer block.
func (r *instanceReader) peers(blk *node) error {
	r.in.unicastConfig = true
	p, in := r.parser, r.in
	lines, err := r.valueLines(blk)
	if err != nil {
		return err
	}
	for _, n := range lines {
		a, err := parseAddr(n.words[0])
		if err != nil {
			return errAt(n, "unicast_peer: expected an IP address, got %q", n.words[0])
		}
		w := n.words
		for i := 1; i < len(w); i += 2 {
			if i+1 >= len(w) {
				p.warn(n, "unicast_peer %s: %q is missing a value", a, w[i])
				break
			}
			if w[i] != "min_ttl" && w[i] != "max_ttl" {
				p.warn(n, "unicast_peer %s: unknown option %q ignored", a, w[i])
				break
			}
			if v, ok := parseUint(w[i+1]); !ok || v > 255 {
				p.warn(n, "unicast_peer %s: %s must be 0-255, got %q", a, w[i], w[i+1])
			}
		}
		if !r.setFamily(n, a, "unicast_peer "+a.String()) {
			continue
		}
		in.UnicastPeers = append(in.UnicastPeers, a)
	}
	return nil
}

// complete applies keepalived's defaults and corrections
// (vrrp_complete_instance), warning about each correction, in keepalived's
// order: each step may depend on those before it.
func (p *parser) complete(in *Instance) {
	c := &completion{parser: p, in: in, g: &p.k.Global, at: &node{stmt: stmt{file: in.File, line: in.Line}}}
	c.version()
	c.vips()
	c.priorityAndState()
	c.auth()
	c.advertInt()
	c.preempt()
	c.unicast()
	c.trackInterfaces()
	c.garp()
	c.smtpAlert()
	c.notifyPriorityChanges()
	c.accept()
}

// notifyPriorityChanges defaults notify_priority_changes to the sync
// group's, else the global vrrp_notify_priority_changes (keepalived's
// vrrp_complete_instance).
func (c *completion) notifyPriorityChanges() {
	in := c.in
	if in.notifyPrio != nil {
		in.NotifyPriorityChanges = *in.notifyPrio
		return
	}
	for _, g := range c.k.SyncGroups {
		if g.notifyPrio != nil && slices.Contains(g.Instances, in.Name) {
			in.NotifyPriorityChanges = *g.notifyPrio
			return
		}
	}
	in.NotifyPriorityChanges = c.g.VRRPNotifyPriorityChanges
}

// accept settles accept mode as keepalived's vrrp_complete_instance does.
func (c *completion) accept() {
	in := c.in
	if in.Accept != nil {
		in.AcceptMode = *in.Accept
	} else {
		in.AcceptMode = in.Priority == 255 || !in.Strict
	}
	if in.AcceptMode && in.Priority != 255 && in.Strict && in.Version == 2 {
		c.warnf("accept mode with VRRP version 2 does not comply with RFC 3768 in strict mode; keepalived turns it off")
		in.AcceptMode = false
	}
}

// completion is the completion of one instance.
type completion struct {
	*parser
	in *Instance
	g  *Global
	at *node // the "vrrp_instance NAME" line, where warnings point
}

// warnf warns about the instance: "vrrp_instance NAME: ...".
func (c *completion) warnf(format string, args ...any) {
	c.warn(c.at, "vrrp_instance %s: "+format, append([]any{c.in.Name}, args...)...)
}

// version defaults the version (3 for IPv6, else the global vrrp_version)
// and corrects version 2 over IPv6 in strict mode.
func (c *completion) version() {
	in := c.in
	if in.Family() == vrrp.IPv6 {
		switch {
		case in.Version == 2 && in.Strict:
			c.warnf("IPv6 cannot use VRRP version 2 in strict mode; keepalived uses version 3")
			in.Version = 3
		case in.Version == 2:
			c.warnf("VRRP version 2 with IPv6 addresses is not standard (RFC 5798 uses version 3)")
		}
	}
	if in.Version == 0 {
		in.Version = c.g.VRRPVersion
		if in.Family() == vrrp.IPv6 {
			in.Version = 3
		}
	}
}

// vips warns about an instance without virtual addresses.
func (c *completion) vips() {
	if len(c.in.VIPs) > 0 {
		return
	}
	if c.in.Version == 3 || c.in.Strict {
		c.warnf("no virtual_ipaddress; keepalived refuses the instance")
	} else {
		c.warnf("no virtual_ipaddress")
	}
}

// priorityAndState defaults the priority (100, or 255 for state MASTER)
// and the state (from the priority), and makes them agree in strict mode.
func (c *completion) priorityAndState() {
	in := c.in
	if !in.priorityLine {
		in.Priority = 100
		if in.State == "MASTER" {
			in.Priority = 255
			c.warnf("state MASTER without a priority; keepalived uses priority 255 (address owner)")
		}
	}
	switch {
	case in.State == "":
		in.State = "BACKUP"
		if in.Priority == 255 {
			in.State = "MASTER"
		}
	case in.Strict && (in.State == "MASTER") != (in.Priority == 255):
		c.warnf("in strict mode state MASTER requires priority 255 and vice versa; keepalived corrects the state")
		in.State = "BACKUP"
		if in.Priority == 255 {
			in.State = "MASTER"
		}
	}
}

// auth drops authentication keepalived does not use.
func (c *completion) auth() {
	in := c.in
	if in.Auth.Type == "" && in.Auth.Pass != "" {
		c.warnf("auth_pass without auth_type; no authentication is used")
	}
	if in.Auth.Type == "" {
		return
	}
	var why string
	switch {
	case in.Strict:
		why = "strict mode does not support authentication"
	case in.Version == 3:
		why = "VRRP version 3 does not support authentication"
	case in.Auth.Pass == "":
		why = "authentication without auth_pass"
	case in.Family() == vrrp.IPv6 && in.Auth.Type == "AH":
		why = "AH authentication does not work with IPv6"
	}
	if why != "" {
		c.warnf("%s; keepalived ignores the authentication", why)
		in.Auth.Type = ""
	}
}

// advertInt defaults the interval to 1s and rounds it to what the version
// can carry: whole seconds (version 2) or centiseconds up to 40.95s
// (version 3).
func (c *completion) advertInt() {
	in := c.in
	if in.AdvertInt == 0 {
		in.AdvertInt = time.Second
	}
	if in.Version == 2 {
		if in.AdvertInt%time.Second != 0 {
			rounded := max((in.AdvertInt + time.Second/2).Truncate(time.Second), time.Second)
			c.warnf("advert_int %s is not whole seconds, which VRRP version 2 needs; keepalived rounds it to %s", secs(in.AdvertInt), secs(rounded))
			in.AdvertInt = rounded
		}
		return
	}
	const cs = 10 * time.Millisecond
	if in.AdvertInt >= 4096*cs {
		c.warnf("advert_int %s is too long for VRRP version 3; keepalived uses 40.95", secs(in.AdvertInt))
		in.AdvertInt = 4095 * cs
	} else if in.AdvertInt%cs != 0 {
		rounded := max((in.AdvertInt + cs/2).Truncate(cs), cs)
		c.warnf("advert_int %s is not in units of 10ms, which VRRP version 3 needs; keepalived rounds it to %s", secs(in.AdvertInt), secs(rounded))
		in.AdvertInt = rounded
	}
}

// preempt clears nopreempt and preempt_delay where keepalived does.
func (c *completion) preempt() {
	in := c.in
	if in.Priority == 255 && in.Nopreempt {
		c.warnf("nopreempt does not apply to priority 255; keepalived clears it")
		in.Nopreempt = false
	}
	if in.State == "MASTER" {
		if in.Nopreempt {
			c.warnf("nopreempt does not work with state MASTER; keepalived clears it")
			in.Nopreempt = false
		}
		if in.PreemptDelay != 0 {
			c.warnf("preempt_delay does not work with state MASTER; keepalived clears it")
			in.PreemptDelay = 0
		}
	}
	if in.PreemptDelay != 0 && (in.Strict || in.Nopreempt) {
		c.warnf("preempt_delay is incompatible with strict mode and nopreempt; keepalived clears it")
		in.PreemptDelay = 0
	}
}

// unicast warns about unicast settings without peers.
func (c *completion) unicast() {
	if c.in.unicastConfig && len(c.in.UnicastPeers) == 0 {
		c.warnf("unicast settings without unicast_peer; keepalived uses multicast")
	}
	if c.in.UnicastTTL != nil && len(c.in.UnicastPeers) == 0 {
		// vrrp_parser.c resets the TTL to 0, not to "unset", and vrrp.c
		// then writes that into the IPv4 header of its multicast adverts.
		c.warnf("unicast_ttl without unicast_peer; keepalived 2.2.7 then sends its multicast adverts with TTL 0, which never leave the host (its peers do not hear it); vrrpguard ignores unicast_ttl")
		c.in.UnicastTTL = nil
	}
}

// smtpAlert defaults smtp_alert to the global smtp_alert_vrrp, else the
// global smtp_alert (keepalived's vrrp_complete_instance).
func (c *completion) smtpAlert() {
	if c.in.smtpAlertSet {
		return
	}
	switch g := c.g; {
	case g.SMTPAlertVRRP != nil:
		c.in.SMTPAlert = *g.SMTPAlertVRRP
	case g.SMTPAlert != nil:
		c.in.SMTPAlert = *g.SMTPAlert
	}
}

// trackInterfaces drops the instance's own interface from
// track_interface.
func (c *completion) trackInterfaces() {
	in := c.in
	kept := in.TrackInterfaces[:0]
	for _, t := range in.TrackInterfaces {
		if t.Name == in.Interface {
			c.warnf("track_interface %s is the instance's own interface; keepalived ignores it", t.Name)
			continue
		}
		kept = append(kept, t)
	}
	in.TrackInterfaces = kept
	if len(kept) == 0 {
		in.TrackInterfaces = nil
	}
}

// garp defaults the gratuitous ARP settings to the global ones.
func (c *completion) garp() {
	in, g := c.in, c.g
	if in.GarpMasterDelay < 0 {
		in.GarpMasterDelay = g.GarpMasterDelay
	}
	if in.GarpMasterRepeat < 0 {
		in.GarpMasterRepeat = g.GarpMasterRepeat
	}
	if in.GarpMasterRefresh < 0 {
		in.GarpMasterRefresh = g.GarpMasterRefresh
	}
	if in.GarpMasterRefreshRepeat < 0 {
		in.GarpMasterRefreshRepeat = g.GarpMasterRefreshRepeat
	}
}

// mcastGroup returns the multicast destination of an instance.
func (k *Config) mcastGroup(in *Instance) netip.Addr {
	if in.McastDstIP.IsValid() {
		return in.McastDstIP
	}
	if in.Family() == vrrp.IPv6 {
		return k.Global.McastGroup6
	}
	return k.Global.McastGroup4
}

// validate checks the configuration as a whole.
func (p *parser) validate() error {
	ins := p.k.Instances
	for i, a := range ins {
		for _, b := range ins[:i] {
			if a.VRID != b.VRID || a.Family() != b.Family() || a.Unicast() != b.Unicast() {
				continue
			}
			if a.Interface != b.Interface && a.Interface != "" && b.Interface != "" {
				continue
			}
			if a.Unicast() {
				if !overlap(a.UnicastPeers, b.UnicastPeers) {
					continue
				}
			} else if p.k.mcastGroup(a) != p.k.mcastGroup(b) {
				continue
			}
			return &Error{File: a.File, Line: a.Line, Message: fmt.Sprintf(
				"vrrp_instance %s uses interface %s, VRID %d and %s like vrrp_instance %s (%s)",
				a.Name, ifName(a.Interface), a.VRID, a.Family(), b.Name, b.Pos())}
		}
	}
	for _, sg := range p.k.SyncGroups {
		at := &node{stmt: stmt{file: sg.File, line: sg.Line}}
		for _, name := range sg.Instances {
			if p.k.Instance(name) == nil {
				p.warn(at, "vrrp_sync_group %s: no vrrp_instance %s", sg.Name, name)
			}
		}
	}
	return nil
}

func ifName(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func overlap(a, b []netip.Addr) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// String summarises an instance for messages: name, interface, VRID.
func (in *Instance) String() string {
	return in.Name + " (" + ifName(in.Interface) + " VRID " + strconv.Itoa(int(in.VRID)) + " " + in.Family().String() + ")"
}
