package election

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// State is a state of the VRRP state machine.
type State uint8

// States. Initialize is both the state before Startup and after Shutdown.
// Fault is keepalived's: the interface is down or a tracked interface or
// script with weight 0 failed; the router neither advertises nor listens.
const (
	Initialize State = iota
	Backup
	Master
	Fault
)

// String returns "INIT", "BACKUP", "MASTER" or "FAULT" (keepalived's names).
func (s State) String() string {
	switch s {
	case Initialize:
		return "INIT"
	case Backup:
		return "BACKUP"
	case Master:
		return "MASTER"
	case Fault:
		return "FAULT"
	}
	return "STATE(" + strconv.Itoa(int(s)) + ")"
}

// Timer names one of the machine's timers.
type Timer uint8

// Timers of RFC 5798 section 6.2.
const (
	// MasterDownTimer runs in Backup: when it fires the master is
	// presumed dead.
	MasterDownTimer Timer = iota + 1
	// AdverTimer runs in Master: when it fires an advertisement is due.
	AdverTimer
	numTimers
)

// String returns "master_down" or "adver".
func (t Timer) String() string {
	switch t {
	case MasterDownTimer:
		return "master_down"
	case AdverTimer:
		return "adver"
	}
	return "timer(" + strconv.Itoa(int(t)) + ")"
}

// Tracker is a tracked interface or script (keepalived's track_interface
// and track_script): while it is up (a script: succeeding) a positive
// weight is added to the priority; while it is down a negative weight is
// added (subtracted); weight 0 puts the instance into Fault while it is
// down. Reverse swaps up and down.
//
// A Valued tracker (keepalived's track_file) is neither up nor down: its
// effect is what the last [TrackDelta] for it says (a priority change or
// Fault), and Weight and Reverse are not used.
type Tracker struct {
	Name    string
	Weight  int
	Reverse bool
	Valued  bool
}

// Config is the configuration of one virtual router.
type Config struct {
	// Version is the VRRP version, 2 or 3.
	Version int
	// Priority is the base priority, 1-255 (255: the address owner).
	Priority uint8
	// AdvertInt is the Advertisement_Interval.
	AdvertInt time.Duration
	// Nopreempt disables preemption of a lower-priority master.
	Nopreempt bool
	// PreemptDelay (keepalived's preempt_delay) holds back preemption for
	// that long after startup, and after hearing a lower-priority master
	// for the first time since hearing a higher-priority one.
	PreemptDelay time.Duration
	// PrimaryIP is the router's own source address, for the tie-break
	// between masters of equal priority (the higher address wins).
	PrimaryIP netip.Addr
	// Trackers are the tracked interfaces and scripts; each starts up (use
	// a TrackChanged event before Startup for keepalived's init_fail).
	Trackers []Tracker
	// Sync makes the router a member of a sync group (keepalived's
	// vrrp_sync_group): it becomes master only while the group lets it
	// ([Sync] with Master); when it would otherwise, it stays backup and
	// reports [SyncWant].
	Sync bool
	// DontTrackPrimary is keepalived's dont_track_primary: the router's
	// own interface going down is not a Fault ([InterfaceChanged] is
	// ignored).
	DontTrackPrimary bool
}

// Event is an input of [Machine.Step].
type Event interface{ event() }

// Startup starts the machine (RFC 5798 6.4.1).
type Startup struct{}

// Shutdown stops the machine; a master resigns with a priority-0
// advertisement.
type Shutdown struct{}

// AdvertReceived is a valid advertisement for this virtual router (the
// driver has checked TTL, checksum, version, VRID and authentication).
type AdvertReceived struct {
	// Src is the sender's primary address (the IP source).
	Src netip.Addr
	// Priority is the advertised priority (0: the master resigns).
	Priority uint8
	// Interval is the advertised interval (version 3: Max Adver Int).
	Interval time.Duration
}

// TimerFired reports that a deadline set with [SetTimer] has passed.
type TimerFired struct{ Timer Timer }

// InterfaceChanged reports the instance's own interface going down (Fault)
// or coming back up. It is ignored with Config.DontTrackPrimary.
type InterfaceChanged struct{ Up bool }

