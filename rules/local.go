package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// LocalFact is something the local participant (vrrpguard run) reports
// about itself rather than something seen on the wire: LocalDemoted,
// LocalResumed or LocalVIPOnBackup. Engine.Local turns it into findings.
type LocalFact interface {
	localFact()
}

// LocalDemoted: the local instance stepped down to backup (and released its
// virtual addresses) because Rival is master and outranks it although its
// advertisements fail the local validation. It raises self_demoted until
// LocalResumed.
type LocalDemoted struct {
	Instance  string // vrrp_instance name
	Interface string
	Family    vrrp.Family // taken from Rival when unknown
	VRID      uint8
	VIPs      []netip.Addr
	Rival     netip.Addr
	RivalMAC  obs.MAC
	// RivalPriority is the priority the rival advertises.
	RivalPriority uint8
	// Reason says why the rival's advertisements are rejected here, as a
	// clause ("its advertisements carry another password").
	Reason string
	// Evidence is what was seen, in words ("12 adverts since 12:00:01,
	// auth digest 1a2b3c4d").
	Evidence string
	// Message, when set, is the whole finding message (the deciding
	// policy's own words: it knows whether the rival outranked this node
	// or would not yield after the hold time); else one is made from the
	// fields above.
	Message string
}

// LocalResumed: the local instance (named by Instance, Interface and VRID,
// as in its LocalDemoted) takes part in elections again: the rival went
// away or its advertisements validate now. It resolves self_demoted after
// Params.ResolveHold.
type LocalResumed struct {
	Instance  string
	Interface string
	VRID      uint8
	Reason    string // why, for the resolved notice ("10.0.0.2 stopped advertising")
}

// LocalVIPOnBackup: the local guard found VIP configured on Interface
// (whose MAC is MAC) while the instance is backup. It raises vip_on_backup
// for this node. Removed says the address is gone again (the guard
// removed it, or it went away): the finding then resolves after
// Params.ResolveHold. Report the same address again with Removed set once
// it is gone, if it was first reported while still present.
type LocalVIPOnBackup struct {
	Instance  string
	Interface string
	Family    vrrp.Family // taken from VIP when unknown
	VRID      uint8
	VIP       netip.Addr
	MAC       obs.MAC
	Removed   bool
}

func (LocalDemoted) localFact()     {}
func (LocalResumed) localFact()     {}
func (LocalVIPOnBackup) localFact() {}

// Local feeds one fact about the local participant at now and returns what
// it caused (the slice is reused by the next call). An incomplete fact is
// an error and changes nothing.
func (e *Engine) Local(now time.Time, fact LocalFact) ([]Output, error) {
	e.out = e.out[:0]
	switch f := fact.(type) {
	case LocalDemoted:
		if err := checkLocal(f.Instance, f.Interface, f.VRID); err != nil {
			return nil, fmt.Errorf("self_demoted: %w", err)
		}
		if !f.Rival.IsValid() {
			return nil, errors.New("self_demoted: no rival address")
		}
		e.selfDemoted(&f, e.clock(now))
	case LocalResumed:
		if err := checkLocal(f.Instance, f.Interface, f.VRID); err != nil {
			return nil, fmt.Errorf("self_resumed: %w", err)
		}
		e.selfResumed(&f, e.clock(now))
	case LocalVIPOnBackup:
		if err := checkLocal(f.Instance, f.Interface, f.VRID); err != nil {
			return nil, fmt.Errorf("local vip_on_backup: %w", err)
		}
		if !f.VIP.IsValid() {
			return nil, errors.New("local vip_on_backup: no virtual address")
		}
		e.localVIP(&f, e.clock(now))
	case nil:
		return nil, errors.New("no local fact")
	default:
		return nil, fmt.Errorf("unknown local fact %T", fact)
	}
	return e.out, nil
}

func checkLocal(instance, iface string, vrid uint8) error {
	switch {
	case instance == "":
		return errors.New("no instance name")
	case iface == "":
		return errors.New("no interface")
	case vrid == 0:
		return errors.New("no VRID")
	}
	return nil
}

func localText(instance, iface string, vrid uint8) string {
	return "instance " + instance + " (VRID " + strconv.Itoa(int(vrid)) + " on " + iface + ")"
}

