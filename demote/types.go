package demote

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/election"

	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// State is the own instance's VRRP state: the election's.
type State = election.State

// States of the own instance.
const (
	Init   = election.Initialize
	Backup = election.Backup
	Master = election.Master
	Fault  = election.Fault
)

// Mode is the policy's own state, for the status page.
type Mode uint8

// Modes.
const (
	// Normal: no rival, nothing to watch.
	Normal Mode = iota
	// Suspect: the instance is MASTER and a router that recently claimed
	// its VIPs is not live now; probes ask whether it still holds them.
	Suspect
	// Holding: the instance is MASTER and outranks a live rival; it keeps
	// the VIPs until Params.Hold has passed since the rival was confirmed.
	Holding
	// Demoted: the instance gave up its VIPs and stays BACKUP until every
	// rival is silent.
	Demoted
)

// String returns "normal", "suspect", "holding" or "demoted".
func (m Mode) String() string {
	switch m {
	case Normal:
		return "normal"
	case Suspect:
		return "suspect"
	case Holding:
		return "holding"
	case Demoted:
		return "demoted"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Reason says why the policy demoted or resumed; the values are short codes
// fit for a metric label.
type Reason string

// Reasons.
const (
	// ReasonOutranked: a live rival outranks the instance (Demote).
	ReasonOutranked Reason = "outranked"
	// ReasonHoldExpired: an outranked rival was still live after
	// Params.Hold: it will not yield, so the instance does (Demote).
	ReasonHoldExpired Reason = "hold_expired"
	// ReasonRivalReturned: a rival the instance yielded to and then resumed
	// from is live again within Params.Recent; the instance yields at once
	// instead of holding again (Demote).
	ReasonRivalReturned Reason = "rival_returned"
	// ReasonRivalSilent: every rival stopped advertising and answering
	// (Resume).
	ReasonRivalSilent Reason = "rival_silent"
	// ReasonRivalResigned: the last live rival sent a priority-0
	// advertisement, releasing the VIPs (Resume).
	ReasonRivalResigned Reason = "rival_resigned"
)

// Claim says how a router claims the instance's VIPs.
type Claim string

// Claims.
const (
	// ClaimRejected: it advertises the instance's VRID and one of its VIPs
	// with advertisements the participant's validation rejects (password,
	// version, interval or address list mismatch).
	ClaimRejected Claim = "rejected_adverts"
	// ClaimUnheard: it advertises the VRID with advertisements the
	// participant would accept, but they keep arriving while the instance
	// stays MASTER: they are captured but never reach the election (a
	// firewall drops VRRP after capture).
	ClaimUnheard Claim = "unheard_adverts"
	// ClaimOtherVRID: it advertises one of the VIPs in another VRID.
	ClaimOtherVRID Claim = "other_vrid"
	// ClaimAnswers: it advertised recently and no longer does, but still
	// answers ARP / neighbour solicitations for a VIP.
	ClaimAnswers Claim = "answers_only"
	// ClaimAccepted: it advertises the VRID with accepted advertisements
	// (a normal peer: not a claim by itself). Seen in snapshots only.
	ClaimAccepted Claim = "accepted_adverts"
)

// Instance describes the own VRRP instance.
type Instance struct {
	// Name is the vrrp_instance name, copied into actions.
	Name string
	// Interface is where the instance runs and where its observations are
	// captured (obs.Observation.Interface: "IF.VLAN" for tagged frames).
	Interface string
	Family    vrrp.Family
	VRID      uint8
	Version   uint8 // 2 or 3
	// Priority is the effective priority until a StateChanged event says
	// otherwise (1-255).
	Priority uint8
	// AdvertInt is the instance's advertisement interval; it stands in for
	// a rival's when the rival advertises 0.
	AdvertInt time.Duration
	// Primary is the source address of the instance's advertisements: the
	// address the tie-break between equal priorities compares.
	Primary netip.Addr
	// Addrs are other addresses of this node (never rivals); Primary need
	// not be repeated.
	Addrs []netip.Addr
	// MACs are every MAC this node sends from on the interface (the
	// interface's, and a virtual MAC when use_vmac is on). Nothing from
	// them is a rival. At least one is required.
	MACs []obs.MAC
	// VIPs are the instance's virtual addresses on Interface.
	VIPs []netip.Addr
}

// Params are the policy's timings and caps. A zero field takes its default
// (DefaultParams); negative values are errors.
type Params struct {
	// Hold is how long an outranking MASTER keeps the VIPs against a live
	// rival before yielding (default 10s).
	Hold time.Duration
	// Recent is how long a router that advertised a claim stays a
	// candidate: within it, answers for a VIP make it a rival, and a rival
	// met again after a resume is yielded to at once (default 3m).
	Recent time.Duration
	// AnswerWindow is how long an answer keeps a router live. Zero: per
	// rival, max(its Master_Down_Interval, 2×ProbeInterval + 1s).
	AnswerWindow time.Duration
	// ProbeInterval is how often to probe the VIPs while suspect, holding
	// or demoted (default 2s).
	ProbeInterval time.Duration
	// MaxRivals caps the routers tracked; past it the least recently seen
	// is evicted (default 64).
	MaxRivals int
}

// DefaultParams returns the defaults.
func DefaultParams() Params {
	return Params{Hold: 10 * time.Second, Recent: 3 * time.Minute, ProbeInterval: 2 * time.Second, MaxRivals: 64}
}

// withDefaults fills zero fields and checks the rest.
func (p Params) withDefaults() (Params, error) {
	d := DefaultParams()
	switch {
	case p.Hold < 0:
		return p, fmt.Errorf("demote: hold %v: must not be negative", p.Hold)
	case p.Recent < 0:
		return p, fmt.Errorf("demote: recent %v: must not be negative", p.Recent)
	case p.AnswerWindow < 0:
		return p, fmt.Errorf("demote: answer window %v: must not be negative", p.AnswerWindow)
	case p.ProbeInterval < 0:
		return p, fmt.Errorf("demote: probe interval %v: must not be negative", p.ProbeInterval)
	case p.MaxRivals < 0:
		return p, fmt.Errorf("demote: max rivals %d: must not be negative", p.MaxRivals)
	}
	if p.Hold == 0 {
		p.Hold = d.Hold
	}
	if p.Recent == 0 {
		p.Recent = d.Recent
	}
	if p.ProbeInterval == 0 {
		p.ProbeInterval = d.ProbeInterval
	}
	if p.MaxRivals == 0 {
		p.MaxRivals = d.MaxRivals
	}
	return p, nil
}

// check validates the instance description.
func (in *Instance) check() error {
	switch {
	case in.Name == "":
		return errors.New("demote: instance without a name")
	case in.Interface == "":
		return fmt.Errorf("demote: instance %s: no interface", in.Name)
	case in.Family != vrrp.IPv4 && in.Family != vrrp.IPv6:
		return fmt.Errorf("demote: instance %s: family %s: want ipv4 or ipv6", in.Name, in.Family)
	case in.VRID == 0:
		return fmt.Errorf("demote: instance %s: vrid 0: want 1-255", in.Name)
	case in.Version != 2 && in.Version != 3:
		return fmt.Errorf("demote: instance %s: version %d: want 2 or 3", in.Name, in.Version)
	case in.Priority == 0:
		return fmt.Errorf("demote: instance %s: priority 0: want 1-255", in.Name)
	case in.AdvertInt <= 0:
		return fmt.Errorf("demote: instance %s: advertisement interval %v: want > 0", in.Name, in.AdvertInt)
	case !in.Primary.IsValid():
		return fmt.Errorf("demote: instance %s: no primary address", in.Name)
	case vrrp.FamilyOf(in.Primary) != in.Family:
		return fmt.Errorf("demote: instance %s: primary address %s is not %s", in.Name, in.Primary, in.Family)
	case len(in.MACs) == 0:
		return fmt.Errorf("demote: instance %s: no own MAC address", in.Name)
	case len(in.VIPs) == 0:
		return fmt.Errorf("demote: instance %s: no virtual addresses", in.Name)
	}
	for _, a := range in.Addrs {
		if !a.IsValid() {
			return fmt.Errorf("demote: instance %s: invalid own address", in.Name)
		}
	}
	for _, v := range in.VIPs {
		if !v.IsValid() {
			return fmt.Errorf("demote: instance %s: invalid virtual address", in.Name)
		}
	}
	for _, m := range in.MACs {
		if m.IsZero() {
			return fmt.Errorf("demote: instance %s: own MAC 00:00:00:00:00:00", in.Name)
		}
	}
	return nil
}

// Event is an input of [Policy.Step].
type Event interface{ event() }

// StateChanged reports the own instance's state or effective priority.
type StateChanged struct {
	State State
	// Priority is the effective priority; 0 keeps the previous one.
	Priority uint8
}

// Observed is one observation of the segment. Step copies what it keeps;
// the observation's slices are not retained. Only the instance's interface
// counts. Advertisements count with TTL / hop limit 255 and a checksum
// that is not invalid, from a source that is not this node's, when they
// list one of the VIPs (or, for the own VRID, no address at all). Any ARP
// packet whose sender address is a VIP and any neighbour advertisement for
// a VIP is an answer from its MAC.
type Observed struct {
	Obs obs.Observation
	// Accepted: for an advertisement of the instance's own VRID, whether
	// the participant's validation accepts it (it reaches the election).
	// Anything the election does not get (bad password, other version,
	// interval or address list) is not accepted. Ignored otherwise.
	Accepted bool
	// Reject is why validation rejected it (for evidence; optional).
	Reject string
}

// Tick asks the policy to act on the passage of time; send it at Next().
type Tick struct{}

func (StateChanged) event() {}
func (Observed) event()     {}
func (Tick) event()         {}

// Action is an output of [Policy.Step], to be carried out in order.
type Action interface{ action() }

// Demote asks the participant to yield the instance: send a priority-0
// advertisement, remove the VIPs, go BACKUP and stay BACKUP (no
// Master_Down_Timer takeover, no preemption) until Resume.
type Demote struct {
	Instance string
	Reason   Reason
	Evidence Evidence
}

// Resume ends a Demote: the instance runs its election normally again.
type Resume struct {
	Instance string
	Reason   Reason
	Evidence Evidence
}

// Probe asks for an ARP probe (IPv4) or neighbour solicitation (IPv6) of
// VIP on Interface, so whoever holds it answers.
type Probe struct {
	Interface string
	VIP       netip.Addr
}

// Reannounce asks the MASTER instance to send its gratuitous ARP /
// unsolicited neighbour advertisement burst again: a rival that held the
// VIPs went silent, and hosts may still send to it (keepalived does not
// re-announce: its issue #166). While holding, it comes as soon as the
// rivals stop answering the probes and advertising (a keepalived that
// hears this node's higher priority steps down without a word), once per
// such silence; otherwise when they are no longer live. Evidence names
// that rival.
type Reannounce struct {
	Instance string
	Evidence Evidence
}

func (Demote) action()     {}
func (Resume) action()     {}
func (Probe) action()      {}
func (Reannounce) action() {}

// Evidence is what a decision rests on: enough for a log line, a metric
// label (Reason of the action, Claim) and a finding message.
type Evidence struct {
	// Rival is the router's primary address (its advertisements' source),
	// MAC its source MAC.
	Rival netip.Addr
	MAC   obs.MAC
	// VRID, Version, Priority and Interval are from its last
	// advertisement; Priority is the last positive one.
	VRID     uint8
	Version  uint8
	Priority uint8
	Interval time.Duration
	// OwnPriority is the instance's effective priority at the decision.
	OwnPriority uint8
	// Claim is how it claims the VIPs; Reject the validation error of its
	// rejected advertisements, if the participant gave one.
	Claim  Claim
	Reject string
	// VIP is a contested virtual address.
	VIP netip.Addr
	// LastAdvert is its last positive-priority advertisement, LastAnswer
	// its last ARP / neighbour advertisement for a VIP (zero: never).
	LastAdvert time.Time
	LastAnswer time.Time
	// Seen describes the last thing seen from it, at SeenAt.
	Seen   string
	SeenAt time.Time
}

// Rival is one tracked router in a [Snapshot].
type Rival struct {
	Addr     netip.Addr
	MAC      obs.MAC
	VRID     uint8
	Version  uint8
	Priority uint8
	Interval time.Duration
	Claim    Claim
	// Live: a confirmed rival now (the instance is MASTER, or demoted and
	// kept demoted by it).
	Live bool
	// Outranks: it ranks above the instance (priority, then address).
	Outranks   bool
	Resigned   bool
	FirstSeen  time.Time
	LastAdvert time.Time
	LastAnswer time.Time
	LastSeen   time.Time
	Seen       string
}

// Snapshot is a read-only view of a policy for a status page.
type Snapshot struct {
	Instance string
	Mode     Mode
	// Since is when Mode was entered.
	Since    time.Time
	State    State
	Priority uint8
	// HoldUntil is when a Holding instance yields if the rival is still
	// live (zero otherwise).
	HoldUntil time.Time
	// Reason and Cause are the last Demote's while Demoted.
	Reason Reason
	Cause  Evidence
	// Rivals are the tracked routers, highest rank first.
	Rivals []Rival
}