// TrackChanged reports a tracked interface or script (by Tracker.Name)
// going up (OK, a script succeeding) or down.
type TrackChanged struct {
	Name string
	OK   bool
}

// TrackDelta reports the effect of a Valued tracker (by Tracker.Name):
// Delta is added to the priority, or with Fault the router is faulty. A
// Valued tracker starts with Delta 0. It is ignored for a tracker that is
// not Valued.
type TrackDelta struct {
	Name  string
	Delta int
	Fault bool
}

// Demote holds the router out of the election (a vrrpguard extension, not
// in the RFCs): a master resigns as on [Shutdown] (a priority-0
// advertisement) and becomes backup, removing its addresses; in any state
// the router then never becomes master (neither on Master_Down_Timer
// expiry nor by preemption, nor as the address owner) until [Resume]. A
// demoted backup still listens: it follows the master it hears, whatever
// its priority. Demote in Fault or Initialize is recorded and applies when
// the router comes up. A second Demote only replaces the reason.
type Demote struct{ Reason string }

// Resume ends a [Demote]: a demoted backup whose Master_Down_Timer fired
// while it was held (no master heard for Master_Down_Interval) becomes
// master at once; otherwise it arms a fresh
// Master_Down_Timer, so it takes over after Master_Down_Interval unless it
// hears a master it must not preempt. Resume of a router that is not
// demoted does nothing.
type Resume struct{ Reason string }

func (Startup) event()          {}
func (Shutdown) event()         {}
func (AdvertReceived) event()   {}
func (TimerFired) event()       {}
func (InterfaceChanged) event() {}
func (TrackChanged) event()     {}
func (TrackDelta) event()       {}
func (Demote) event()           {}
func (Resume) event()           {}

// Action is an output of [Machine.Step], to be carried out in order.
type Action interface{ action() }

// SendAdvert asks for one advertisement with the given priority.
type SendAdvert struct{ Priority uint8 }

// Transition reports a change of state. The driver adds the virtual
// addresses and announces them (gratuitous ARP, unsolicited NA) when To is
// Master, removes them when From is Master, and runs the notify scripts of
// To (Initialize after a Shutdown: notify_stop).
type Transition struct {
	From, To State
	// Priority is the effective priority after the transition.
	Priority uint8
	// Reason says why, for logs.
	Reason string
}

// SetTimer arms (or moves) a timer to fire at At.
type SetTimer struct {
	Timer Timer
	At    time.Time
}

// StopTimer disarms a timer.
type StopTimer struct{ Timer Timer }

func (SendAdvert) action() {}
func (Transition) action() {}
func (SetTimer) action()   {}
func (StopTimer) action()  {}

// String formats the action for logs and test failures.
func (a SetTimer) String() string {
	return "SetTimer(" + a.Timer.String() + ", " + a.At.Format("15:04:05.000") + ")"
}

// Machine is the state machine of one virtual router. The zero value is not
// usable: create it with [New]. A Machine is not safe for concurrent use.
type Machine struct {
	cfg            Config
	state          State
	masterAdverInt time.Duration
	deadline       [numTimers]time.Time
	ifDown         bool
	down           map[string]bool // trackers currently down (Valued: faulty)
	delta          map[string]int  // priority changes of Valued trackers
	preemptAt      time.Time
	master         netip.Addr // last master heard (Backup)
	masterPrio     uint8
	demoted        bool
	demoteReason   string
	// resumed: a Resume armed the Master_Down_Timer and no master has
	// been heard since (the takeover it leads to names resumeReason).
	resumed      bool
	resumeReason string
	// Sync group (Config.Sync): the group's last verdict, and whether the
	// router, held in Backup, wants to be master.
	syncFault, syncMaster bool
	syncReason            string
	wantMaster            bool
}

