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

// addRoutes adds routes (present ones are kept).
func addRoutes(rs []keepalived.Route) error {
	var errs []error
	for _, r := range rs {
		nr, err := netlinkRoute(r)
		if err == nil {
			err = ignore(netlink.RouteAdd(nr), syscall.EEXIST)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("add route %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}

// delRoutes removes routes, in reverse order (absent ones are fine).
func delRoutes(rs []keepalived.Route) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
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

// addRules adds policy routing rules (present ones are kept).
func addRules(rs []keepalived.Rule) error {
	var errs []error
	for _, r := range rs {
		if err := ignore(netlink.RuleAdd(netlinkRule(r)), syscall.EEXIST); err != nil {
			errs = append(errs, fmt.Errorf("add rule %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}

// delRules removes policy routing rules, in reverse order (absent ones are
// fine).
func delRules(rs []keepalived.Rule) error {
	var errs []error
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if err := ignore(netlink.RuleDel(netlinkRule(r)), syscall.ENOENT, syscall.ESRCH); err != nil {
			errs = append(errs, fmt.Errorf("remove rule %q (%s:%d): %w", r.Raw, r.File, r.Line, err))
		}
	}
	return errors.Join(errs...)
}
