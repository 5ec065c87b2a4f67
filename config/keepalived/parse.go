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

// node is a statement with the block that follows it, if any.
type node struct {
	stmt
	children []*node
	block    bool
}

func (n *node) kw() string { return n.words[0] }

// args returns the statement's arguments joined, for messages.
func (n *node) head() string { return strings.Join(n.words, " ") }

// buildTree nests the statement stream into blocks: a '{' opens a block for
// the statement just before it.
func buildTree(stmts []stmt, mainFile string, eofLine int) (*node, error) {
	root := &node{block: true}
	stack := []*node{root}
	var prev *node
	for _, s := range stmts {
		cur := stack[len(stack)-1]
		switch s.brace {
		case '{':
			if prev == nil || prev.block {
				return nil, &Error{File: s.file, Line: s.line, Message: "unexpected '{' (a block must follow a keyword)"}
			}
			prev.block = true
			stack = append(stack, prev)
			prev = nil
		case '}':
			if len(stack) == 1 {
				return nil, &Error{File: s.file, Line: s.line, Message: "unexpected '}' (no block is open)"}
			}
			stack = stack[:len(stack)-1]
			prev = nil
		default:
			n := &node{stmt: s}
			cur.children = append(cur.children, n)
			prev = n
		}
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		where := "line " + strconv.Itoa(open.line)
		if open.file != mainFile {
			where = open.pos()
		}
		return nil, &Error{File: mainFile, Line: eofLine, Message: fmt.Sprintf("unclosed block '%s' (opened at %s)", open.head(), where)}
	}
	return root, nil
}

type parser struct {
	warnings []Warning
	k        *Config
	// scripts are the vrrp_scripts defined so far: keepalived resolves
	// track_script while reading, so a script defined after the instance
	// tracking it is not found.
	scripts map[string]*Script
	// later are all vrrp_script definitions, to explain the above.
	later map[string]*node
	// root is the tree being parsed.
	root *node
	// rulePrio4 and rulePrio6 are the preferences keepalived gives the
	// next IPv4 and IPv6 rule without one (0: 16384).
	rulePrio4, rulePrio6 uint32
}

func (p *parser) warn(n *node, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{File: n.file, Line: n.line, Message: fmt.Sprintf(format, args...)})
}

