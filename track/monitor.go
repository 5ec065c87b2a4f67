package track

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ProcessSpec is one tracked process of a [Monitor].
type ProcessSpec struct {
	// Name names the tracked process in reports (keepalived's
	// vrrp_track_process name).
	Name   string
	Match  Matcher
	Quorum ProcessConfig
}

// Monitor decides the quorum of tracked processes from process events:
// it scans the processes once when created (after the source is
// subscribed, so nothing falls in between) and then follows the source's
// events, reading a process's name or command line when it executes a new
// program. It is not safe for concurrent use; Run owns it.
type Monitor struct {
	src      ProcSource
	fs       Procfs
	procs    []*monitored
	needCmd  bool // some spec matches command lines
	needComm bool // some spec matches names
}

type monitored struct {
	spec ProcessSpec
	p    *Process
}

// NewMonitor scans fs for the processes of specs, whose events src
// delivers from now on.
func NewMonitor(specs []ProcessSpec, src ProcSource, fs Procfs) (*Monitor, error) {
	m := &Monitor{src: src, fs: fs}
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.Name] {
			return nil, fmt.Errorf("track: process %q given twice", s.Name)
		}
		seen[s.Name] = true
		if s.Match.FullCommand {
			m.needCmd = true
		} else {
			m.needComm = true
		}
	}
	found, err := m.scan(specs)
	if err != nil {
		return nil, err
	}
	for i, s := range specs {
		p, err := NewProcess(s.Quorum, found[i])
		if err != nil {
			return nil, fmt.Errorf("process %s: %w", s.Name, err)
		}
		m.procs = append(m.procs, &monitored{spec: s, p: p})
	}
	return m, nil
}

// scan returns the matching processes of each spec.
func (m *Monitor) scan(specs []ProcessSpec) ([][]int, error) {
	pids, err := m.fs.Pids()
	if err != nil {
		return nil, err
	}
	found := make([][]int, len(specs))
	for _, pid := range pids {
		comm, cmd, err := m.fs.Process(pid, m.needCmd)
		if err != nil {
			continue // gone, or a zombie
		}
		for i, s := range specs {
			if s.Match.Match(comm, cmd) {
				found[i] = append(found[i], pid)
			}
		}
	}
	return found, nil
}

// Up reports whether the tracked process called name is up (false for an
// unknown name).
func (m *Monitor) Up(name string) bool {
	for _, mp := range m.procs {
		if mp.spec.Name == name {
			return mp.p.Up()
		}
	}
	return false
}

// Count returns the number of matching processes of name.
func (m *Monitor) Count(name string) int {
	for _, mp := range m.procs {
		if mp.spec.Name == name {
			return mp.p.Count()
		}
	}
	return 0
}

// Run follows the source's events until ctx is cancelled (nil) or the
// source fails (its error), calling report, from Run's goroutine, on each
// change of a tracked process's quorum.
func (m *Monitor) Run(ctx context.Context, report func(name string, up bool)) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	deadline := time.Time{}
	for {
		next := time.Time{}
		for _, mp := range m.procs {
			if d := mp.p.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if !next.Equal(deadline) {
			deadline = next
			if next.IsZero() {
				timer.Reset(time.Hour)
			} else {
				timer.Reset(time.Until(next))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			deadline = time.Time{}
			m.stepAll(time.Now(), func(*monitored) Event { return TimerFired{} }, report)
		case ev, ok := <-m.src.Events():
			if !ok {
				if err := m.src.Err(); err != nil {
					return err
				}
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("track: process events ended")
			}
			m.event(ev, report)
		}
	}
}

// event turns a process event into the events of each tracked process.
func (m *Monitor) event(ev ProcEvent, report func(string, bool)) {
	now := time.Now()
	switch ev.Kind {
	case ProcFork:
		m.stepAll(now, func(*monitored) Event { return Fork{Parent: ev.Parent, Child: ev.Pid} }, report)
	case ProcExit:
		m.stepAll(now, func(*monitored) Event { return Exit{Pid: ev.Pid} }, report)
	case ProcExec:
		comm, cmd, err := m.fs.Process(ev.Pid, m.needCmd)
		if err != nil {
			return // gone already: its exit follows
		}
		m.stepAll(now, func(mp *monitored) Event { return Matched{Pid: ev.Pid, Match: mp.spec.Match.Match(comm, cmd)} }, report)
	case ProcComm:
		m.stepAll(now, func(mp *monitored) Event {
			if mp.spec.Match.FullCommand {
				return nil // the command line does not change with the name
			}
			return Matched{Pid: ev.Pid, Match: mp.spec.Match.Match(ev.Comm, nil)}
		}, report)
	case ProcLost:
		specs := make([]ProcessSpec, len(m.procs))
		for i, mp := range m.procs {
			specs[i] = mp.spec
		}
		found, err := m.scan(specs)
		if err != nil {
			return
		}
		for i, mp := range m.procs {
			m.step(mp, now, Rescan{Pids: found[i]}, report)
		}
	}
}

func (m *Monitor) stepAll(now time.Time, ev func(*monitored) Event, report func(string, bool)) {
	for _, mp := range m.procs {
		if e := ev(mp); e != nil {
			m.step(mp, now, e, report)
		}
	}
}

func (m *Monitor) step(mp *monitored, now time.Time, ev Event, report func(string, bool)) {
	for _, a := range mp.p.Step(now, ev) {
		if q, ok := a.(QuorumChanged); ok {
			report(mp.spec.Name, q.Up)
		}
	}
}
