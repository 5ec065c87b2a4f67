package participant

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// startStatic configures static_ipaddress, static_routes and
// static_rules, as keepalived does at start-up, and deletes the nftables
// table a crashed run may have left. r.mu is held.
func (r *Router) startStatic() {
	log := r.opts.Logger
	if err := removeStaleFirewall(); err != nil {
		log.Warn("nftables: stale table", "err", err)
	}
	r.staticOwn = owned{}
	r.addStatic(r.k)
}

// reloadStatic replaces the static configuration with k's: what k no
// longer has is removed, what it adds is added, what both have stays.
// r.mu is held.
func (r *Router) reloadStatic(k *keepalived.Config) {
	log, old := r.opts.Logger, r.static
	if err := delRules(missing(old.StaticRules, k.StaticRules, sameRule), r.staticOwn); err != nil {
		log.Error("static_rules", "err", err)
	}
	if err := delRoutes(missing(old.StaticRoutes, k.StaticRoutes, sameRoute), r.staticOwn); err != nil {
		log.Error("static_routes", "err", err)
	}
	if err := staticAddrs(missing(old.StaticAddresses, k.StaticAddresses, sameAddr), false, r.staticOwn); err != nil {
		log.Error("static_ipaddress", "err", err)
	}
	r.addStatic(k)
}

// addStatic adds k's static addresses, routes and rules (what is there
// already stays) and makes k the static configuration. r.mu is held.
func (r *Router) addStatic(k *keepalived.Config) {
	log := r.opts.Logger
	if err := staticAddrs(k.StaticAddresses, true, r.staticOwn); err != nil {
		log.Error("static_ipaddress", "err", err)
	}
	if err := addRoutes(k.StaticRoutes, r.staticOwn); err != nil {
		log.Error("static_routes", "err", err)
	}
	if err := addRules(k.StaticRules, r.staticOwn); err != nil {
		log.Error("static_rules", "err", err)
	}
	r.static = k
}

// missing returns the elements of old that new does not have.
func missing[T any](old, new []T, same func(a, b T) bool) []T {
	var out []T
	for _, o := range old {
		if !slices.ContainsFunc(new, func(n T) bool { return same(o, n) }) {
			out = append(out, o)
		}
	}
	return out
}

// sameRoute, sameRule and sameAddr compare what is configured, not where
// it is written.
func sameRoute(a, b keepalived.Route) bool {
	a.Raw, a.File, a.Line = "", "", 0
	b.Raw, b.File, b.Line = "", "", 0
	return a == b
}

func sameRule(a, b keepalived.Rule) bool {
	a.Raw, a.File, a.Line = "", "", 0
	b.Raw, b.File, b.Line = "", "", 0
	return a == b
}

func addrKey(v keepalived.VIP) string {
	v.Raw, v.File, v.Line = "", "", 0
	return ownKey(v)
}

func sameAddr(a, b keepalived.VIP) bool {
	a.Raw, a.File, a.Line = "", "", 0
	b.Raw, b.File, b.Line = "", "", 0
	return a == b
}

// stopStatic removes what startStatic configured, as keepalived 2.2.7 does
// at exit (measured), and deletes the nftables table.
func (r *Router) stopStatic() {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.opts.Logger
	if k := r.static; k != nil {
		if err := delRules(k.StaticRules, r.staticOwn); err != nil {
			log.Error("static_rules", "err", err)
		}
		if err := delRoutes(k.StaticRoutes, r.staticOwn); err != nil {
			log.Error("static_routes", "err", err)
		}
		if err := staticAddrs(k.StaticAddresses, false, r.staticOwn); err != nil {
			log.Error("static_ipaddress", "err", err)
		}
		r.static = nil
	}
	if err := r.fw.close(); err != nil {
		log.Error("nftables", "err", err)
	}
	r.fw = nil
}

// staticAddrs adds or removes static addresses (on their dev, eth0 if
// none).
func staticAddrs(vs []keepalived.VIP, add bool, own owned) error {
	var errs []error
	for _, v := range vs {
		k := addrKey(v)
		if !add && own.skip(k) {
			continue
		}
		err := staticAddr(v, add)
		if add {
			own.mark(k, err)
			err = ignore(err, syscall.EEXIST)
		}
		if err != nil {
			what := "add"
			if !add {
				what = "remove"
			}
			errs = append(errs, fmt.Errorf("%s %s (%s:%d): %w", what, v.Prefix, v.File, v.Line, err))
		}
	}
	return errors.Join(errs...)
}

func staticAddr(v keepalived.VIP, add bool) error {
	if v.Dev == "" {
		// keepalived's default_interface, default eth0 (measured);
		// default_interface itself is warned about.
		v.Dev = "eth0"
	}
	l, err := netlink.LinkByName(v.Dev)
	if err != nil {
		if !add && errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil
		}
		return fmt.Errorf("interface %s: %w", v.Dev, err)
	}
	a := v.Prefix.Addr()
	na := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(v.Prefix.Bits(), a.BitLen())}, Label: v.Label}
	if a.Is6() {
		na.Flags = unix.IFA_F_NODAD
	}
	if v.Peer.IsValid() {
		na.Peer = &net.IPNet{IP: v.Peer.AsSlice(), Mask: net.CIDRMask(v.Peer.BitLen(), v.Peer.BitLen())}
	}
	if v.Scope != "" {
		if na.Scope, err = parseScope(v.Scope); err != nil {
			return err
		}
	}
	if add {
		return netlink.AddrAdd(l, na)
	}
	return ignore(netlink.AddrDel(l, na), syscall.EADDRNOTAVAIL, syscall.ENOENT, syscall.ESRCH)
}