func errAt(n *node, format string, args ...any) *Error {
	return &Error{File: n.file, Line: n.line, Message: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(root *node) (*Config, error) {
	p.k = &Config{Global: defaultGlobal()}
	p.scripts = map[string]*Script{}
	p.later = map[string]*node{}
	p.root = root
	for _, n := range root.children {
		if n.kw() == "vrrp_script" && len(n.words) > 1 {
			if _, dup := p.later[n.words[1]]; !dup {
				p.later[n.words[1]] = n
			}
		}
	}
	globalSeen := false
	for _, n := range root.children {
		var err error
		switch kw := n.kw(); kw {
		case "global_defs":
			if err = needBlock(n); err == nil {
				if !globalSeen {
					p.k.Global.File, p.k.Global.Line = n.file, n.line
					globalSeen = true
				}
				err = p.global(n)
			}
		case "vrrp_script":
			err = p.script(n)
		case "vrrp_track_process":
			if err = p.trackProcess(n); err == nil {
				p.read(Top, n)
			}
		case "track_file", "vrrp_track_file":
			if err = p.trackFile(n); err == nil {
				p.read(Top, n)
			}
		case "vrrp_instance":
			err = p.instance(n)
		case "vrrp_sync_group":
			if err = p.syncGroup(n); err == nil {
				p.read(Top, n)
			}
		case "static_ipaddress":
			var vs []VIP
			if vs, err = p.staticAddresses(n); err == nil {
				p.k.StaticAddresses = append(p.k.StaticAddresses, vs...)
			}
		case "static_routes":
			var rs []Route
			if rs, err = p.routes(n); err == nil {
				p.k.StaticRoutes = append(p.k.StaticRoutes, rs...)
			}
		case "static_rules":
			var rs []Rule
			if rs, err = p.rules(n); err == nil {
				p.k.StaticRules = append(p.k.StaticRules, rs...)
			}
		case "net_namespace":
			p.warn(n, "keepalived runs in network namespace %q: its interfaces are those of that namespace", strings.Join(n.words[1:], " "))
		default:
			p.known(Top, "", n, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	if g := &p.k.Global; g.GarpLowerPrioDelay < 0 {
		g.GarpLowerPrioDelay = g.GarpMasterDelay
	}
	if g := &p.k.Global; g.GarpLowerPrioRepeat < 0 {
		g.GarpLowerPrioRepeat = g.GarpMasterRepeat
	}
	for _, in := range p.k.Instances {
		p.complete(in)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p.k, nil
}

// skip warns about an unknown keyword (and its block).
func (p *parser) skip(n *node, where string) {
	in := ""
	if where != "" {
		in = " in " + where
	}
	if n.block {
		p.warn(n, "unknown keyword '%s'%s; block skipped", n.kw(), in)
		return
	}
	p.warn(n, "unknown keyword '%s'%s; ignored", n.kw(), in)
}

// blockName checks a "KEYWORD NAME {" statement and returns the name.
func blockName(blk *node) (string, error) {
	if len(blk.words) != 2 {
		return "", errAt(blk, "%s: expected one name, got %q", blk.kw(), strings.Join(blk.words[1:], " "))
	}
	if err := needBlock(blk); err != nil {
		return "", err
	}
	return blk.words[1], nil
}

func needBlock(n *node) error {
	if !n.block {
		return errAt(n, "%s: expected a '{' block", n.kw())
	}
	return nil
}

// noBlock warns if a simple keyword was given a block.
func (p *parser) noBlock(n *node) {
	if n.block {
		p.warn(n, "%s does not take a block; block ignored", n.kw())
	}
}

// arg returns the i-th argument (1-based word index).
func arg(n *node, i int) (string, error) {
	if len(n.words) <= i {
		return "", errAt(n, "%s: missing value", n.kw())
	}
	return n.words[i], nil
}

// value returns the one word a keyword takes, warning about more words
// and a block.
func (p *parser) value(n *node) (string, error) {
	s, err := arg(n, 1)
	if err != nil {
		return "", err
	}
	p.extra(n, 2)
	p.noBlock(n)
	return s, nil
}

// extra warns about words keepalived ignores after the first max words.
func (p *parser) extra(n *node, max int) {
	if len(n.words) > max {
		p.warn(n, "%s: extra words %q ignored (keepalived reads one setting per line)", n.kw(), strings.Join(n.words[max:], " "))
	}
}

// uintArg parses argument 1 as a decimal number in [lo, hi].
func (p *parser) uintArg(n *node, lo, hi uint64) (uint64, error) {
	s, err := p.value(n)
	if err != nil {
		return 0, err
	}
	v, ok := parseUint(s)
	if !ok || v < lo || v > hi {
		return 0, errAt(n, "%s: expected a number %d-%d, got %q", n.kw(), lo, hi, s)
	}
	return v, nil
}

func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + uint64(s[i]-'0')
	}
	return v, true
}

func parseInt(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	v, ok := parseUint(s)
	if !ok || v > 1<<53 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// parseTimer parses keepalived's <TIMER>: decimal seconds with up to 6
// decimal places.
func parseTimer(s string) (time.Duration, bool) {
	ip, fp, dot := strings.Cut(s, ".")
	if (ip == "" && fp == "") || (dot && fp == "" && ip == "") || len(fp) > 6 || len(ip) > 9 {
		return 0, false
	}
	var sec, us uint64
	if ip != "" {
		v, ok := parseUint(ip)
		if !ok {
			return 0, false
		}
		sec = v
	}
	if fp != "" {
		v, ok := parseUint(fp)
		if !ok {
			return 0, false
		}
		for i := len(fp); i < 6; i++ {
			v *= 10
		}
		us = v
	}
	return time.Duration(sec)*time.Second + time.Duration(us)*time.Microsecond, true
}

// timerArg parses argument 1 as seconds (fractions allowed) in [lo, hi].
func (p *parser) timerArg(n *node, lo, hi time.Duration) (time.Duration, error) {
	s, err := p.value(n)
	if err != nil {
		return 0, err
	}
	d, ok := parseTimer(s)
	if !ok || d < lo || d > hi {
		return 0, errAt(n, "%s: expected seconds %s-%s (e.g. 1 or 0.5), got %q", n.kw(), secs(lo), secs(hi), s)
	}
	return d, nil
}

// secondsArg parses argument 1 as whole seconds in [0, hi].
func (p *parser) secondsArg(n *node, hi uint64) (time.Duration, error) {
	s, err := p.value(n)
	if err != nil {
		return 0, err
	}
	v, ok := parseUint(s)
	if !ok || v > hi {
		return 0, errAt(n, "%s: expected whole seconds 0-%d, got %q", n.kw(), hi, s)
	}
	return time.Duration(v) * time.Second, nil
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// boolArg parses an optional <BOOL> argument (default true).
func (p *parser) boolArg(n *node) (bool, error) {
	p.noBlock(n)
	if len(n.words) < 2 {
		return true, nil
	}
	p.extra(n, 2)
	switch n.words[1] {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, errAt(n, "%s: expected on|off|true|false|yes|no, got %q", n.kw(), n.words[1])
}

// optBool reads a <BOOL> argument (default true) into *dst; on a bad
// value *dst is left as it was.
func (p *parser) optBool(n *node, dst **bool) error {
	v, err := p.boolArg(n)
	if err != nil {
		return err
	}
	*dst = &v
	return nil
}

// addrArg parses argument 1 as an IP address.
func (p *parser) addrArg(n *node) (netip.Addr, error) {
	s, err := arg(n, 1)
	if err != nil {
		return netip.Addr{}, err
	}
	p.noBlock(n)
	a, err := parseAddr(s)
	if err != nil {
		return netip.Addr{}, errAt(n, "%s: expected an IP address, got %q", n.kw(), s)
	}
	return a, nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("zone not allowed")
	}
	return a, nil
}

// keepOther records a known but uninterpreted keyword.
func keepOther(m map[string][]string, n *node) {
	v := slices.Clone(n.words[1:])
	for _, c := range n.children {
		v = append(v, strings.Join(c.words, " "))
	}
	m[n.kw()] = v
}

// valueLines returns the statements of a value block (virtual_ipaddress
// etc.), checking that it is one and that they have no blocks themselves.
func (p *parser) valueLines(n *node) ([]*node, error) {
	if err := needBlock(n); err != nil {
		return nil, err
	}
	if len(n.words) > 1 {
		p.warn(n, "%s: extra words %q before the block ignored", n.kw(), strings.Join(n.words[1:], " "))
	}
	for _, c := range n.children {
		if c.block {
			return nil, errAt(c, "unexpected block in %s", n.kw())
		}
	}
	return n.children, nil
}

// valueWords returns all words of a value block (notification_email,
// group): keepalived reads them regardless of line breaks.
func (p *parser) valueWords(n *node) ([]string, error) {
	lines, err := p.valueLines(n)
	if err != nil {
		return nil, err
	}
	var w []string
	for _, c := range lines {
		w = append(w, c.words...)
	}
	return w, nil
}

// scriptArg returns the command of a notify or script line, re-read with
// keepalived's shell-like quoting, and the user and group after it.
func (p *parser) scriptArg(n *node) (cmd, user, group string, err error) {
	p.noBlock(n)
	w, e := splitQuotedEscaped(n.raw)
	if e != nil {
		return "", "", "", errAt(n, "%s: %v", n.kw(), e)
	}
	if len(w) < 2 || w[1] == "" {
		return "", "", "", errAt(n, "%s: missing script", n.kw())
	}
	if _, e := splitQuotedEscaped(w[1]); e != nil {
		return "", "", "", errAt(n, "%s: %v", n.kw(), e)
	}
	if len(w) > 2 {
		user = w[2]
	}
	if len(w) > 3 {
		group = w[3]
	}
	if len(w) > 4 {
		p.warn(n, "%s: extra words %q ignored", n.kw(), strings.Join(w[4:], " "))
	}
	return w[1], user, group, nil
}

func defaultGlobal() Global {
	return Global{
		SMTPConnectTimeout:      30 * time.Second,
		VRRPVersion:             2,
		GarpMasterDelay:         5 * time.Second,
		GarpMasterRepeat:        5,
		GarpMasterRefreshRepeat: 1,
		GarpLowerPrioDelay:      -1,
		GarpLowerPrioRepeat:     -1,
		McastGroup4:             vrrp.MulticastIPv4,
		McastGroup6:             vrrp.MulticastIPv6,
		NFTPriority:             -1,
		Other:                   map[string][]string{},
	}
}

const maxSeconds = 1<<32/1000000 - 1 // keepalived's UINT_MAX / TIMER_HZ

// globalKeyword reads one global_defs keyword into g. Its error is not
// fatal: global settings do not change what is expected on the wire, so,
// like keepalived, a bad value is reported and vrrpguard carries on without
// it.
type globalKeyword func(p *parser, g *Global, n *node) error

// globalKeywords are the global_defs keywords vrrpguard reads (besides
// vrrp_version); the others keepalived knows (keywordTable) are kept in
// Global.Other with a warning.
var globalKeywords = map[string]globalKeyword{
	"router_id":               func(p *parser, g *Global, n *node) error { return p.word(n, &g.RouterID) },
	"notification_email":      (*parser).notificationEmail,
	"notification_email_from": func(p *parser, g *Global, n *node) error { return p.word(n, &g.NotificationEmailFrom) },
	"smtp_server":             (*parser).smtpServer,
	"smtp_helo_name": func(p *parser, g *Global, n *node) (err error) {
		g.SMTPHeloName, err = arg(n, 1)
		p.noBlock(n)
		return err
	},
	"smtp_connect_timeout": func(p *parser, g *Global, n *node) error { return p.positiveSeconds(n, &g.SMTPConnectTimeout) },
	"nftables_priority": func(p *parser, g *Global, n *node) error {
		s, err := arg(n, 1)
		if err != nil {
			return err
		}
		p.extra(n, 2)
		v, ok := parseInt(s)
		if !ok || v < -1<<31 || v > 1<<31-1 {
			return errAt(n, "nftables_priority: expected a number (a 32-bit chain priority), got %q", s)
		}
		g.NFTPriority = int32(v)
		return nil
	},
	"nftables_counters": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		g.NFTCounters = true
		return nil
	},
	"vrrp_strict": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		g.Strict = true
		return nil
	},
	"vrrp_garp_master_delay": func(p *parser, g *Global, n *node) error {
		return p.seconds(n, &g.GarpMasterDelay, maxSeconds)
	},
	"vrrp_garp_master_repeat": func(p *parser, g *Global, n *node) error { return p.repeat(n, &g.GarpMasterRepeat) },
	"vrrp_garp_master_refresh": func(p *parser, g *Global, n *node) error {
		return p.seconds(n, &g.GarpMasterRefresh, 1<<32-1)
	},
	"vrrp_garp_master_refresh_repeat": func(p *parser, g *Global, n *node) error {
		return p.repeat(n, &g.GarpMasterRefreshRepeat)
	},
	"vrrp_garp_lower_prio_delay": func(p *parser, g *Global, n *node) error {
		return p.seconds(n, &g.GarpLowerPrioDelay, maxSeconds)
	},
	"vrrp_garp_lower_prio_repeat": func(p *parser, g *Global, n *node) error { return p.repeat(n, &g.GarpLowerPrioRepeat) },
	"vrrp_garp_interval":          func(p *parser, g *Global, n *node) error { return p.garpInterval(n, &g.GarpInterval) },
	"vrrp_gna_interval":           func(p *parser, g *Global, n *node) error { return p.garpInterval(n, &g.GnaInterval) },
	"vrrp_min_garp":               func(p *parser, g *Global, n *node) error { return assign(&g.MinGarp)(p.boolArg(n)) },
	"smtp_alert":                  func(p *parser, g *Global, n *node) error { return p.optBool(n, &g.SMTPAlert) },
	"smtp_alert_vrrp":             func(p *parser, g *Global, n *node) error { return p.optBool(n, &g.SMTPAlertVRRP) },
	"no_email_faults": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		p.extra(n, 1)
		g.NoEmailFaults = true
		return nil
	},
	"script_user": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		u, err := arg(n, 1)
		if err != nil {
			return err
		}
		g.ScriptUser = RunAs{User: u}
		if len(n.words) > 2 {
			g.ScriptUser.Group = n.words[2]
		}
		p.extra(n, 3)
		return nil
	},
	"enable_script_security": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		p.extra(n, 1)
		g.ScriptSecurity = true
		return nil
	},
	"notify_fifo":             func(p *parser, g *Global, n *node) error { return p.fifo(n, "", &g.NotifyFIFO) },
	"notify_fifo_script":      func(p *parser, g *Global, n *node) error { return p.fifoScript(n, "", &g.NotifyFIFO) },
	"vrrp_notify_fifo":        func(p *parser, g *Global, n *node) error { return p.fifo(n, "vrrp_", &g.VRRPNotifyFIFO) },
	"vrrp_notify_fifo_script": func(p *parser, g *Global, n *node) error { return p.fifoScript(n, "vrrp_", &g.VRRPNotifyFIFO) },
	"fifo_write_vrrp_states_on_reload": func(p *parser, g *Global, n *node) error {
		p.noBlock(n)
		p.extra(n, 1)
		g.FIFOWriteStatesOnReload = true
		return nil
	},
	"vrrp_notify_priority_changes": func(p *parser, g *Global, n *node) error {
		return assign(&g.VRRPNotifyPriorityChanges)(p.boolArg(n))
	},
	"vrrp_mcast_group4": func(p *parser, g *Global, n *node) error {
		return p.mcastGroup(n, &g.McastGroup4, func(a netip.Addr) bool { return a.Is4() && a.IsMulticast() },
			"an IPv4 multicast address")
	},
	"vrrp_mcast_group6": func(p *parser, g *Global, n *node) error {
		return p.mcastGroup(n, &g.McastGroup6, func(a netip.Addr) bool { return a.Is6() && a.IsLinkLocalMulticast() },
			"an IPv6 link-local multicast address (ff02::...)")
	},
}

// global reads a global_defs block.
func (p *parser) global(blk *node) error {
	g := &p.k.Global
	for _, n := range blk.children {
		kw := n.kw()
		if kw == "vrrp_version" {
			// The default version of every instance: worth stopping for.
			if err := p.vrrpVersion(g, n); err != nil {
				return err
			}
			continue
		}
		if read, ok := globalKeywords[kw]; ok {
			p.soften(read(p, g, n))
			p.read("global_defs", n)
		} else {
			p.known("global_defs", "global_defs", n, g.Other)
		}
	}
	return nil
}

// fifo reads notify_fifo and vrrp_notify_fifo (type "vrrp_"): a path and
// the owner of the FIFO if vrrpguard creates it. As in keepalived, only
// the first line counts.
func (p *parser) fifo(n *node, typ string, f *FIFO) error {
	p.noBlock(n)
	path, err := arg(n, 1)
	if err != nil {
		return err
	}
	if f.Path != "" {
		p.warn(n, "%snotify_fifo already given (%s:%d); keepalived ignores this one", typ, f.File, f.Line)
		return nil
	}
	f.Path, f.File, f.Line = path, n.file, n.line
	if len(n.words) > 2 {
		f.Owner.User = n.words[2]
	}
	if len(n.words) > 3 {
		f.Owner.Group = n.words[3]
	}
	p.extra(n, 4)
	return nil
}

// fifoScript reads notify_fifo_script and vrrp_notify_fifo_script.
func (p *parser) fifoScript(n *node, typ string, f *FIFO) error {
	cmd, user, group, err := p.scriptArg(n)
	if err != nil {
		return err
	}
	if f.Script.Cmd != "" {
		p.warn(n, "%snotify_fifo_script already given (%s); keepalived ignores this one", typ, f.Script.Pos())
		return nil
	}
	f.Script = ScriptLine{Cmd: cmd, RunAs: RunAs{User: user, Group: group}, File: n.file, Line: n.line}
	return nil
}

// word reads the one word a keyword takes (on a missing value, dst is
// cleared).
func (p *parser) word(n *node, dst *string) (err error) {
	*dst, err = arg(n, 1)
	p.extra(n, 2)
	p.noBlock(n)
	return err
}

func (p *parser) notificationEmail(g *Global, n *node) error {
	w, err := p.valueWords(n)
	if err != nil {
		return err
	}
	if len(w) == 0 {
		p.warn(n, "empty notification_email block")
	}
	g.NotificationEmail = append(g.NotificationEmail, w...)
	return nil
}

func (p *parser) smtpServer(g *Global, n *node) error {
	host, err := arg(n, 1)
	if err != nil {
		return err
	}
	p.noBlock(n)
	p.extra(n, 3)
	port := uint64(25)
	if len(n.words) > 2 {
		v, ok := parseUint(n.words[2])
		if !ok || v < 1 || v > 65535 {
			return errAt(n, "smtp_server: expected a port 1-65535, got %q", n.words[2])
		}
		port = v
	}
	g.SMTPServer, g.SMTPPort = host, int(port)
	return nil
}

func (p *parser) vrrpVersion(g *Global, n *node) error {
	v, err := p.uintArg(n, 2, 3)
	if err != nil {
		if len(n.words) > 1 {
			err = errAt(n, "vrrp_version: expected 2 or 3, got %q", n.words[1])
		}
		return err
	}
	g.VRRPVersion = int(v)
	return nil
}

// mcastGroup reads vrrp_mcast_group4 and vrrp_mcast_group6 into dst: an
// address valid accepts (want describes it, for messages).
func (p *parser) mcastGroup(n *node, dst *netip.Addr, valid func(netip.Addr) bool, want string) error {
	a, err := p.addrArg(n)
	if err != nil {
		return err
	}
	if !valid(a) {
		return errAt(n, "%s: expected %s, got %q", n.kw(), want, n.words[1])
	}
	*dst = a
	return nil
}

// soften turns a configuration error into a warning: keepalived reports the
// value and ignores it.
func (p *parser) soften(err error) {
	if e, ok := err.(*Error); ok {
		p.warnings = append(p.warnings, Warning{File: e.File, Line: e.Line, Message: e.Message + "; keepalived ignores it"})
	}
}

// assign returns a function that stores a parsed value in dst, unless
// parsing failed: assign(&x)(p.secondsArg(n, hi)) sets x only to a good
// value and returns the error.
func assign[T any](dst *T) func(v T, err error) error {
	return func(v T, err error) error {
		if err == nil {
			*dst = v
		}
		return err
	}
}

// seconds reads whole seconds 0-hi into dst; dst is unchanged on an error.
func (p *parser) seconds(n *node, dst *time.Duration, hi uint64) error {
	return assign(dst)(p.secondsArg(n, hi))
}

// garpInterval reads vrrp_garp_interval and vrrp_gna_interval.
func (p *parser) garpInterval(n *node, dst *time.Duration) error {
	return assign(dst)(p.timerArg(n, time.Microsecond, time.Duration(1<<32-1)*time.Microsecond))
}

// repeat reads a gratuitous ARP repeat count into dst; 0 becomes 1, as in
// keepalived. dst is unchanged on an error.
func (p *parser) repeat(n *node, dst *int) error {
	v, err := p.uintArg(n, 0, 1<<32-1)
	if err != nil {
		return err
	}
	if v == 0 {
		p.warn(n, "%s must be greater than 0; keepalived uses 1", n.kw())
		v = 1
	}
	*dst = int(v)
	return nil
}

// scriptKeyword reads one keyword of a vrrp_script block into s. Its error
// is not fatal: a script's settings do not change what is expected on the
// wire.
type scriptKeyword func(p *parser, s *Script, n *node) error

// scriptKeywords are the vrrp_script keywords.
var scriptKeywords = map[string]scriptKeyword{
	"script":   (*parser).scriptCommand,
	"interval": func(p *parser, s *Script, n *node) error { return p.positiveSeconds(n, &s.Interval) },
	"timeout":  func(p *parser, s *Script, n *node) error { return p.positiveSeconds(n, &s.Timeout) },
	"weight":   (*parser).scriptWeight,
	"rise":     func(p *parser, s *Script, n *node) error { return p.count(n, &s.Rise) },
	"fall":     func(p *parser, s *Script, n *node) error { return p.count(n, &s.Fall) },
	"user":     (*parser).scriptUser,
	"init_fail": func(p *parser, s *Script, n *node) error {
		p.noBlock(n)
		s.InitFail = true
		return nil
	},
}

// script reads a vrrp_script block.
func (p *parser) script(blk *node) error {
	name, err := blockName(blk)
	if err != nil {
		return err
	}
	if prev := p.k.Script(name); prev != nil {
		return errAt(blk, "duplicate vrrp_script %q (first defined at %s:%d)", name, prev.File, prev.Line)
	}
	s := &Script{Name: name, File: blk.file, Line: blk.line, Interval: time.Second, Rise: 1, Fall: 1}
	for _, n := range blk.children {
		if read, ok := scriptKeywords[n.kw()]; ok {
			p.soften(read(p, s, n))
			p.read("vrrp_script", n)
		} else {
			p.skip(n, "vrrp_script "+name)
		}
	}
	p.k.Scripts = append(p.k.Scripts, s)
	if s.Script == "" {
		p.warn(blk, "vrrp_script %s has no script; keepalived removes it", name)
		return nil
	}
	p.scripts[name] = s
	return nil
}

func (p *parser) scriptCommand(s *Script, n *node) error {
	cmd, extraUser, _, err := p.scriptArg(n)
	s.Script = cmd
	if err == nil && extraUser != "" {
		p.warn(n, "script: keepalived runs only %q; quote the whole command line to pass arguments", s.Script)
	}
	return err
}

// positiveSeconds reads whole seconds that must be positive: 0 becomes 1,
// as keepalived does.
func (p *parser) positiveSeconds(n *node, dst *time.Duration) error {
	d, err := p.secondsArg(n, maxSeconds)
	if err != nil {
		return err
	}
	if d == 0 {
		p.warn(n, "%s must be greater than 0; keepalived uses 1", n.kw())
		d = time.Second
	}
	*dst = d
	return nil
}

func (p *parser) scriptWeight(s *Script, n *node) error {
	w, err := arg(n, 1)
	if err != nil {
		return err
	}
	p.noBlock(n)
	v, ok := parseInt(w)
	if !ok || v < -253 || v > 253 {
		return errAt(n, "weight: expected a number -253-253, got %q", w)
	}
	s.Weight = int(v)
	if len(n.words) > 2 {
		if n.words[2] == "reverse" {
			s.Reverse = true
		} else {
			p.warn(n, "weight: unknown option %q ignored", n.words[2])
		}
		p.extra(n, 3)
	}
	return nil
}

// count reads rise and fall: a number 1 or more.
func (p *parser) count(n *node, dst *int) error {
	v, err := p.uintArg(n, 1, 1<<31-1)
	return assign(dst)(int(v), err)
}

func (p *parser) scriptUser(s *Script, n *node) (err error) {
	if s.User, err = arg(n, 1); err == nil && len(n.words) > 2 {
		s.Group = n.words[2]
		p.extra(n, 3)
	}
	p.noBlock(n)
	return err
}

func (p *parser) syncGroup(blk *node) error {
	name, err := blockName(blk)
	if err != nil {
		return err
	}
	g := &SyncGroup{Name: name, File: blk.file, Line: blk.line, Other: map[string][]string{}}
	for _, prev := range p.k.SyncGroups {
		if prev.Name == g.Name {
			return errAt(blk, "duplicate vrrp_sync_group %q (first defined at %s:%d)", g.Name, prev.File, prev.Line)
		}
	}
	groupSeen := false
	for _, n := range blk.children {
		var err error
		switch kw := n.kw(); kw {
		case "group":
			if groupSeen {
				p.warn(n, "group list already given for sync group %s; keepalived ignores this one", g.Name)
				continue
			}
			groupSeen = true
			if g.Instances, err = p.valueWords(n); err == nil && len(g.Instances) == 0 {
				p.warn(n, "sync group %s has an empty group block", g.Name)
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			var cmd, user, group string
			if cmd, user, group, err = p.scriptArg(n); err == nil {
				*notifyField(kw, &g.NotifyMaster, &g.NotifyBackup, &g.NotifyFault, &g.NotifyStop, &g.Notify) = cmd
				if g.NotifyLines == nil {
					g.NotifyLines = map[string]ScriptLine{}
				}
				g.NotifyLines[kw] = ScriptLine{Cmd: cmd, RunAs: RunAs{User: user, Group: group}, File: n.file, Line: n.line}
			}
		case "notify_priority_changes":
			p.soften(p.optBool(n, &g.notifyPrio))
		case "track_interface":
			g.TrackInterfaces, err = p.trackInterfaces(n, g.TrackInterfaces)
		case "track_script":
			g.TrackScripts, err = p.trackScripts(n, g.TrackScripts)
		case "track_process":
			g.TrackProcesses, err = p.trackProcesses(n, g.TrackProcesses)
		case "track_file":
			g.TrackFiles, err = p.trackFiles(n, g.TrackFiles)
		default:
			p.known("vrrp_sync_group", "vrrp_sync_group "+g.Name, n, g.Other)
		}
		if err != nil {
			return err
		}
	}
	p.k.SyncGroups = append(p.k.SyncGroups, g)
	return nil
}

func notifyField(kw string, master, backup, fault, stop, any *string) *string {
	switch kw {
	case "notify_master":
		return master
	case "notify_backup":
		return backup
	case "notify_fault":
		return fault
	case "notify_stop":
		return stop
	}
	return any
}

// weightOpt parses "weight N [reverse|noreverse]" after a tracked name.
func (p *parser) weightOpt(n *node, what string, lo, hi int64) (weight int, reverse, set bool, ok bool) {
	if len(n.words) < 2 {
		return 0, false, false, true
	}
	if n.words[1] != "weight" {
		p.warn(n, "%s %s: unknown option %q; keepalived ignores this entry", what, n.words[0], n.words[1])
		return 0, false, false, false
	}
	if len(n.words) < 3 {
		p.warn(n, "%s %s: weight without a value; keepalived ignores this entry", what, n.words[0])
		return 0, false, false, false
	}
	v, good := parseInt(n.words[2])
	if !good || v < lo || v > hi {
		p.warn(n, "%s %s: weight must be %d-%d, got %q; keepalived ignores it", what, n.words[0], lo, hi, n.words[2])
		return 0, false, false, true
	}
	if v == -254 || v == 254 {
		p.warn(n, "%s %s: weight cannot be %d; keepalived uses %d", what, n.words[0], v, v/254*253)
		v = v / 254 * 253
	}
	if len(n.words) > 3 {
		switch n.words[3] {
		case "reverse":
			reverse = true
		case "noreverse", "no_reverse":
		default:
			p.warn(n, "%s %s: unknown weight option %q ignored", what, n.words[0], n.words[3])
		}
	}
	if len(n.words) > 4 {
		p.warn(n, "%s %s: extra words %q ignored", what, n.words[0], strings.Join(n.words[4:], " "))
	}
	return int(v), reverse, true, true
}

func (p *parser) trackInterfaces(blk *node, list []Track) ([]Track, error) {
	lines, err := p.valueLines(blk)
	if err != nil {
		return nil, err
	}
	for _, n := range lines {
		if slices.ContainsFunc(list, func(t Track) bool { return t.Name == n.words[0] }) {
			p.warn(n, "duplicate track_interface %s; keepalived ignores it", n.words[0])
			continue
		}
		w, rev, _, ok := p.weightOpt(n, "track_interface", -254, 254)
		if !ok {
			continue
		}
		list = append(list, Track{Name: n.words[0], Weight: w, Reverse: rev})
	}
	return list, nil
}

func (p *parser) trackScripts(blk *node, list []Track) ([]Track, error) {
	lines, err := p.valueLines(blk)
	if err != nil {
		return nil, err
	}
	for _, n := range lines {
		name := n.words[0]
		s := p.scripts[name]
		if s == nil {
			if d := p.later[name]; d != nil && (d.file != n.file || d.line > n.line) {
				p.warn(n, "track_script %s: vrrp_script %s is defined after this instance (%s); keepalived 2.2.7 only finds scripts defined before, and ignores this entry", name, name, d.pos())
			} else {
				p.warn(n, "track_script %s: no vrrp_script %s is defined; keepalived ignores this entry", name, name)
			}
			continue
		}
		if slices.ContainsFunc(list, func(t Track) bool { return t.Name == name }) {
			p.warn(n, "duplicate track_script %s; keepalived ignores it", name)
			continue
		}
		w, rev, set, ok := p.weightOpt(n, "track_script", -254, 254)
		if !ok {
			continue
		}
		if !set {
			w, rev = s.Weight, s.Reverse
		}
		list = append(list, Track{Name: name, Weight: w, Reverse: rev})
	}
	return list, nil
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
