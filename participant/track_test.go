package participant

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/track"
)

// fakeTracking is trackSources with a process table, process events and
// file values fed by the test.
type fakeTracking struct {
	mu      sync.Mutex
	procs   map[int]string // pid → name
	events  chan track.ProcEvent
	values  chan int64
	openErr error
}

func (f *fakeTracking) openProcs() (track.ProcSource, track.Procfs, error) {
	if f.openErr != nil {
		return nil, nil, f.openErr
	}
	return fakeProcSource{f.events}, f, nil
}

func (f *fakeTracking) watchFile(string) (fileWatcher, error) { return fakeWatcher{f.values}, nil }

func (f *fakeTracking) Pids() ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for pid := range f.procs {
		out = append(out, pid)
	}
	return out, nil
}

func (f *fakeTracking) Process(pid int, _ bool) (string, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name, ok := f.procs[pid]
	if !ok {
		return "", nil, track.ErrNoProcess
	}
	return name, []byte(name + "\x00"), nil
}

type fakeProcSource struct{ ch chan track.ProcEvent }

func (s fakeProcSource) Events() <-chan track.ProcEvent { return s.ch }
func (s fakeProcSource) Err() error                     { return nil }
func (s fakeProcSource) Close() error                   { return nil }

type fakeWatcher struct{ ch chan int64 }

func (w fakeWatcher) Run(ctx context.Context, report func(string, int64)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case v := <-w.ch:
			report("", v)
		}
	}
}
func (w fakeWatcher) Close() error { return nil }

func trackConf(file string) string {
	return fmt.Sprintf(`
vrrp_track_process haproxy {
    process haproxy
    weight -60
    terminate_delay 0.5
}
track_file offset {
    file %s
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    version 3
    advert_int 0.1
    virtual_ipaddress {
        10.9.0.100/24
    }
    track_process {
        haproxy
    }
    track_file {
        offset
    }
}
`, file)
}

// TestDriverTracking runs an instance tracking a process (weight -60,
// terminate_delay 0.5) and a file (weight 1) with fake sources: the
// initial scan and file value set the priority before startup; the
// process's exit lowers it after the delay, the file's values move it and
// a value of -254 or less is a FAULT.
func TestDriverTracking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "offset")
		if err := os.WriteFile(file, []byte("5\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		i := testInstance(t, trackConf(file))
		src := &fakeTracking{procs: map[int]string{1: "init", 10: "haproxy"}, events: make(chan track.ProcEvent), values: make(chan int64)}
		i.srcs = src
		f := newFakeEnv(i.cfg)
		var mu sync.Mutex
		var states []string
		i.opts.OnChange = func(st Status, tr *election.Transition) {
			mu.Lock()
			defer mu.Unlock()
			states = append(states, fmt.Sprintf("%s %d", st.State, st.Priority))
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- i.run(ctx, f) }()
		time.Sleep(time.Second)
		synctest.Wait()
		check := func(state string, prio uint8) {
			t.Helper()
			if st := i.Status(); st.State != state || st.Priority != prio {
				t.Errorf("state %s priority %d, want %s %d", st.State, st.Priority, state, prio)
			}
		}
		check("MASTER", 155)

		src.events <- track.ProcEvent{Kind: track.ProcExit, Pid: 10}
		time.Sleep(499 * time.Millisecond)
		synctest.Wait()
		check("MASTER", 155) // terminate_delay not over
		time.Sleep(time.Millisecond)
		synctest.Wait()
		check("MASTER", 95)

		for _, s := range []struct {
			v     int64
			state string
			prio  uint8
		}{{-20, "MASTER", 70}, {300, "MASTER", 254}, {-254, "FAULT", 90}, {0, "BACKUP", 90}} {
			src.values <- s.v
			synctest.Wait()
			check(s.state, s.prio)
		}
		// The process comes back (exec): at once.
		src.mu.Lock()
		src.procs[20] = "haproxy"
		src.mu.Unlock()
		src.events <- track.ProcEvent{Kind: track.ProcExec, Pid: 20}
		synctest.Wait()
		check("BACKUP", 150)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		// The initial priority is reported before startup; entering FAULT
		// reports the transition and then the priority change.
		want := []string{"INIT 155", "BACKUP 155", "MASTER 155", "MASTER 95", "MASTER 70", "MASTER 254", "FAULT 90", "FAULT 90", "BACKUP 90", "BACKUP 150", "INIT 150"}
		if d := diffStrings(want, states); d != "" {
			t.Errorf("changes (-want +got):\n%s", d)
		}
	})
}

