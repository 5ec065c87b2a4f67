package participant

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

func afOf(f vrrp.Family) int {
	if f == vrrp.IPv6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// netlinkRoute converts a configured route; dev is the interface's index
// (0: none).
func netlinkRoute(r keepalived.Route) (*netlink.Route, error) {
	nr := &netlink.Route{
		Family:   afOf(r.Family),
		Dst:      ipNet(r.Dst),
		Type:     r.Type,
		Scope:    netlink.Scope(r.Scope),
		Table:    r.Table,
		Protocol: netlink.RouteProtocol(r.Protocol),
	}
	if r.Src.IsValid() {
		nr.Src = r.Src.AsSlice()
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	}
	if r.HasMetric {
		nr.Priority = int(r.Metric)
	}
	if r.OnLink {
		nr.Flags |= unix.RTNH_F_ONLINK
	}
	if r.Dev != "" {
		l, err := netlink.LinkByName(r.Dev)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %w", r.Dev, err)
		}
		nr.LinkIndex = l.Attrs().Index
	}
	return nr, nil
}

// netlinkRule converts a configured rule.
func netlinkRule(r keepalived.Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = afOf(r.Family)
	if r.From.IsValid() && r.From.Bits() > 0 {
		nr.Src = ipNet(r.From)
	}
	if r.To.IsValid() && r.To.Bits() > 0 {
		nr.Dst = ipNet(r.To)
	}
	nr.Invert = r.Invert
	nr.Priority = int(r.Priority)
	nr.Tos = uint(r.Tos)
	nr.Type = uint8(r.Action)
	switch r.Action {
	case 1:
		nr.Table = r.Table
	case 2:
		nr.Goto = r.Goto
	}
	if r.HasFwmark {
		nr.Mark = r.Fwmark
		if r.HasFwmask {
			m := r.Fwmask
			nr.Mask = &m
		}
	}
	nr.IifName, nr.OifName = r.IIf, r.OIf
	nr.IPProto = r.IPProto
	if r.Sport != [2]uint16{} {
		nr.Sport = netlink.NewRulePortRange(r.Sport[0], r.Sport[1])
	}
	if r.Dport != [2]uint16{} {
		nr.Dport = netlink.NewRulePortRange(r.Dport[0], r.Dport[1])
	}
	if r.HasUIDRange {
		nr.UIDRange = netlink.NewRuleUIDRange(r.UIDRange[0], r.UIDRange[1])
	}
	nr.SuppressPrefixlen = r.SuppressPrefixLen
	nr.Protocol = uint8(r.Protocol)
	return nr
}

// ignore turns the errors in fine into success.
func ignore(err error, fine ...syscall.Errno) error {
	for _, f := range fine {
		if errors.Is(err, f) {
			return nil
		}
	}
	return err
}

// owned records the routes, rules and static addresses this run added. An
// add that finds the entry present does not own it, and a removal that is
// not forced skips what is not owned: keepalived removes only what it
// added (its `set` flags), so a host's own route or address that matches
// a configured one is never deleted when the instance leaves MASTER or
// vrrpguard exits. A nil owned forces (start-up cleanup after a crash).
type owned map[string]bool

// ownKey is what an entry is configured as, not where it is written.
func ownKey(v any) string { return fmt.Sprintf("%T%+v", v, v) }

// mark records the result of adding entry k: owned if it was added.
func (o owned) mark(k string, err error) {
	if o != nil && err == nil {
		o[k] = true
	}
}

// skip reports whether a removal of entry k is not this run's to do, and
// forgets k otherwise.
func (o owned) skip(k string) bool {
	if o == nil {
		return false
	}
	if !o[k] {
		return true
	}
	delete(o, k)
	return false
}

func routeKey(r keepalived.Route) string {
	r.Raw, r.File, r.Line = "", "", 0
	return ownKey(r)
}

func ruleKey(r keepalived.Rule) string {
	r.Raw, r.File, r.Line = "", "", 0
	return ownKey(r)
}

// addRoutes adds routes (present ones are kept, and not owned).
func addRoutes(rs []keepalived.Route, own owned) error {
	var errs []error
	for _, r := range rs {
		nr, err := netlinkRoute(r)
		if err == nil {
			err = netlink.RouteAdd(nr)
			own.mark(routeKey(r), err)
			err = ignore(err, syscall.EEXIST)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("add route %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}

// delRoutes removes routes, in reverse order (absent ones are fine; with
// own, only owned ones).
func delRoutes(rs []keepalived.Route, own owned) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if own.skip(routeKey(r)) {
			continue
		}
		nr, err := netlinkRoute(r)
		if err != nil {
			if errors.As(err, new(netlink.LinkNotFoundError)) {
				continue // gone with its interface
			}
		} else {
			err = ignore(netlink.RouteDel(nr), syscall.ESRCH, syscall.ENOENT, syscall.EADDRNOTAVAIL)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove route %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}

// addRules adds policy routing rules (present ones are kept, and not
// owned).
func addRules(rs []keepalived.Rule, own owned) error {
	var errs []error
	for _, r := range rs {
		err := netlink.RuleAdd(netlinkRule(r))
		own.mark(ruleKey(r), err)
		if err := ignore(err, syscall.EEXIST); err != nil {
			errs = append(errs, fmt.Errorf("add rule %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}

// delRules removes policy routing rules, in reverse order (absent ones are
// fine; with own, only owned ones).
func delRules(rs []keepalived.Rule, own owned) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if own.skip(ruleKey(r)) {
			continue
		}
		if err := ignore(netlink.RuleDel(netlinkRule(r)), syscall.ENOENT, syscall.ESRCH); err != nil {
			errs = append(errs, fmt.Errorf("remove rule %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}
