package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ifNameMax is IFNAMSIZ-1.
const ifNameMax = 15

func (p *parser) instance(blk *node) error {
	if len(blk.words) != 2 {
		return errAt(blk, "vrrp_instance: expected one name, got %q", strings.Join(blk.words[1:], " "))
	}
	if err := needBlock(blk); err != nil {
		return err
	}
	in := &Instance{Name: blk.words[1], File: blk.file, Line: blk.line, Other: map[string][]string{}}
	if prev := p.k.Instance(in.Name); prev != nil {
		return errAt(blk, "duplicate vrrp_instance %q (first defined at %s)", in.Name, prev.Pos())
	}
	g := &p.k.Global
	in.GarpMasterDelay = -1
	in.GarpMasterRepeat = -1
	in.GarpMasterRefresh = -1
	in.GarpMasterRefreshRepeat = -1
	strict := -1
	for _, n := range blk.children {
		var err error
		switch kw := n.kw(); kw {
		case "state":
			var s string
			if s, err = arg(n, 1); err != nil {
				break
			}
			p.extra(n, 2)
			p.noBlock(n)
			switch s {
			case "MASTER":
				in.State = s
			case "BACKUP":
				if in.State == "MASTER" {
					p.warn(n, "state previously set to MASTER; keepalived ignores BACKUP")
				} else {
					in.State = s
				}
			default:
				p.warn(n, "state: unknown state %q (MASTER or BACKUP, upper case); keepalived uses BACKUP", s)
				in.State = "BACKUP"
			}
		case "interface":
			if in.Interface, err = arg(n, 1); err != nil {
				break
			}
			p.extra(n, 2)
			p.noBlock(n)
			if len(in.Interface) > ifNameMax {
				err = errAt(n, "interface: name %q is longer than %d characters", in.Interface, ifNameMax)
			}
		case "virtual_router_id":
			var v uint64
			v, err = p.uintArg(n, 1, 255)
			in.VRID = uint8(v)
		case "priority":
			var v uint64
			v, err = p.uintArg(n, 1, 255)
			in.Priority = uint8(v)
			in.priorityLine = true
		case "advert_int":
			in.AdvertInt, err = p.timerArg(n, 10*time.Millisecond, 255*time.Second)
		case "version":
			var v uint64
			if v, err = p.uintArg(n, 2, 3); err != nil {
				if len(n.words) > 1 {
					err = errAt(n, "version: expected 2 or 3, got %q", n.words[1])
				}
				break
			}
			switch {
			case in.Version != 0 && in.Version != int(v):
				p.warn(n, "version %d conflicts with the version %d set before; keepalived ignores it", v, in.Version)
			case v == 2 && in.family == vrrp.IPv6:
				p.warn(n, "version 2 conflicts with the IPv6 addresses before it; keepalived ignores it")
			default:
				in.Version = int(v)
			}
		case "native_ipv6":
			p.noBlock(n)
			if in.family == vrrp.IPv4 {
				p.warn(n, "native_ipv6 with IPv4 addresses; keepalived ignores it")
				break
			}
			in.family = vrrp.IPv6
			in.Version = 3
		case "authentication":
			err = p.auth(n, in)
		case "virtual_ipaddress":
			err = p.vips(n, in, &in.VIPs, true)
		case "virtual_ipaddress_excluded":
			err = p.vips(n, in, &in.ExcludedVIPs, false)
		case "unicast_peer":
			in.unicastConfig = true
			err = p.peers(n, in)
		case "unicast_src_ip", "mcast_src_ip":
			if kw == "unicast_src_ip" {
				in.unicastConfig = true
			}
			p.extra(n, 2)
			var a netip.Addr
			if a, err = p.addrArg(n); err != nil {
				break
			}
			if !p.setFamily(n, in, a, kw+" "+a.String()) {
				break
			}
			if kw == "unicast_src_ip" {
				in.UnicastSrcIP = a
			} else {
				in.McastSrcIP = a
			}
		case "mcast_dst_ip":
			p.extra(n, 2)
			var a netip.Addr
			if a, err = p.addrArg(n); err != nil {
				break
			}
			if !p.setFamily(n, in, a, kw+" "+a.String()) {
				break
			}
			if (a.Is4() && !a.IsMulticast()) || (a.Is6() && !a.IsLinkLocalMulticast()) {
				p.warn(n, "mcast_dst_ip %s is not a (link-local) multicast address; keepalived ignores it", a)
				break
			}
			in.McastDstIP = a
		case "track_interface":
			in.TrackInterfaces, err = p.trackInterfaces(n, in.TrackInterfaces)
		case "track_script":
			in.TrackScripts, err = p.trackScripts(n, in.TrackScripts)
		case "nopreempt":
			p.noBlock(n)
			in.Nopreempt = true
		case "preempt":
			p.noBlock(n)
			in.Nopreempt = false
		case "preempt_delay":
			in.PreemptDelay, err = p.timerArg(n, 0, 1000*time.Second)
		case "accept", "no_accept":
			p.noBlock(n)
			v := kw == "accept"
			in.Accept = &v
		case "strict_mode":
			var v bool
			if v, err = p.boolArg(n); err == nil {
				strict = 0
				if v {
					strict = 1
				}
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			var cmd string
			if cmd, _, _, err = p.scriptArg(n); err != nil {
				break
			}
			f := notifyField(kw, &in.NotifyMaster, &in.NotifyBackup, &in.NotifyFault, &in.NotifyStop, &in.Notify)
			if *f != "" {
				p.warn(n, "%s script already given; keepalived ignores this one", kw)
				break
			}
			*f = cmd
		case "garp_master_delay":
			p.soften(p.setDuration(&in.GarpMasterDelay, func() (time.Duration, error) { return p.secondsArg(n, maxSeconds) }))
		case "garp_master_repeat":
			p.soften(p.setInt(&in.GarpMasterRepeat, func() (int, error) { return p.repeatArg(n) }))
		case "garp_master_refresh":
			p.soften(p.setDuration(&in.GarpMasterRefresh, func() (time.Duration, error) { return p.secondsArg(n, 1<<32-1) }))
		case "garp_master_refresh_repeat":
			p.soften(p.setInt(&in.GarpMasterRefreshRepeat, func() (int, error) { return p.repeatArg(n) }))
		case "use_vmac":
			p.noBlock(n)
			in.UseVMAC = true
			for _, w := range n.words[1:] {
				if !looksLikeMAC(w) && in.VMACInterface == "" {
					in.VMACInterface = w
				}
			}
		case "dont_track_primary":
			p.noBlock(n)
			in.DontTrackPrimary = true
		default:
			if knownInstance[kw] {
				if kw == "unicast_fault_no_peer" || kw == "check_unicast_src" || kw == "old_unicast_checksum" {
					in.unicastConfig = true
				}
				other(in.Other, n)
			} else {
				p.skip(n, false, "vrrp_instance "+in.Name)
			}
		}
		if err != nil {
			return err
		}
	}
	in.Strict = g.Strict
	if strict >= 0 {
		in.Strict = strict == 1
	}
	if in.VRID == 0 {
		return errAt(blk, "vrrp_instance %s: missing virtual_router_id (keepalived refuses the instance)", in.Name)
	}
	if in.Interface == "" && !(len(in.UnicastPeers) > 0 && in.SrcIP().IsValid()) {
		return errAt(blk, "vrrp_instance %s: missing interface (keepalived refuses the instance; only a unicast instance with unicast_src_ip may omit it)", in.Name)
	}
	p.k.Instances = append(p.k.Instances, in)
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
func (p *parser) setFamily(n *node, in *Instance, a netip.Addr, what string) bool {
	f := vrrp.IPv4
	if a.Is6() {
		f = vrrp.IPv6
	}
	if in.family == vrrp.FamilyUnknown {
		in.family = f
		return true
	}
	if in.family != f {
		p.warn(n, "%s: address family differs from the instance's (%s); keepalived ignores it", what, in.family)
		return false
	}
	return true
}

func (p *parser) auth(blk *node, in *Instance) error {
	if err := needBlock(blk); err != nil {
		return err
	}
	for _, n := range blk.children {
		switch n.kw() {
		case "auth_type":
			t, err := arg(n, 1)
			if err != nil {
				return err
			}
			p.extra(n, 2)
			p.noBlock(n)
			switch t {
			case "PASS", "AH":
				in.Auth.Type = t
			default:
				p.warn(n, "auth_type: unknown type %q (PASS or AH); keepalived ignores it", t)
			}
		case "auth_pass":
			s, err := arg(n, 1)
			if err != nil {
				return err
			}
			p.extra(n, 2)
			p.noBlock(n)
			in.Auth.Pass = s
			if len(s) > vrrp.AuthDataLen {
				p.warn(n, "auth_pass is %d characters long; only the first %d are used", len(s), vrrp.AuthDataLen)
			}
		default:
			p.skip(n, false, "authentication")
		}
	}
	return nil
}

// vips parses a virtual_ipaddress(_excluded) block.
func (p *parser) vips(blk *node, in *Instance, list *[]VIP, advertised bool) error {
	lines, err := p.valueLines(blk)
	if err != nil {
		return err
	}
	for _, n := range lines {
		v, err := p.vip(n)
		if err != nil {
			return err
		}
		if advertised && !p.setFamily(n, in, v.Prefix.Addr(), "virtual_ipaddress "+v.Prefix.String()) {
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
			val := w[i]
			switch opt {
			case "dev":
				if v.Dev != "" {
					return v, errAt(n, "address %s: dev given twice", w[0])
				}
				v.Dev = val
			case "scope":
				v.Scope = val
			case "broadcast", "brd":
				if pf.Addr().Is6() {
					return v, errAt(n, "address %s: broadcast for an IPv6 address", w[0])
				}
				if val != "+" && val != "-" {
					if a, err := parseAddr(val); err != nil || !a.Is4() {
						return v, errAt(n, "address %s: invalid broadcast address %q", w[0], val)
					}
				}
				v.Brd = val
			case "label":
				if len(val) > ifNameMax {
					return v, errAt(n, "address %s: label %q is longer than %d characters", w[0], val, ifNameMax)
				}
				v.Label = val
			case "peer":
				a, err := parseAddr(val)
				if err != nil || a.Is4() != pf.Addr().Is4() {
					p.warn(n, "address %s: invalid peer %q ignored", w[0], val)
					continue
				}
				v.Peer = a
			case "track_group":
				p.warn(n, "address %s: track_group is only for static addresses; ignored", w[0])
			}
		case "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "use_vmac":
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

func (p *parser) peers(blk *node, in *Instance) error {
	lines, err := p.valueLines(blk)
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
		if !p.setFamily(n, in, a, "unicast_peer "+a.String()) {
			continue
		}
		in.UnicastPeers = append(in.UnicastPeers, a)
	}
	return nil
}

// complete applies keepalived's defaults and corrections
// (vrrp_complete_instance), warning about each correction.
func (p *parser) complete(in *Instance) {
	g := &p.k.Global
	at := &node{stmt: stmt{file: in.File, line: in.Line}}
	fam := in.Family()
	if fam == vrrp.IPv6 {
		switch {
		case in.Version == 2 && in.Strict:
			p.warn(at, "vrrp_instance %s: IPv6 cannot use VRRP version 2 in strict mode; keepalived uses version 3", in.Name)
			in.Version = 3
		case in.Version == 2:
			p.warn(at, "vrrp_instance %s: VRRP version 2 with IPv6 addresses is not standard (RFC 5798 uses version 3)", in.Name)
		}
	}
	if in.Version == 0 {
		in.Version = g.VRRPVersion
		if fam == vrrp.IPv6 {
			in.Version = 3
		}
	}
	if len(in.VIPs) == 0 {
		if in.Version == 3 || in.Strict {
			p.warn(at, "vrrp_instance %s: no virtual_ipaddress; keepalived refuses the instance", in.Name)
		} else {
			p.warn(at, "vrrp_instance %s: no virtual_ipaddress", in.Name)
		}
	}
	if !in.priorityLine {
		in.Priority = 100
		if in.State == "MASTER" {
			in.Priority = 255
			p.warn(at, "vrrp_instance %s: state MASTER without a priority; keepalived uses priority 255 (address owner)", in.Name)
		}
	}
	switch {
	case in.State == "":
		in.State = "BACKUP"
		if in.Priority == 255 {
			in.State = "MASTER"
		}
	case in.Strict && (in.State == "MASTER") != (in.Priority == 255):
		p.warn(at, "vrrp_instance %s: in strict mode state MASTER requires priority 255 and vice versa; keepalived corrects the state", in.Name)
		in.State = "BACKUP"
		if in.Priority == 255 {
			in.State = "MASTER"
		}
	}
	if in.Auth.Type == "" && in.Auth.Pass != "" {
		p.warn(at, "vrrp_instance %s: auth_pass without auth_type; no authentication is used", in.Name)
	}
	if in.Auth.Type != "" {
		var why string
		switch {
		case in.Strict:
			why = "strict mode does not support authentication"
		case in.Version == 3:
			why = "VRRP version 3 does not support authentication"
		case in.Auth.Pass == "":
			why = "authentication without auth_pass"
		case fam == vrrp.IPv6 && in.Auth.Type == "AH":
			why = "AH authentication does not work with IPv6"
		}
		if why != "" {
			p.warn(at, "vrrp_instance %s: %s; keepalived ignores the authentication", in.Name, why)
			in.Auth.Type = ""
		}
	}
	if in.AdvertInt == 0 {
		in.AdvertInt = time.Second
	}
	if in.Version == 2 {
		if r := in.AdvertInt % time.Second; r != 0 {
			rounded := (in.AdvertInt + time.Second/2).Truncate(time.Second)
			if rounded == 0 {
				rounded = time.Second
			}
			p.warn(at, "vrrp_instance %s: advert_int %s is not whole seconds, which VRRP version 2 needs; keepalived rounds it to %s", in.Name, secs(in.AdvertInt), secs(rounded))
			in.AdvertInt = rounded
		}
	} else {
		const cs = 10 * time.Millisecond
		if in.AdvertInt >= 4096*cs {
			p.warn(at, "vrrp_instance %s: advert_int %s is too long for VRRP version 3; keepalived uses 40.95", in.Name, secs(in.AdvertInt))
			in.AdvertInt = 4095 * cs
		} else if in.AdvertInt%cs != 0 {
			rounded := (in.AdvertInt + cs/2).Truncate(cs)
			if rounded == 0 {
				rounded = cs
			}
			p.warn(at, "vrrp_instance %s: advert_int %s is not in units of 10ms, which VRRP version 3 needs; keepalived rounds it to %s", in.Name, secs(in.AdvertInt), secs(rounded))
			in.AdvertInt = rounded
		}
	}
	if in.Priority == 255 && in.Nopreempt {
		p.warn(at, "vrrp_instance %s: nopreempt does not apply to priority 255; keepalived clears it", in.Name)
		in.Nopreempt = false
	}
	if in.State == "MASTER" {
		if in.Nopreempt {
			p.warn(at, "vrrp_instance %s: nopreempt does not work with state MASTER; keepalived clears it", in.Name)
			in.Nopreempt = false
		}
		if in.PreemptDelay != 0 {
			p.warn(at, "vrrp_instance %s: preempt_delay does not work with state MASTER; keepalived clears it", in.Name)
			in.PreemptDelay = 0
		}
	}
	if in.PreemptDelay != 0 && (in.Strict || in.Nopreempt) {
		p.warn(at, "vrrp_instance %s: preempt_delay is incompatible with strict mode and nopreempt; keepalived clears it", in.Name)
		in.PreemptDelay = 0
	}
	if in.unicastConfig && len(in.UnicastPeers) == 0 {
		p.warn(at, "vrrp_instance %s: unicast settings without unicast_peer; keepalived uses multicast", in.Name)
	}
	kept := in.TrackInterfaces[:0]
	for _, t := range in.TrackInterfaces {
		if t.Name == in.Interface {
			p.warn(at, "vrrp_instance %s: track_interface %s is the instance's own interface; keepalived ignores it", in.Name, t.Name)
			continue
		}
		kept = append(kept, t)
	}
	in.TrackInterfaces = kept
	if len(kept) == 0 {
		in.TrackInterfaces = nil
	}
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
