package track

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ProcessConfig is the quorum of a tracked process (keepalived's
// vrrp_track_process).
type ProcessConfig struct {
	// Quorum is the least number of matching processes for the process to
	// be up (0-65535); QuorumMax the most (negative: no bound).
	Quorum    int
	QuorumMax int
	// ForkDelay delays counting the process up when a fork of a matching
	// process reaches the quorum (or leaves QuorumMax); TerminateDelay
	// delays counting it down when an exit loses the quorum (or reaches
	// QuorumMax from above). A fork or exit undoing a pending change
	// cancels it.
	ForkDelay      time.Duration
	TerminateDelay time.Duration
}

// Event is an input of [Process.Step].
type Event interface{ event() }

// Fork reports a new process (not a thread) Child forked by Parent: a
// child of a matching process matches too.
type Fork struct{ Parent, Child int }

// Matched reports whether process Pid matches now, after it executed a
// new program (the kernel's exec event) or changed its name (comm event):
// a new match counts at once, a lost one stops counting at once (no
// delay), as in keepalived.
type Matched struct {
	Pid   int
	Match bool
}

// Exit reports that process Pid exited.
type Exit struct{ Pid int }

// Rescan replaces the matching processes with a fresh list (after lost
// events): a gain of quorum counts at once, a loss after TerminateDelay.
type Rescan struct{ Pids []int }

// TimerFired reports that the deadline of the last [SetTimer] passed.
type TimerFired struct{}

func (Fork) event()       {}
func (Matched) event()    {}
func (Exit) event()       {}
func (Rescan) event()     {}
func (TimerFired) event() {}

// Action is an output of [Process.Step].
type Action interface{ action() }

// QuorumChanged reports that the process is now up (within its quorum) or
// down.
type QuorumChanged struct{ Up bool }

// SetTimer asks for a [TimerFired] at At; a zero At cancels the timer.
type SetTimer struct{ At time.Time }

func (QuorumChanged) action() {}
func (SetTimer) action()      {}

// String formats the action for logs and test failures.
func (a QuorumChanged) String() string {
	if a.Up {
		return "up"
	}
	return "down"
}

// String formats the action for logs and test failures.
func (a SetTimer) String() string {
	if a.At.IsZero() {
		return "timer off"
	}
	return "timer " + a.At.Format("15:04:05.000")
}

// Process is the quorum state of one tracked process: which processes
// match, whether their number is within the quorum, and the pending
// fork or terminate delay. It follows keepalived 2.2.7's track_process.c,
// except that a process is counted once however often it is reported. The
// zero value is not usable: create it with [NewProcess]. It is not safe for
// concurrent use.
type Process struct {
	cfg    ProcessConfig
	qmax   int
	pids   map[int]bool
	up     bool
	forkAt time.Time // pending fork delay
	termAt time.Time // pending terminate delay
	timer  time.Time // last SetTimer
}

// NewProcess checks cfg and returns a process whose matching processes
// are pids (the initial scan); it is up if their number is within the
// quorum.
func NewProcess(cfg ProcessConfig, pids []int) (*Process, error) {
	if cfg.Quorum < 0 || cfg.Quorum > 65535 {
		return nil, fmt.Errorf("track: quorum %d: want 0-65535", cfg.Quorum)
	}
	if cfg.QuorumMax > 65535 || cfg.QuorumMax >= 0 && cfg.QuorumMax < cfg.Quorum {
		return nil, fmt.Errorf("track: quorum_max %d: want %d-65535", cfg.QuorumMax, cfg.Quorum)
	}
	if cfg.ForkDelay < 0 || cfg.TerminateDelay < 0 {
		return nil, errors.New("track: negative delay")
	}
	p := &Process{cfg: cfg, qmax: cfg.QuorumMax, pids: map[int]bool{}}
	if p.qmax < 0 {
		p.qmax = math.MaxInt32
	}
	for _, pid := range pids {
		p.pids[pid] = true
	}
	p.up = p.within()
	return p, nil
}

// Up reports whether the process is up: its number of matching processes
// was within the quorum when last decided.
func (p *Process) Up() bool { return p.up }

// Count returns the number of matching processes.
func (p *Process) Count() int { return len(p.pids) }

// Deadline returns when the pending delay ends (zero if none).
func (p *Process) Deadline() time.Time { return p.next() }

func (p *Process) within() bool { n := len(p.pids); return n >= p.cfg.Quorum && n <= p.qmax }

func (p *Process) next() time.Time {
	switch {
	case p.forkAt.IsZero():
		return p.termAt
	case p.termAt.IsZero() || p.forkAt.Before(p.termAt):
		return p.forkAt
	}
	return p.termAt
}

// Step feeds one event at time now and returns the actions, in order.
func (p *Process) Step(now time.Time, ev Event) []Action {
	var out []Action
	set := func(up bool) {
		if up != p.up {
			p.up = up
			out = append(out, QuorumChanged{Up: up})
		}
	}
	switch e := ev.(type) {
	case Fork:
		if !p.pids[e.Parent] || p.pids[e.Child] {
			break
		}
		p.pids[e.Child] = true
		if n := len(p.pids); n == p.cfg.Quorum || n == p.qmax+1 {
			switch {
			case !p.termAt.IsZero():
				p.termAt = time.Time{}
			case p.cfg.ForkDelay > 0:
				p.forkAt = now.Add(p.cfg.ForkDelay)
				return p.timed(out)
			}
			set(n == p.cfg.Quorum)
		}
	case Matched:
		if e.Match == p.pids[e.Pid] {
			break
		}
		if e.Match {
			p.pids[e.Pid] = true
			if n := len(p.pids); n == p.cfg.Quorum || n == p.qmax+1 {
				p.termAt = time.Time{}
				set(n == p.cfg.Quorum)
			}
			break
		}
		delete(p.pids, e.Pid)
		if n := len(p.pids); n == p.cfg.Quorum-1 || n == p.qmax {
			p.forkAt = time.Time{}
			set(n == p.qmax)
		}
	case Exit:
		if !p.pids[e.Pid] {
			break
		}
		delete(p.pids, e.Pid)
		if n := len(p.pids); n == p.cfg.Quorum-1 || n == p.qmax {
			switch {
			case !p.forkAt.IsZero():
				p.forkAt = time.Time{}
			case p.cfg.TerminateDelay > 0:
				p.termAt = now.Add(p.cfg.TerminateDelay)
				return p.timed(out)
			}
			set(n == p.qmax)
		}
	case Rescan:
		p.pids = map[int]bool{}
		for _, pid := range e.Pids {
			p.pids[pid] = true
		}
		p.forkAt, p.termAt = time.Time{}, time.Time{}
		switch in := p.within(); {
		case in:
			set(true)
		case p.up && p.cfg.TerminateDelay > 0:
			p.termAt = now.Add(p.cfg.TerminateDelay)
		default:
			set(false)
		}
	case TimerFired:
		if !p.forkAt.IsZero() && !now.Before(p.forkAt) {
			p.forkAt = time.Time{}
			set(p.within())
		}
		if !p.termAt.IsZero() && !now.Before(p.termAt) {
			p.termAt = time.Time{}
			set(p.within())
		}
	}
	return p.timed(out)
}

// timed appends a SetTimer if the earliest deadline changed.
func (p *Process) timed(out []Action) []Action {
	if n := p.next(); !n.Equal(p.timer) {
		p.timer = n
		out = append(out, SetTimer{At: n})
	}
	return out
}

// Matcher says which processes a tracked process counts (keepalived's
// process, param_match and full_command).
type Matcher struct {
	// Name is compared with the process name (/proc/PID/comm, at most 15
	// bytes), or with FullCommand with the first word of the command line.
	Name        string
	FullCommand bool
	// Params and ParamMatch ("", "exact", "partial", "initial") compare the
	// command line's further words (FullCommand only): exact wants just
	// these, partial these first, initial these first with the last one
	// allowed to be longer.
	Params     []string
	ParamMatch string
}

// Match reports whether a process with name comm and command line cmdline
// (NUL-separated words, as in /proc/PID/cmdline) matches.
func (m Matcher) Match(comm string, cmdline []byte) bool {
	if !m.FullCommand {
		return comm == m.Name
	}
	if len(cmdline) == 0 {
		return false
	}
	argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	if argv[0] != m.Name {
		return false
	}
	params, want := argv[1:], m.Params
	switch m.ParamMatch {
	case "exact":
		return slices.Equal(params, want)
	case "partial", "initial":
		if len(params) < len(want) {
			return false
		}
		if m.ParamMatch == "partial" || len(want) == 0 {
			return slices.Equal(params[:len(want)], want)
		}
		last := len(want) - 1
		return slices.Equal(params[:last], want[:last]) && strings.HasPrefix(params[last], want[last])
	}
	return true
}