// New checks cfg and returns a machine in Initialize.
func New(cfg Config) (*Machine, error) {
	if cfg.Version != 2 && cfg.Version != 3 {
		return nil, fmt.Errorf("election: version %d: want 2 or 3", cfg.Version)
	}
	if cfg.Priority == 0 {
		return nil, errors.New("election: priority 0 is reserved for resigning")
	}
	if cfg.AdvertInt <= 0 {
		return nil, fmt.Errorf("election: advertisement interval %v: want > 0", cfg.AdvertInt)
	}
	if !cfg.PrimaryIP.IsValid() {
		return nil, errors.New("election: no primary address")
	}
	seen := map[string]bool{}
	for _, t := range cfg.Trackers {
		if seen[t.Name] {
			return nil, fmt.Errorf("election: tracker %q given twice", t.Name)
		}
		seen[t.Name] = true
	}
	cfg.Trackers = append([]Tracker(nil), cfg.Trackers...)
	return &Machine{cfg: cfg, masterAdverInt: cfg.AdvertInt, down: map[string]bool{}, delta: map[string]int{}}, nil
}

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Config returns the machine's configuration.
func (m *Machine) Config() Config { return m.cfg }

// Priority returns the effective priority: the base priority adjusted by
// the trackers' weights, kept within 1-254 (255 for the address owner,
// whose priority trackers do not change).
func (m *Machine) Priority() uint8 {
	p := int(m.cfg.Priority)
	if p == 255 {
		return 255
	}
	for _, t := range m.cfg.Trackers {
		if t.Valued {
			if !m.down[t.Name] {
				p += m.delta[t.Name]
			}
			continue
		}
		up := !m.down[t.Name]
		if t.Reverse {
			up = !up
		}
		if (t.Weight > 0 && up) || (t.Weight < 0 && !up) {
			p += t.Weight
		}
	}
	return uint8(min(max(p, 1), 254))
}

// Faulty reports whether the router is faulty of its own accord: its
// interface is down or a weight-0 tracker is (not a sync group's Fault).
func (m *Machine) Faulty() bool {
	bad, _ := m.ownFault()
	return bad
}

// WantsMaster reports whether the router, a sync group member held in
// Backup, wants to be master (see [SyncWant]).
func (m *Machine) WantsMaster() bool { return m.wantMaster }

// faulty reports whether the router is faulty of its own accord or because
// its sync group is, and why.
func (m *Machine) faulty() (bool, string) {
	if bad, why := m.ownFault(); bad {
		return bad, why
	}
	if m.cfg.Sync && m.syncFault {
		return true, m.syncReason
	}
	return false, ""
}

// ownFault reports whether the interface is down or a weight-0 tracker is.
func (m *Machine) ownFault() (bool, string) {
	if m.ifDown {
		return true, "interface down"
	}
	for _, t := range m.cfg.Trackers {
		down := m.down[t.Name]
		if t.Valued {
			if down {
				return true, "tracked " + t.Name + " down"
			}
			continue
		}
		if t.Reverse {
			down = !down
		}
		if t.Weight == 0 && down {
			return true, "tracked " + t.Name + " down"
		}
	}
	return false, ""
}

// MasterAdverInt returns Master_Adver_Interval: the interval learnt from the
// master's advertisements (version 3), else the configured one.
func (m *Machine) MasterAdverInt() time.Duration { return m.masterAdverInt }

// SkewTime returns Skew_Time for the effective priority: RFC 5798's
// ((256-Priority)*Master_Adver_Interval)/256 for version 3, RFC 3768's
// (256-Priority)/256 seconds for version 2.
func (m *Machine) SkewTime() time.Duration {
	iv := m.masterAdverInt
	if m.cfg.Version == 2 {
		iv = time.Second
	}
	return time.Duration(256-int(m.Priority())) * iv / 256
}

// MasterDownInterval returns 3*Master_Adver_Interval + Skew_Time.
func (m *Machine) MasterDownInterval() time.Duration {
	return 3*m.masterAdverInt + m.SkewTime()
}

// Demoted reports whether the router is held out of the election by
// [Demote], and the reason given.
func (m *Machine) Demoted() (bool, string) { return m.demoted, m.demoteReason }

// Master returns the address and priority of the master last heard in
// Backup (invalid when none, or when this router is master).
func (m *Machine) Master() (netip.Addr, uint8) { return m.master, m.masterPrio }

// Deadline returns when a timer fires (zero if stopped).
func (m *Machine) Deadline(t Timer) time.Time {
	if t == 0 || t >= numTimers {
		return time.Time{}
	}
	return m.deadline[t]
}