func (e *Engine) selfDemoted(d *LocalDemoted, now time.Time) {
	// The key leaves the family out: an instance has one, and a
	// LocalResumed without it still finds the finding.
	k := fkey{kind: SelfDemoted, iface: d.Interface, vrid: d.VRID, sub: d.Instance}
	fam := d.Family
	if fam == vrrp.FamilyUnknown {
		fam = vrrp.FamilyOf(d.Rival)
	}
	vips := sortedAddrs(d.VIPs)
	fill := func(f *Finding) {
		f.Family = fam
		f.Sources, f.MACs, f.VIPs = []netip.Addr{d.Rival}, nil, capAddrs(vips)
		rival := d.Rival.String() + " (priority " + strconv.Itoa(int(d.RivalPriority)) + ")"
		if !d.RivalMAC.IsZero() {
			f.MACs = []obs.MAC{d.RivalMAC}
			rival = d.Rival.String() + " (" + d.RivalMAC.String() + ", priority " + strconv.Itoa(int(d.RivalPriority)) + ")"
		}
		why := d.Reason
		if why == "" {
			why = "its advertisements fail validation here"
		}
		released := ""
		if len(vips) > 0 {
			released = " and released " + addrList(vips)
		}
		evidence := ""
		if d.Evidence != "" {
			evidence = " (evidence: " + d.Evidence + ")"
		}
		f.Message = fmt.Sprintf("%s on this node stepped down to backup%s because %s is master and outranks it, but %s%s. "+
			"This node yields rather than make a split brain, so %s serves the addresses: fix the configuration of %s to agree with this node's "+
			"(or this node's instance %s, if %s is right); this node stays backup until they agree.",
			localText(d.Instance, d.Interface, d.VRID), released, rival, why, evidence, d.Rival, d.Rival, d.Instance, d.Rival)
		if d.Message != "" {
			f.Message = d.Message
		}
		f.Fingerprint = fingerprint(SelfDemoted, fam, d.VRID, d.Instance, addrsKey(vips), d.Rival.String())
	}
	if a := e.active[k]; a != nil {
		a.lastFill = time.Time{} // a new fact: describe it now
	}
	e.set(k, now, true, now.Add(forever), fill)
}

func (e *Engine) selfResumed(r *LocalResumed, now time.Time) {
	k := fkey{kind: SelfDemoted, iface: r.Interface, vrid: r.VRID, sub: r.Instance}
	a := e.active[k]
	if a == nil {
		return
	}
	if r.Reason != "" {
		a.f.Message = localText(r.Instance, r.Interface, r.VRID) + " on this node takes part in elections again: " + r.Reason + "."
	}
	e.set(k, now, false, time.Time{}, nil)
}

func (e *Engine) localVIP(l *LocalVIPOnBackup, now time.Time) {
	fam := l.Family
	if fam == vrrp.FamilyUnknown {
		fam = vrrp.FamilyOf(l.VIP)
	}
	k := fkey{kind: VIPOnBackup, iface: l.Interface, fam: fam, vrid: l.VRID, sub: "local", addr: l.VIP}
	fill := func(f *Finding) {
		f.MACs, f.VIPs = []obs.MAC{l.MAC}, []netip.Addr{l.VIP}
		what := localText(l.Instance, l.Interface, l.VRID)
		if l.Removed {
			f.Message = fmt.Sprintf("%s is backup on this node, but %s was configured on %s (%s), so this node answered for it next to the master; vrrpguard removed it — find out what added it on this node (a script, a hand-made change, a keepalived that crashed while master)",
				what, l.VIP, l.Interface, l.MAC)
		} else {
			f.Message = fmt.Sprintf("%s is backup on this node, but %s is configured on %s (%s), so this node answers for it next to the master — remove it on this node (`ip addr del` on %s) and find out what added it",
				what, l.VIP, l.Interface, l.MAC, l.Interface)
		}
		f.Fingerprint = fingerprint(VIPOnBackup, fam, l.VRID, l.VIP.String(), "local", l.MAC.String())
	}
	if a := e.active[k]; a != nil {
		a.lastFill = time.Time{}
		if l.Removed {
			e.set(k, now, true, now, fill) // describe the removal
			e.set(k, now, false, time.Time{}, nil)
			return
		}
	}
	expiry := now.Add(forever)
	if l.Removed {
		expiry = now
	}
	e.set(k, now, true, expiry, fill)
}