// TestDriverTrackingNoProcessEvents: without the kernel's process events
// the instance does not start, with the reason.
func TestDriverTrackingNoProcessEvents(t *testing.T) {
	i := testInstance(t, trackConf(filepath.Join(t.TempDir(), "f")))
	i.srcs = &fakeTracking{openErr: errors.New("process connector: bind: operation not permitted (process events need root or CAP_NET_ADMIN)")}
	err := i.run(context.Background(), newFakeEnv(i.cfg))
	if err == nil || !strings.Contains(err.Error(), "track_process: process connector") || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
		t.Errorf("run = %v, want the connector's error", err)
	}
	if st := i.Status(); st.State != "INIT" {
		t.Errorf("state %s, want INIT", st.State)
	}
}

func TestProcessTrackerReverse(t *testing.T) {
	// keepalived: weight 10 reverse subtracts 10 while the process is up.
	for _, tc := range []struct {
		w    int
		rev  bool
		up   bool
		want uint8
	}{
		{10, false, true, 110}, {10, false, false, 100},
		{-10, false, true, 100}, {-10, false, false, 90},
		{10, true, true, 90}, {10, true, false, 100},
		{-10, true, true, 100}, {-10, true, false, 110},
	} {
		m, err := election.New(election.Config{Version: 3, Priority: 100, AdvertInt: time.Second,
			PrimaryIP: newFakeEnv(&keepalived.Instance{}).src, Trackers: []election.Tracker{processTracker(keepalived.Track{Name: "p", Weight: tc.w, Reverse: tc.rev})}})
		if err != nil {
			t.Fatal(err)
		}
		m.Step(time.Now(), election.TrackChanged{Name: processTrackPrefix + "p", OK: tc.up})
		if got := m.Priority(); got != tc.want {
			t.Errorf("weight %d reverse %v, process up %v: priority %d, want %d", tc.w, tc.rev, tc.up, got, tc.want)
		}
	}
}