// Step feeds one event at time now and returns the actions to carry out, in
// order.
func (m *Machine) Step(now time.Time, ev Event) []Action {
	s := step{m: m, now: now}
	s.event(ev)
	return s.out
}

// StepInto is Step for a driver that reads the timers' deadlines with
// [Machine.Deadline] after each step instead of carrying out [SetTimer]
// and [StopTimer]: it leaves those out, appends the other actions to
// dst[:0] and returns it. A driver that passes the returned slice back in
// allocates nothing per advertisement (Step allocates its list and every
// SetTimer). The actions may be carried out before the deadlines are
// read: no other action depends on them.
func (m *Machine) StepInto(dst []Action, now time.Time, ev Event) []Action {
	s := step{m: m, now: now, out: dst[:0], noTimers: true}
	s.event(ev)
	return s.out
}

// event feeds one event to the machine.
func (s *step) event(ev Event) {
	m := s.m
	switch e := ev.(type) {
	case Startup:
		s.startup()
	case Shutdown:
		s.shutdown()
	case AdvertReceived:
		s.advert(e)
	case TimerFired:
		s.timer(e.Timer)
	case InterfaceChanged:
		if m.cfg.DontTrackPrimary {
			return
		}
		m.ifDown = !e.Up
		s.tracking()
	case TrackChanged:
		if t, ok := m.tracker(e.Name); !ok || t.Valued {
			return
		}
		if e.OK {
			delete(m.down, e.Name)
		} else {
			m.down[e.Name] = true
		}
		s.tracking()
	case TrackDelta:
		if t, ok := m.tracker(e.Name); !ok || !t.Valued || (m.delta[e.Name] == e.Delta && m.down[e.Name] == e.Fault) {
			return
		}
		m.delta[e.Name] = e.Delta
		if e.Fault {
			m.down[e.Name] = true
		} else {
			delete(m.down, e.Name)
		}
		s.tracking()
	case Demote:
		s.demote(e.Reason)
	case Resume:
		s.resume(e.Reason)
	case Sync:
		s.sync(e)
	}
}

func (m *Machine) tracker(name string) (Tracker, bool) {
	for _, t := range m.cfg.Trackers {
		if t.Name == name {
			return t, true
		}
	}
	return Tracker{}, false
}

// step accumulates the actions of one Step.
type step struct {
	m   *Machine
	now time.Time
	out []Action
	// noTimers: StepInto, the timers are not actions.
	noTimers bool
}

func (s *step) emit(a Action) { s.out = append(s.out, a) }

func (s *step) set(t Timer, d time.Duration) {
	s.setAt(t, s.now.Add(d))
}

func (s *step) setAt(t Timer, at time.Time) {
	s.m.deadline[t] = at
	if !s.noTimers {
		s.emit(SetTimer{Timer: t, At: at})
	}
}

func (s *step) stop(t Timer) {
	if !s.m.deadline[t].IsZero() {
		s.m.deadline[t] = time.Time{}
		if !s.noTimers {
			s.emit(StopTimer{Timer: t})
		}
	}
}

func (s *step) transition(to State, reason string) {
	from := s.m.state
	s.m.state = to
	s.m.resumed = false
	s.m.wantMaster = false
	if to != Backup {
		s.m.master, s.m.masterPrio = netip.Addr{}, 0
	}
	s.emit(Transition{From: from, To: to, Priority: s.m.Priority(), Reason: reason})
}

// toMaster sends the first advertisement and becomes master.
func (s *step) toMaster(reason string) {
	s.stop(MasterDownTimer)
	s.emit(SendAdvert{Priority: s.m.Priority()})
	s.set(AdverTimer, s.m.cfg.AdvertInt)
	s.transition(Master, reason)
}

// toBackup arms the Master_Down_Timer and becomes backup.
func (s *step) toBackup(reason string) {
	s.stop(AdverTimer)
	s.set(MasterDownTimer, s.m.MasterDownInterval())
	s.transition(Backup, reason)
}

