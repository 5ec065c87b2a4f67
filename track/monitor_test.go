package track

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeProc is a process of fakeProcfs.
type fakeProc struct {
	comm string
	cmd  []byte
}

// fakeProcfs is a process table tests change as they send events.
type fakeProcfs struct {
	mu    sync.Mutex
	procs map[int]fakeProc
}

func (f *fakeProcfs) Pids() ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for pid := range f.procs {
		out = append(out, pid)
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeProcfs) Process(pid int, cmdline bool) (string, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.procs[pid]
	if !ok {
		return "", nil, ErrNoProcess
	}
	if !cmdline {
		return p.comm, nil, nil
	}
	return p.comm, p.cmd, nil
}

func (f *fakeProcfs) set(pid int, comm string, cmd ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b []byte
	for _, w := range cmd {
		b = append(append(b, w...), 0)
	}
	f.procs[pid] = fakeProc{comm: comm, cmd: b}
}

func (f *fakeProcfs) del(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.procs, pid)
}

// fakeSource is a ProcSource fed by the test.
type fakeSource struct {
	ch  chan ProcEvent
	err error
}

func (s *fakeSource) Events() <-chan ProcEvent { return s.ch }
func (s *fakeSource) Err() error               { return s.err }
func (s *fakeSource) Close() error             { return nil }

// report is one call of Monitor.Run's report, with the fake clock's time
// since the start.
type report struct {
	at   time.Duration
	name string
	up   bool
}

func (r report) String() string { return fmt.Sprintf("+%v %s up=%v", r.at, r.name, r.up) }

func TestMonitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fs := &fakeProcfs{procs: map[int]fakeProc{}}
		fs.set(1, "init", "/sbin/init")
		fs.set(100, "haproxy", "/usr/sbin/haproxy", "-f", "/etc/haproxy.cfg")
		fs.set(101, "haproxy", "/usr/sbin/haproxy", "-f", "/etc/other.cfg")
		src := &fakeSource{ch: make(chan ProcEvent)}
		specs := []ProcessSpec{
			{Name: "by-name", Match: Matcher{Name: "haproxy"}, Quorum: ProcessConfig{Quorum: 2, QuorumMax: -1, TerminateDelay: 2 * time.Second}},
			{Name: "by-cmd", Match: Matcher{Name: "/usr/sbin/haproxy", FullCommand: true, Params: []string{"-f", "/etc/haproxy.cfg"}, ParamMatch: "exact"},
				Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1}},
			{Name: "nginx", Match: Matcher{Name: "nginx"}, Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1, ForkDelay: time.Second}},
		}
		m, err := NewMonitor(specs, src, fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			up    bool
			count int
		}{{"by-name", true, 2}, {"by-cmd", true, 1}, {"nginx", false, 0}} {
			if m.Up(c.name) != c.up || m.Count(c.name) != c.count {
				t.Errorf("after the scan %s: up=%v count=%d, want up=%v count=%d", c.name, m.Up(c.name), m.Count(c.name), c.up, c.count)
			}
		}
		var mu sync.Mutex
		var got []string
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- m.Run(ctx, func(name string, up bool) {
				mu.Lock()
				got = append(got, report{time.Since(start), name, up}.String())
				mu.Unlock()
			})
		}()
		send := func(ev ProcEvent) { src.ch <- ev; synctest.Wait() }
		sleep := func(d time.Duration) { time.Sleep(d); synctest.Wait() }

		// The second haproxy exits: by-name loses its quorum after 2 s.
		fs.del(101)
		send(ProcEvent{Kind: ProcExit, Pid: 101})
		sleep(2 * time.Second)
		// The first one re-executes with another configuration: by-cmd
		// is lost at once, by-name is unchanged (still 1 < 2).
		fs.set(100, "haproxy", "/usr/sbin/haproxy", "-f", "/tmp/x")
		send(ProcEvent{Kind: ProcExec, Pid: 100})
		// It forks a child: by-name has 2 again, at once (no fork delay).
		fs.set(102, "haproxy", "/usr/sbin/haproxy", "-f", "/tmp/x")
		send(ProcEvent{Kind: ProcFork, Pid: 102, Parent: 100})
		// A process renames itself nginx: up at once (a comm change is not a fork).
		fs.set(200, "nginx")
		send(ProcEvent{Kind: ProcComm, Pid: 200, Comm: "nginx"})
		// It forks a worker, exits; the worker keeps it up.
		send(ProcEvent{Kind: ProcFork, Pid: 201, Parent: 200})
		send(ProcEvent{Kind: ProcExit, Pid: 200})
		// Events were lost: a rescan finds no nginx (the worker died unseen).
		fs.del(200)
		send(ProcEvent{Kind: ProcLost})
		sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		want := []string{
			"+2s by-name up=false",
			"+2s by-cmd up=false",
			"+2s by-name up=true",
			"+2s nginx up=true",
			"+2s nginx up=false",
		}
		if !slices.Equal(got, want) {
			t.Errorf("reports\n got %q\nwant %q", got, want)
		}
	})
}

func TestMonitorSourceFails(t *testing.T) {
	fs := &fakeProcfs{procs: map[int]fakeProc{}}
	src := &fakeSource{ch: make(chan ProcEvent), err: errors.New("socket gone")}
	m, err := NewMonitor([]ProcessSpec{{Name: "x", Match: Matcher{Name: "x"}, Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1}}}, src, fs)
	if err != nil {
		t.Fatal(err)
	}
	close(src.ch)
	if err := m.Run(context.Background(), func(string, bool) {}); err == nil || err.Error() != "socket gone" {
		t.Errorf("Run = %v, want the source's error", err)
	}
}

func TestNewMonitorDuplicate(t *testing.T) {
	fs := &fakeProcfs{procs: map[int]fakeProc{}}
	s := ProcessSpec{Name: "x", Match: Matcher{Name: "x"}, Quorum: ProcessConfig{Quorum: 1, QuorumMax: -1}}
	if _, err := NewMonitor([]ProcessSpec{s, s}, &fakeSource{}, fs); err == nil {
		t.Error("no error for a process given twice")
	}
}