func TestInitTrackFiles(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	if err := os.WriteFile(exists, []byte("9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &keepalived.Config{TrackFiles: []*keepalived.TrackFile{
		{Name: "new", Path: filepath.Join(dir, "new"), InitFile: true, InitValue: -3},
		{Name: "kept", Path: exists, InitFile: true, InitValue: 4},
		{Name: "plain", Path: filepath.Join(dir, "plain")},
	}}
	initTrackFiles(k, false, testLogger())
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	if got := read(filepath.Join(dir, "new")); got != "-3\n" {
		t.Errorf("new file %q, want -3", got)
	}
	if got := read(exists); got != "9\n" {
		t.Errorf("existing file %q, want it kept", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "plain")); err == nil {
		t.Error("file without init_file created")
	}
	k.TrackFiles[1].InitOverwrite = true
	initTrackFiles(k, true, testLogger())
	if got := read(exists); got != "9\n" {
		t.Errorf("overwritten on reload: %q", got)
	}
	initTrackFiles(k, false, testLogger())
	if got := read(exists); got != "4\n" {
		t.Errorf("overwrite at start: %q, want 4", got)
	}
}

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSyncTrackingProcessesAndFiles(t *testing.T) {
	conf := func(groupExtra string, prioB int) string {
		return `
vrrp_track_process p { process a }
vrrp_track_process gp { process b }
track_file f1 { file /run/f1 }
track_file f2 { file /run/f2 }
track_file gf { file /run/gf }
vrrp_sync_group G {
    group {
        VI_A
        VI_B
    }
    track_process {
        gp weight -20
    }
    track_file {
        gf weight 2
    }
` + groupExtra + `
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 51
    priority 100
    track_process {
        p weight -30
    }
    track_file {
        f1
        f2 weight 5
    }
    virtual_ipaddress {
        10.9.0.100/24
    }
}
vrrp_instance VI_B {
    interface eth0
    virtual_router_id 52
    priority ` + fmt.Sprint(prioB) + `
    virtual_ipaddress {
        10.9.0.101/24
    }
}
`
	}
	for _, tc := range []struct {
		name         string
		conf         string
		procs, files string
	}{
		{"file weights dropped, process weights kept", conf("", 100), "p/-30 gp/-20", "f1/0 gf/2"},
		{"sync_group_tracking_weight keeps them", conf("sync_group_tracking_weight", 100), "p/-30 gp/-20", "f1/1 f2/5 gf/2"},
		{"an owner member clears the group's weights", conf("", 255), "p/-30 gp/0", "f1/0 gf/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := testInstance(t, tc.conf)
			f := func(ts []keepalived.Track) string {
				var out []string
				for _, x := range ts {
					out = append(out, fmt.Sprintf("%s/%d", x.Name, x.Weight))
				}
				return strings.Join(out, " ")
			}
			if got := f(i.cfg.TrackProcesses); got != tc.procs {
				t.Errorf("tracked processes %q, want %q", got, tc.procs)
			}
			if got := f(i.cfg.TrackFiles); got != tc.files {
				t.Errorf("tracked files %q, want %q", got, tc.files)
			}
		})
	}
}

// TestReloadTracking: an instance is restarted on SIGHUP when a process or
// file it tracks changes, and kept when they do not.
func TestReloadTracking(t *testing.T) {
	base := `
vrrp_track_process p {
    process haproxy
}
track_file f {
    file /run/f
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    track_process {
        p
    }
    track_file {
        f
    }
    virtual_ipaddress {
        10.9.0.100/24
    }
}
`
	for _, tc := range []struct {
		name, from, to string
		kept           bool
	}{
		{"unchanged", "", "", true},
		{"process quorum", "process haproxy", "process haproxy\n    quorum 2", false},
		{"file path", "file /run/f", "file /run/g", false},
		{"default weight written out", "file /run/f", "file /run/f\n    weight 1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(parseConf(t, base), Options{Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Reload(parseConf(t, strings.Replace(base, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if kept := slices.Equal(res.Kept, []string{"VI_1"}); kept != tc.kept {
				t.Errorf("reload result %+v, want kept=%v", res, tc.kept)
			}
		})
	}
}

func TestScriptAndInterfaceTrackerReverse(t *testing.T) {
	// keepalived (measured): a track_script of weight 7 reverse that
	// succeeds takes priority 150 to 143; track_interface reverses alike.
	in := &Instance{cfg: &keepalived.Instance{Version: 3, Priority: 150, AdvertInt: time.Second,
		TrackScripts:    []keepalived.Track{{Name: "chk", Weight: 7, Reverse: true}},
		TrackInterfaces: []keepalived.Track{{Name: "eth1", Weight: -20, Reverse: true}},
	}}
	m, err := election.New(in.electionConfig(newFakeEnv(&keepalived.Instance{}).src))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m.Step(now, election.TrackChanged{Name: scriptTrackPrefix + "chk", OK: true})
	m.Step(now, election.TrackChanged{Name: ifTrackPrefix + "eth1", OK: true})
	if got := m.Priority(); got != 143 {
		t.Errorf("script up, interface up: priority %d, want 143", got)
	}
	m.Step(now, election.TrackChanged{Name: scriptTrackPrefix + "chk", OK: false})
	m.Step(now, election.TrackChanged{Name: ifTrackPrefix + "eth1", OK: false})
	if got := m.Priority(); got != 170 {
		t.Errorf("script down, interface down: priority %d, want 170 (weight -20 reverse adds 20 while down)", got)
	}
}