// up is Startup's choice, also used when leaving Fault: the address owner
// is master at once, everyone else backup (keepalived ignores "state
// MASTER" here); a demoted router is backup whatever its priority.
func (s *step) up(reason string) {
	s.m.masterAdverInt = s.m.cfg.AdvertInt
	if s.m.demoted {
		s.toBackup(reason + " (" + demotedReason(s.m.demoteReason) + ")")
		return
	}
	if s.m.Priority() == 255 {
		if s.m.cfg.Sync && !s.m.syncMaster {
			s.toBackup(reason)
		}
		s.goMaster(reason + ": priority 255 (address owner)")
		return
	}
	s.toBackup(reason)
}

// goMaster becomes master, unless a sync group holds the router back: then
// it stays backup wanting to be master (reported with SyncWant) and re-arms
// the Master_Down_Timer, as keepalived's vrrp_sync_can_goto_master does.
func (s *step) goMaster(reason string) {
	m := s.m
	if m.cfg.Sync && !m.syncMaster {
		if !m.wantMaster {
			m.wantMaster = true
			s.emit(SyncWant{Master: true})
		}
		s.set(MasterDownTimer, m.MasterDownInterval())
		return
	}
	s.toMaster(reason)
}

// unwant ends a held backup's wish to be master (it heard a master it
// follows).
func (s *step) unwant() {
	if s.m.wantMaster {
		s.m.wantMaster = false
		s.emit(SyncWant{Master: false})
	}
}

// sync applies a sync group's verdict.
func (s *step) sync(e Sync) {
	m := s.m
	if !m.cfg.Sync {
		return
	}
	m.syncFault, m.syncMaster, m.syncReason = e.Fault, e.Master, e.Reason
	if m.state == Initialize {
		return
	}
	wasFault := m.state == Fault
	if bad, _ := m.faulty(); bad != wasFault {
		s.tracking()
		return
	}
	switch {
	case m.state == Master && !e.Master:
		// keepalived's vrrp_sync_backup: no priority-0 advertisement.
		m.master, m.masterPrio = netip.Addr{}, 0
		s.toBackup(e.Reason)
	case m.state == Backup && e.Master && m.wantMaster && !m.demoted:
		s.toMaster(e.Reason)
	}
}

func (s *step) startup() {
	m := s.m
	if m.state != Initialize {
		return
	}
	m.preemptAt = time.Time{}
	if m.cfg.PreemptDelay > 0 {
		m.preemptAt = s.now.Add(m.cfg.PreemptDelay)
	}
	if bad, why := m.faulty(); bad {
		s.transition(Fault, "startup: "+why)
		return
	}
	s.up("startup")
}

func (s *step) shutdown() {
	m := s.m
	switch m.state {
	case Initialize:
		return
	case Master:
		s.stop(AdverTimer)
		s.emit(SendAdvert{Priority: 0})
	case Backup:
		s.stop(MasterDownTimer)
	}
	s.transition(Initialize, "shutdown")
}

func (s *step) timer(t Timer) {
	m := s.m
	if t == 0 || t >= numTimers {
		return
	}
	at := m.deadline[t]
	if at.IsZero() || s.now.Before(at) {
		return // stopped or moved since: a stale firing
	}
	m.deadline[t] = time.Time{}
	switch {
	case t == MasterDownTimer && m.state == Backup && m.demoted:
		// Held back: the master is presumed gone, but this router stays
		// backup (until an advertisement re-arms the timer, or Resume).
		m.master, m.masterPrio = netip.Addr{}, 0
	case t == MasterDownTimer && m.state == Backup:
		reason := "master down timer expired (no advertisement for " + m.MasterDownInterval().String() + ")"
		if m.resumed {
			reason = resumedReason(m.resumeReason) + "; " + reason
		}
		s.goMaster(reason)
	case t == AdverTimer && m.state == Master:
		s.emit(SendAdvert{Priority: m.Priority()})
		s.set(AdverTimer, m.cfg.AdvertInt)
	}
}

// learn takes the master's interval (version 3 only: in version 2 every
// router uses its own, and keepalived drops adverts whose interval
// differs).
func (s *step) learn(e AdvertReceived) {
	if s.m.cfg.Version == 3 && e.Interval > 0 {
		s.m.masterAdverInt = e.Interval
	}
}

