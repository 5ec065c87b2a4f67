package participant

import (
	"net/netip"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// GuardEvent is one virtual address the local VIP guard (Options.GuardVIPs)
// found configured on this system while its instance was not master.
type GuardEvent struct {
	Instance string
	VRID     uint8
	// Interface is where the address was found, Address the address with
	// the prefix length it was found with.
	Interface string
	Address   netip.Prefix
	// State is the instance's state (BACKUP or FAULT); Demoted is true if
	// it was held out of the election by [Router.Demote].
	State   string
	Demoted bool
	// Removed is true if the guard removed the address; Err says why it
	// could not.
	Removed bool
	Err     error
	// At is when the guard learnt of the address (the netlink event, or
	// the check on entering BACKUP or FAULT).
	At time.Time
}

// addrEvent is an address found on the system: added (a netlink event) or
// present (a scan).
type addrEvent struct {
	dev    string
	prefix netip.Prefix
	at     time.Time
	// rescan: events may have been lost (the subscription was renewed);
	// dev and prefix are unset.
	rescan bool
	// deleted: the event removed the address (RTM_DELADDR).
	deleted bool
}

// guarding reports whether the guard acts for an instance in state: it is
// on, the instance is not the address owner (priority 255), and it is
// BACKUP or FAULT (demoted or not).
func (d *driver) guarding(state election.State) bool {
	return d.i.opts.GuardVIPs && d.i.cfg.Priority != 255 && (state == election.Backup || state == election.Fault)
}

// ownVIP reports whether a is one of the instance's virtual addresses on
// its interface, and one the guard may remove: not the instance's own
// source address, and not a virtual address of another instance of the
// router.
func (d *driver) ownVIP(a addrEvent) bool {
	addr := a.prefix.Addr()
	if addr == d.env.source() || d.i.sharedVIP(addr) {
		return false
	}
	for _, v := range d.i.allVIPs() {
		if v.Prefix.Addr() == addr && vipDev(d.i.cfg, v) == a.dev {
			return true
		}
	}
	return false
}

// vipDev is the interface a virtual address lives on.
func vipDev(in *keepalived.Instance, v keepalived.VIP) string {
	if v.Dev != "" {
		return v.Dev
	}
	return in.Interface
}

// allVIPs returns the virtual addresses and the excluded ones (both are
// added by a master).
func (i *Instance) allVIPs() []keepalived.VIP {
	return append(append([]keepalived.VIP(nil), i.cfg.VIPs...), i.cfg.ExcludedVIPs...)
}

// addrAdded handles an address event of the environment.
func (d *driver) addrAdded(a addrEvent) {
	if a.rescan {
		d.i.log.Warn("address events may have been lost; checking the virtual addresses")
		d.guardScan(d.m.State())
		d.restoreVIPs(a.at)
		return
	}
	if a.deleted {
		d.restoreVIPs(a.at)
		return
	}
	if d.guarding(d.m.State()) && d.ownVIP(a) {
		d.guardRemove(a, d.m.State())
	}
}

// restoreVIPs puts back the virtual addresses of a master that someone
// removed (ip addr del, a network manager, another tool), and announces
// them again as a new master does. keepalived 2.2.7 notices the removal
// too but answers with a transition: it goes BACKUP (a priority-0 advert,
// every VIP removed) and, unless a peer takes over, MASTER again after
// Skew_Time, re-adding the addresses. Restoring in place keeps the
// instance master without a moment with no master. Nothing is done unless
// the instance is master, its interface is up and an address is really
// missing now (a late event of a removal by this router is not one).
func (d *driver) restoreVIPs(at time.Time) {
	if d.m.State() != election.Master {
		return
	}
	if up, err := d.env.linkUp(d.i.cfg.Interface); err != nil || !up {
		return
	}
	present, err := d.env.presentVIPs()
	if err != nil {
		d.i.log.Error("list virtual addresses", "err", err)
		return
	}
	var missing []string
	for _, v := range d.i.allVIPs() {
		found := false
		for _, a := range present {
			if a.dev == vipDev(d.i.cfg, v) && a.prefix.Addr() == v.Prefix.Addr() {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, v.Prefix.String())
		}
	}
	if len(missing) == 0 {
		return
	}
	d.i.log.Warn("virtual addresses were removed while master; restoring them", "addresses", missing, "interface", d.i.cfg.Interface)
	if err := d.env.addVIPs(); err != nil {
		d.i.log.Error("restore virtual addresses", "err", err)
		return
	}
	d.announceBurst(at)
}

// guardScan checks which virtual addresses are configured now (on start,
// and on entering BACKUP or FAULT) and removes them.
func (d *driver) guardScan(state election.State) {
	if !d.guarding(state) {
		return
	}
	found, err := d.env.presentVIPs()
	if err != nil {
		d.i.log.Error("local VIP guard: list addresses", "err", err)
	}
	for _, a := range found {
		if d.ownVIP(a) {
			d.guardRemove(a, state)
		}
	}
}

// guardRemove removes a and reports it. An address already gone (a stale
// event, say of this router's own time as master) is not reported.
func (d *driver) guardRemove(a addrEvent, state election.State) {
	i := d.i
	removed, err := d.env.delAddr(a)
	if err == nil && !removed {
		return
	}
	demoted, _ := d.m.Demoted()
	ev := GuardEvent{Instance: i.cfg.Name, VRID: i.cfg.VRID, Interface: a.dev, Address: a.prefix, State: state.String(),
		Demoted: demoted, Removed: removed, Err: err, At: a.at}
	if err != nil {
		i.log.Error("virtual address configured while not master; cannot remove it", "interface", a.dev,
			"address", a.prefix, "state", ev.State, "err", err)
	} else {
		i.log.Warn("virtual address configured while not master; removed", "interface", a.dev,
			"address", a.prefix, "state", ev.State, "after", time.Since(a.at))
	}
	if i.opts.OnGuard != nil {
		i.opts.OnGuard(ev)
	}
}

// sharedVIP reports whether addr is also a virtual address of another
// instance of the router (the guard leaves such addresses alone: the other
// instance may be master).
func (i *Instance) sharedVIP(addr netip.Addr) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.shared[addr]
}

// markShared tells every instance which of its virtual addresses another
// instance of the router also has.
func markShared(is []*Instance) {
	owners := map[netip.Addr]int{}
	for _, i := range is {
		seen := map[netip.Addr]bool{}
		for _, v := range i.allVIPs() {
			if a := v.Prefix.Addr(); !seen[a] {
				seen[a] = true
				owners[a]++
			}
		}
	}
	for _, i := range is {
		shared := map[netip.Addr]bool{}
		for _, v := range i.allVIPs() {
			if a := v.Prefix.Addr(); owners[a] > 1 {
				shared[a] = true
			}
		}
		i.mu.Lock()
		i.shared = shared
		i.mu.Unlock()
	}
}
