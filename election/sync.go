package election

import (
	"errors"
	"fmt"
)

// Sync is the verdict of a sync group (keepalived's vrrp_sync_group) for
// one of its members, fed to the member's machine by the driver. It only
// matters to a machine whose Config.Sync is set.
//
// Fault puts the machine into Fault as a fault of its own would (a master
// first resigns with a priority-0 advertisement, as keepalived's
// vrrp_sync_fault does) until a Sync without Fault.
//
// Master lets the machine become master: one that wants to (its
// Master_Down_Timer fired, see [SyncWant]) becomes master at once, one whose
// timer fires later becomes master then. A Sync without Master makes a
// master step down to Backup without a priority-0 advertisement (keepalived's
// vrrp_sync_backup) and keeps a backup from becoming master.
type Sync struct {
	Fault  bool
	Master bool
	Reason string
}

func (Sync) event() {}

// SyncWant reports that a machine in a sync group changed its wish to be
// master: its Master_Down_Timer fired while the group held it back (Master
// true), or it heard a master it follows since (false). The driver passes
// it on to the group ([SyncGroup.Step]).
type SyncWant struct{ Master bool }

func (SyncWant) action() {}

// Member is what a sync group knows of one member: its state, whether it
// is faulty of its own accord (not because of the group), and whether, in
// Backup, it wants to be master.
type Member struct {
	State      State
	Fault      bool
	WantMaster bool
}

// MemberChanged is an input of [SyncGroup.Step]: the new view of one member.
// A member reporting Initialize has a fresh (or stopped) machine: it is
// sent the group's verdict again.
type MemberChanged struct {
	Name string
	Member
}

// Order is an output of [SyncGroup.Step]: deliver Sync to the named
// member's machine.
type Order struct {
	Member string
	Sync   Sync
}

// GroupTransition is an output of [SyncGroup.Step]: the group's state
// changed (the driver runs the group's notify scripts).
type GroupTransition struct {
	From, To State
	Reason   string
}

// SyncGroup decides keepalived 2.2.7's vrrp_sync_group: while any member is
// faulty every member is put into Fault; otherwise the members become
// master together, only once every one of them is master or wants to be,
// and while any of them is backup without wanting to be master, every
// member is held in Backup. It is pure: the driver feeds it the members'
// changes and carries out its orders. Not safe for concurrent use.
type SyncGroup struct {
	name    string
	order   []string
	members map[string]Member
	sent    map[string]Sync // verdict last ordered to each member
	state   State
}

// NewSyncGroup returns a group of the named members (at least one, no
// name twice), every member in Initialize.
func NewSyncGroup(name string, members []string) (*SyncGroup, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("election: sync group %s: no members", name)
	}
	g := &SyncGroup{name: name, members: map[string]Member{}, sent: map[string]Sync{}}
	for _, m := range members {
		if m == "" {
			return nil, errors.New("election: sync group " + name + ": empty member name")
		}
		if _, dup := g.members[m]; dup {
			return nil, fmt.Errorf("election: sync group %s: member %s given twice", name, m)
		}
		g.members[m] = Member{}
		g.order = append(g.order, m)
	}
	return g, nil
}

// State returns the group's state: Fault while any member is faulty,
// Master once every member is master or wants to be, Initialize while
// every member is, Backup otherwise.
func (g *SyncGroup) State() State { return g.state }

// Name returns the group's name.
func (g *SyncGroup) Name() string { return g.name }

// Step takes one member's change and returns the group's transition (nil
// if its state did not change) and the orders for the members whose verdict
// changed (or that reported Initialize), in configuration order. A change of an unknown member is
// ignored.
func (g *SyncGroup) Step(c MemberChanged) (*GroupTransition, []Order) {
	if _, ok := g.members[c.Name]; !ok {
		return nil, nil
	}
	g.members[c.Name] = c.Member
	if c.State == Initialize {
		delete(g.sent, c.Name)
	}
	from := g.state
	to, why := g.decide()
	g.state = to
	var orders []Order
	for _, name := range g.order {
		v := Sync{Fault: to == Fault, Master: to == Master, Reason: why}
		if last, ok := g.sent[name]; ok && last.Fault == v.Fault && last.Master == v.Master {
			continue
		}
		g.sent[name] = v
		orders = append(orders, Order{Member: name, Sync: v})
	}
	if from == to {
		return nil, orders
	}
	return &GroupTransition{From: from, To: to, Reason: why}, orders
}

// decide returns the group's state for its members' and why.
func (g *SyncGroup) decide() (State, string) {
	allInit := true
	for _, name := range g.order {
		if m := g.members[name]; m.State != Initialize {
			allInit = false
		}
	}
	if allInit {
		return Initialize, "sync group " + g.name + ": no member running"
	}
	for _, name := range g.order {
		if g.members[name].Fault {
			return Fault, "sync group " + g.name + ": member " + name + " in FAULT"
		}
	}
	var waiting []string
	for _, name := range g.order {
		m := g.members[name]
		if m.State != Master && !(m.State == Backup && m.WantMaster) {
			waiting = append(waiting, name)
		}
	}
	if len(waiting) == 0 {
		return Master, "sync group " + g.name + ": every member wants MASTER"
	}
	return Backup, fmt.Sprintf("sync group %s: member %s is %s", g.name, waiting[0], g.members[waiting[0]].State)
}