func (s *step) advert(e AdvertReceived) {
	m := s.m
	switch m.state {
	case Backup:
		if e.Priority == 0 {
			// RFC 5798 6.4.2: the master resigned; take over after Skew_Time
			// (a demoted router only forgets the master then).
			m.resumed = false
			s.setAt(MasterDownTimer, s.now.Add(m.SkewTime()))
			return
		}
		local := m.Priority()
		higher := e.Priority >= local
		if m.cfg.PreemptDelay > 0 && !m.cfg.Nopreempt {
			if e.Priority > local {
				m.preemptAt = time.Time{}
			} else if m.preemptAt.IsZero() {
				m.preemptAt = s.now.Add(m.cfg.PreemptDelay)
			}
		}
		holdBack := m.cfg.PreemptDelay > 0 && s.now.Before(m.preemptAt)
		if m.cfg.Nopreempt || higher || holdBack || m.demoted {
			m.master, m.masterPrio = e.Src, e.Priority
			m.resumed = false
			s.unwant()
			s.learn(e)
			s.set(MasterDownTimer, m.MasterDownInterval())
		}
		// else: preempt a lower-priority master; the Master_Down_Timer
		// keeps running.
	case Master:
		if e.Priority == 0 {
			s.emit(SendAdvert{Priority: m.Priority()})
			s.set(AdverTimer, m.cfg.AdvertInt)
			return
		}
		local := m.Priority()
		if e.Priority > local || (e.Priority == local && e.Src.Compare(m.cfg.PrimaryIP) > 0) {
			s.learn(e)
			m.master, m.masterPrio = e.Src, e.Priority
			reason := fmt.Sprintf("advertisement from %s with higher priority %d, ours %d", e.Src, e.Priority, local)
			if e.Priority == local {
				reason = fmt.Sprintf("advertisement from %s with equal priority %d and a higher address", e.Src, e.Priority)
			}
			s.toBackup(reason)
			return
		}
		// keepalived: a lower-priority master is told at once who is master.
		s.emit(SendAdvert{Priority: local})
		s.set(AdverTimer, m.cfg.AdvertInt)
	}
}

// tracking reacts to a change of the interface or a tracker.
func (s *step) tracking() {
	m := s.m
	bad, why := m.faulty()
	switch m.state {
	case Initialize:
		return
	case Fault:
		if !bad {
			s.up("fault cleared")
		}
		return
	}
	if bad {
		if m.state == Master {
			s.emit(SendAdvert{Priority: 0})
		}
		s.stop(AdverTimer)
		s.stop(MasterDownTimer)
		s.transition(Fault, why)
		return
	}
	if m.state == Master {
		// Tell the backups the new priority at once.
		s.emit(SendAdvert{Priority: m.Priority()})
		s.set(AdverTimer, m.cfg.AdvertInt)
	}
}

// demotedReason and resumedReason are the words of a transition caused by
// Demote or Resume.
func demotedReason(why string) string {
	if why == "" {
		return "demoted"
	}
	return "demoted: " + why
}

func resumedReason(why string) string {
	if why == "" {
		return "resumed"
	}
	return "resumed: " + why
}

// demote holds the router out of the election; a master resigns.
func (s *step) demote(reason string) {
	m := s.m
	m.demoted, m.demoteReason, m.resumed = true, reason, false
	s.unwant() // a held sync group member no longer wants to be master
	if m.state != Master {
		return // Backup: held from now on; Fault, Initialize: applies on the way up
	}
	s.emit(SendAdvert{Priority: 0})
	s.toBackup(demotedReason(reason))
}

// resume lets the router take part in the election again.
func (s *step) resume(reason string) {
	m := s.m
	if !m.demoted {
		return
	}
	m.demoted, m.demoteReason = false, ""
	if m.state != Backup {
		return
	}
	if m.deadline[MasterDownTimer].IsZero() {
		// The Master_Down_Timer fired while held: no master has been
		// heard for Master_Down_Interval, so the one this router waited
		// for is gone — take over now, as the timer would have.
		s.goMaster(resumedReason(reason) + "; no master heard for " + m.MasterDownInterval().String())
		return
	}
	m.resumed, m.resumeReason = true, reason
	s.set(MasterDownTimer, m.MasterDownInterval())
}
