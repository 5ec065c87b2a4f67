package participant

import (
	"errors"
	"fmt"
	"time"

	"github.com/vrrpguard/vrrpguard/election"
)

// ErrNoInstance is returned (wrapped) for an instance name the router does
// not run.
var ErrNoInstance = errors.New("no such instance")

// ErrNotMaster is returned (wrapped) by [Router.Reannounce] for an instance
// that is not master.
var ErrNotMaster = errors.New("not master")

// Demote holds the named instance out of the election (package election's
// Demote): a master sends a priority-0 advertisement, removes its virtual
// addresses and becomes BACKUP (notify_backup runs, as on keepalived's step
// down before a higher priority); in any state the instance then never
// becomes master, neither when the master goes silent nor by preemption,
// until [Router.Resume]. It keeps listening and shows the master it hears in
// its [Status]. A demotion asked in FAULT applies when the fault clears; one
// asked while the router or the instance is not running applies when it
// starts, and a restart by [Router.Reload] keeps it. A second Demote only
// replaces the reason.
//
// Demote returns at once: the instance's goroutine carries it out and
// reports it through Options.OnChange. It is safe from any goroutine,
// OnChange included.
func (r *Router) Demote(instance, reason string) error {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	i, err := r.lookup(instance)
	if err != nil {
		return fmt.Errorf("demote: %w", err)
	}
	i.setDemotion(true, reason)
	return nil
}

// Resume ends a [Router.Demote]: the instance takes part in the election
// again from a fresh Master_Down_Timer, so it becomes master after
// Master_Down_Interval unless it hears a master it must not preempt. Resume
// of an instance that is not demoted does nothing. Like Demote it returns at
// once and is safe from any goroutine.
func (r *Router) Resume(instance, reason string) error {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	i, err := r.lookup(instance)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	i.setDemotion(false, reason)
	return nil
}

// Reannounce makes a master send its gratuitous ARP / unsolicited NA burst
// again now, with keepalived's schedule of a new master (garp_master_repeat
// messages, the second burst after garp_master_delay unless vrrp_min_garp,
// the garp_master_refresh period restarted): after a split brain resolved in
// this router's favour, hosts whose caches point at the other router learn
// the address's owner at once (keepalived does not do this, its issue #166).
// It fails with [ErrNotMaster] unless the instance is master; if the
// instance stops being master before its goroutine gets to it, nothing is
// sent. It returns at once and is safe from any goroutine.
func (r *Router) Reannounce(instance string) error {
	r.listMu.Lock()
	defer r.listMu.Unlock()
	i, err := r.lookup(instance)
	if err != nil {
		return fmt.Errorf("reannounce: %w", err)
	}
	i.mu.Lock()
	state := i.st.State
	if state == election.Master.String() {
		i.ctl.reannounce = true
	}
	i.mu.Unlock()
	if state != election.Master.String() {
		return fmt.Errorf("reannounce %s: %w (%s)", instance, ErrNotMaster, state)
	}
	i.poke()
	return nil
}

// lookup returns the instance called name; r.listMu is held.
func (r *Router) lookup(name string) (*Instance, error) {
	for _, i := range r.instances {
		if i.cfg.Name == name {
			return i, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoInstance, name)
}

// demotionWords is how a Demote or Resume shows in Status.DemotionReason,
// as in the election's transition reasons.
func demotionWords(demote bool, reason string) string {
	w := "resumed"
	if demote {
		w = "demoted"
	}
	if reason == "" {
		return w
	}
	return w + ": " + reason
}

// setDemotion records a Demote (on) or Resume for the loop and wakes it.
func (i *Instance) setDemotion(on bool, reason string) {
	i.mu.Lock()
	if !on && !i.ctl.demote {
		i.mu.Unlock()
		return // not demoted: Resume does nothing
	}
	if on != i.st.Demoted {
		i.st.DemotionSince = time.Now()
	}
	i.ctl.demote, i.ctl.reason = on, reason
	i.st.Demoted, i.st.DemotionReason = on, demotionWords(on, reason)
	i.mu.Unlock()
	i.poke()
}

// inheritDemotion takes over old's demotion (a restart by Reload).
func (i *Instance) inheritDemotion(old *Instance) {
	old.mu.Lock()
	c, st := old.ctl, old.st
	old.mu.Unlock()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.ctl.demote, i.ctl.reason = c.demote, c.reason
	i.st.Demoted, i.st.DemotionReason, i.st.DemotionSince = st.Demoted, st.DemotionReason, st.DemotionSince
}

// poke wakes the instance's loop (without blocking: one pending wake-up is
// enough, the loop reads ctl as a whole).
func (i *Instance) poke() {
	select {
	case i.wake <- struct{}{}:
	default:
	}
}

// control applies what Demote, Resume and Reannounce asked.
func (d *driver) control(now time.Time) {
	i := d.i
	i.mu.Lock()
	c := i.ctl
	i.ctl.reannounce, i.ctl.sync, i.ctl.resync = false, nil, false
	i.mu.Unlock()
	if c.resync {
		d.synced = false
		d.reportSync()
	}
	if c.sync != nil {
		i.log.Debug("sync group verdict", "fault", c.sync.Fault, "master", c.sync.Master, "reason", c.sync.Reason)
		d.exec(d.m.Step(now, *c.sync))
	}
	on, why := d.m.Demoted()
	switch {
	case c.demote && (!on || why != c.reason):
		i.log.Warn("demoted: held out of the election", "reason", c.reason, "state", d.m.State().String())
		d.stepReporting(now, election.Demote{Reason: c.reason})
	case !c.demote && on:
		i.log.Info("resumed: taking part in the election again", "reason", c.reason, "state", d.m.State().String())
		d.stepReporting(now, election.Resume{Reason: c.reason})
	}
	if c.reannounce {
		if d.m.State() != election.Master {
			i.log.Info("not re-announcing the virtual addresses: no longer master", "state", d.m.State().String())
			return
		}
		i.log.Info("re-announcing the virtual addresses")
		d.announceBurst(now)
	}
}

// stepReporting steps the machine and carries out its actions, and calls
// OnChange if they did not (a change of the demotion alone).
func (d *driver) stepReporting(now time.Time, ev election.Event) {
	d.reported = false
	d.exec(d.m.Step(now, ev))
	if !d.reported && d.i.opts.OnChange != nil {
		d.i.opts.OnChange(d.i.Status(), nil)
	}
}
