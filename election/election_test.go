package election

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	self = netip.MustParseAddr("10.0.0.2")
	low  = netip.MustParseAddr("10.0.0.1") // lower address than self
	high = netip.MustParseAddr("10.0.0.3") // higher address than self
)

func at(d time.Duration) time.Time { return t0.Add(d) }

// ms is a duration in (possibly fractional) milliseconds.
func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// fmtActions renders actions one per line, with times relative to t0.
func fmtActions(as []Action) []string {
	var out []string
	for _, a := range as {
		switch a := a.(type) {
		case SetTimer:
			out = append(out, fmt.Sprintf("SetTimer %s +%v", a.Timer, a.At.Sub(t0)))
		case StopTimer:
			out = append(out, fmt.Sprintf("StopTimer %s", a.Timer))
		case SendAdvert:
			out = append(out, fmt.Sprintf("SendAdvert %d", a.Priority))
		case Transition:
			out = append(out, fmt.Sprintf("Transition %s->%s prio %d", a.From, a.To, a.Priority))
		default:
			out = append(out, fmt.Sprintf("%#v", a))
		}
	}
	return out
}

// diff returns a (-want +got) line diff, "" when equal.
func diff(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	var b strings.Builder
	for _, w := range want {
		fmt.Fprintf(&b, "-%s\n", w)
	}
	for _, g := range got {
		fmt.Fprintf(&b, "+%s\n", g)
	}
	return b.String()
}

type stepCase struct {
	at   time.Duration
	ev   Event
	want []string
}

func cfg(mod func(*Config)) Config {
	c := Config{Version: 3, Priority: 100, AdvertInt: 100 * time.Millisecond, PrimaryIP: self}
	if mod != nil {
		mod(&c)
	}
	return c
}

// Master_Down_Interval at priority 100, 100 ms: 300 ms + 156*100/256 ms.
var mdi100 = 300*time.Millisecond + 156*100*time.Millisecond/256

func TestStep(t *testing.T) {
	adv := func(src netip.Addr, prio uint8) AdvertReceived {
		return AdvertReceived{Src: src, Priority: prio, Interval: 100 * time.Millisecond}
	}
	backupStart := stepCase{0, Startup{}, []string{"SetTimer master_down +" + mdi100.String(), "Transition INIT->BACKUP prio 100"}}
	// becomeMaster: startup, then the Master_Down_Timer fires.
	becomeMaster := []stepCase{backupStart, {mdi100, TimerFired{MasterDownTimer}, []string{
		"SendAdvert 100", "SetTimer adver +" + (mdi100 + 100*time.Millisecond).String(), "Transition BACKUP->MASTER prio 100"}}}
	mAt := mdi100 + 10*time.Millisecond // a time while master
	tests := []struct {
		name  string
		cfg   Config
		steps []stepCase
		final State
	}{
		{"6.4.1 startup non-owner goes backup", cfg(nil), []stepCase{backupStart}, Backup},
		{"6.4.1 startup owner goes master", cfg(func(c *Config) { c.Priority = 255 }), []stepCase{
			{0, Startup{}, []string{"SendAdvert 255", "SetTimer adver +100ms", "Transition INIT->MASTER prio 255"}},
		}, Master},
		{"6.4.1 startup is idempotent", cfg(nil), []stepCase{backupStart, {ms(1), Startup{}, nil}}, Backup},
		{"6.4.2 master down timer makes master", cfg(nil), becomeMaster, Master},
		{"6.4.2 stale master down firing ignored", cfg(nil), []stepCase{
			backupStart,
			{ms(50), adv(high, 150), []string{"SetTimer master_down +" + (ms(50) + mdi100).String()}},
			{mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup},
		{"6.4.2 backup accepts higher priority and resets timer", cfg(nil), []stepCase{
			backupStart, {ms(100), adv(low, 200), []string{"SetTimer master_down +" + (ms(100) + mdi100).String()}},
		}, Backup},
		{"6.4.2 backup accepts equal priority", cfg(nil), []stepCase{
			backupStart, {ms(100), adv(low, 100), []string{"SetTimer master_down +" + (ms(100) + mdi100).String()}},
		}, Backup},
		{"6.4.2 backup discards lower priority when preempting", cfg(nil), []stepCase{
			backupStart, {ms(100), adv(low, 50), nil},
			{mdi100, TimerFired{MasterDownTimer}, []string{"SendAdvert 100", "SetTimer adver +" + (mdi100 + ms(100)).String(), "Transition BACKUP->MASTER prio 100"}},
		}, Master},
		{"6.4.2 nopreempt backup accepts lower priority", cfg(func(c *Config) { c.Nopreempt = true }), []stepCase{
			backupStart, {ms(100), adv(low, 50), []string{"SetTimer master_down +" + (ms(100) + mdi100).String()}},
		}, Backup},
		{"6.4.2 v3 backup learns Master_Adver_Interval", cfg(nil), []stepCase{
			backupStart,
			{ms(100), AdvertReceived{Src: low, Priority: 200, Interval: time.Second},
				[]string{"SetTimer master_down +" + (ms(100) + 3*time.Second + 156*time.Second/256).String()}},
		}, Backup},
		{"6.4.2 v2 backup keeps its own interval and a 1 s skew", cfg(func(c *Config) { c.Version = 2; c.AdvertInt = time.Second }), []stepCase{
			{0, Startup{}, []string{"SetTimer master_down +" + (3*time.Second + 156*time.Second/256).String(), "Transition INIT->BACKUP prio 100"}},
			{ms(100), AdvertReceived{Src: low, Priority: 200, Interval: 2 * time.Second},
				[]string{"SetTimer master_down +" + (ms(100) + 3*time.Second + 156*time.Second/256).String()}},
		}, Backup},
		{"6.4.2 priority 0 sets timer to Skew_Time", cfg(nil), []stepCase{
			backupStart,
			{ms(100), adv(low, 200), []string{"SetTimer master_down +" + (ms(100) + mdi100).String()}},
			{ms(150), adv(low, 0), []string{"SetTimer master_down +" + (ms(150) + 156*ms(100)/256).String()}},
			{ms(150) + 156*ms(100)/256, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(250) + 156*ms(100)/256).String(), "Transition BACKUP->MASTER prio 100"}},
		}, Master},
		{"6.4.2 shutdown in backup", cfg(nil), []stepCase{
			backupStart, {ms(10), Shutdown{}, []string{"StopTimer master_down", "Transition BACKUP->INIT prio 100"}},
		}, Initialize},
		{"6.4.3 adver timer sends and re-arms", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mdi100 + ms(100), TimerFired{AdverTimer}, []string{"SendAdvert 100", "SetTimer adver +" + (mdi100 + ms(200)).String()}}), Master},
		{"6.4.3 master answers priority 0 with an advert", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, adv(low, 0), []string{"SendAdvert 100", "SetTimer adver +" + (mAt + ms(100)).String()}}), Master},
		{"6.4.3 master yields to higher priority", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, AdvertReceived{Src: low, Priority: 200, Interval: ms(200)}, []string{
				"StopTimer adver", "SetTimer master_down +" + (mAt + ms(600) + 156*ms(200)/256).String(), "Transition MASTER->BACKUP prio 100"}}), Backup},
		{"6.4.3 master yields to equal priority with higher address", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, adv(high, 100), []string{"StopTimer adver", "SetTimer master_down +" + (mAt + mdi100).String(), "Transition MASTER->BACKUP prio 100"}}), Backup},
		{"6.4.3 master keeps against equal priority with lower address and re-advertises", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, adv(low, 100), []string{"SendAdvert 100", "SetTimer adver +" + (mAt + ms(100)).String()}}), Master},
		{"6.4.3 master re-advertises at once on lower priority (keepalived)", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, adv(high, 50), []string{"SendAdvert 100", "SetTimer adver +" + (mAt + ms(100)).String()}}), Master},
		{"6.4.3 shutdown in master sends priority 0", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, Shutdown{}, []string{"StopTimer adver", "SendAdvert 0", "Transition MASTER->INIT prio 100"}}), Initialize},
		{"stale adver firing after leaving master ignored", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, adv(high, 200), []string{"StopTimer adver", "SetTimer master_down +" + (mAt + mdi100).String(), "Transition MASTER->BACKUP prio 100"}},
			stepCase{mdi100 + ms(100), TimerFired{AdverTimer}, nil}), Backup},
		{"preempt_delay holds back preemption after startup", cfg(func(c *Config) { c.PreemptDelay = time.Second }), []stepCase{
			backupStart,
			{ms(100), adv(low, 50), []string{"SetTimer master_down +" + (ms(100) + mdi100).String()}},
			{ms(900), adv(low, 50), []string{"SetTimer master_down +" + (ms(900) + mdi100).String()}},
			{ms(1000), adv(low, 50), nil},
			{ms(900) + mdi100, TimerFired{MasterDownTimer}, []string{"SendAdvert 100", "SetTimer adver +" + (ms(1000) + mdi100).String(), "Transition BACKUP->MASTER prio 100"}},
		}, Master},
		{"preempt_delay restarts after a higher-priority master", cfg(func(c *Config) { c.PreemptDelay = time.Second }), []stepCase{
			backupStart,
			{ms(1100), adv(low, 200), []string{"SetTimer master_down +" + (ms(1100) + mdi100).String()}},
			{ms(1200), adv(low, 50), []string{"SetTimer master_down +" + (ms(1200) + mdi100).String()}},
			{ms(2100), adv(low, 50), []string{"SetTimer master_down +" + (ms(2100) + mdi100).String()}},
			{ms(2200), adv(low, 50), nil},
		}, Backup},
		{"interface down in master resigns into fault, up returns to backup", cfg(nil), append(becomeMaster[:2:2],
			stepCase{mAt, InterfaceChanged{Up: false}, []string{"SendAdvert 0", "StopTimer adver", "Transition MASTER->FAULT prio 100"}},
			stepCase{mAt + ms(5), AdvertReceived{Src: low, Priority: 50}, nil},
			stepCase{mAt + ms(5), TimerFired{AdverTimer}, nil},
			stepCase{mAt + ms(10), InterfaceChanged{Up: true}, []string{"SetTimer master_down +" + (mAt + ms(10) + mdi100).String(), "Transition FAULT->BACKUP prio 100"}},
		), Backup},
		{"interface down in backup", cfg(nil), []stepCase{
			backupStart,
			{ms(10), InterfaceChanged{Up: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100"}},
			{ms(20), Shutdown{}, []string{"Transition FAULT->INIT prio 100"}},
		}, Initialize},
		{"dont_track_primary: interface down in master is no fault", cfg(func(c *Config) { c.DontTrackPrimary = true }), append(becomeMaster[:2:2],
			stepCase{mAt, InterfaceChanged{Up: false}, nil},
			stepCase{mdi100 + ms(100), TimerFired{AdverTimer}, []string{"SendAdvert 100", "SetTimer adver +" + (mdi100 + ms(200)).String()}},
			stepCase{mdi100 + ms(150), InterfaceChanged{Up: true}, nil},
		), Master},
		{"dont_track_primary: interface down before startup is no fault", cfg(func(c *Config) { c.DontTrackPrimary = true }), []stepCase{
			{0, InterfaceChanged{Up: false}, nil}, backupStart,
		}, Backup},
		{"dont_track_primary: a weight-0 tracker still faults", cfg(func(c *Config) {
			c.DontTrackPrimary = true
			c.Trackers = []Tracker{{Name: "chk", Weight: 0}}
		}), []stepCase{
			backupStart,
			{ms(5), InterfaceChanged{Up: false}, nil},
			{ms(10), TrackChanged{Name: "chk", OK: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100"}},
		}, Fault},
		{"owner leaves fault as master", cfg(func(c *Config) { c.Priority = 255 }), []stepCase{
			{0, InterfaceChanged{Up: false}, nil},
			{0, Startup{}, []string{"Transition INIT->FAULT prio 255"}},
			{ms(10), InterfaceChanged{Up: true}, []string{"SendAdvert 255", "SetTimer adver +110ms", "Transition FAULT->MASTER prio 255"}},
		}, Master},
		{"track weight 0 failure is fault", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "chk", Weight: 0}} }), []stepCase{
			backupStart,
			{ms(10), TrackChanged{Name: "chk", OK: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100"}},
			{ms(20), TrackChanged{Name: "chk", OK: true}, []string{"SetTimer master_down +" + (ms(20) + mdi100).String(), "Transition FAULT->BACKUP prio 100"}},
		}, Backup},
		{"init_fail tracker starts in fault", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "chk"}} }), []stepCase{
			{0, TrackChanged{Name: "chk", OK: false}, nil},
			{0, Startup{}, []string{"Transition INIT->FAULT prio 100"}},
		}, Fault},
		{"negative weight lowers a master's priority and advertises at once", cfg(func(c *Config) {
			c.Priority = 150
			c.Trackers = []Tracker{{Name: "eth1", Weight: -60}}
		}), []stepCase{
			{0, Startup{}, []string{"SetTimer master_down +" + (ms(300) + 106*ms(100)/256).String(), "Transition INIT->BACKUP prio 150"}},
			{ms(400), TimerFired{MasterDownTimer}, []string{"SendAdvert 150", "SetTimer adver +500ms", "Transition BACKUP->MASTER prio 150"}},
			{ms(450), TrackChanged{Name: "eth1", OK: false}, []string{"SendAdvert 90", "SetTimer adver +550ms"}},
			{ms(460), adv(low, 100), []string{"StopTimer adver", "SetTimer master_down +" + (ms(760) + 166*ms(100)/256).String(), "Transition MASTER->BACKUP prio 90"}},
		}, Backup},
		{"valued tracker: delta changes a master's priority, fault and back", cfg(func(c *Config) {
			c.Priority = 150
			c.Trackers = []Tracker{{Name: "file", Valued: true}}
		}), []stepCase{
			{0, Startup{}, []string{"SetTimer master_down +" + (ms(300) + 106*ms(100)/256).String(), "Transition INIT->BACKUP prio 150"}},
			{ms(400), TimerFired{MasterDownTimer}, []string{"SendAdvert 150", "SetTimer adver +500ms", "Transition BACKUP->MASTER prio 150"}},
			{ms(410), TrackDelta{Name: "file", Delta: -60}, []string{"SendAdvert 90", "SetTimer adver +510ms"}},
			{ms(420), TrackDelta{Name: "file", Delta: -60}, nil},
			{ms(430), TrackChanged{Name: "file", OK: false}, nil},
			{ms(440), TrackDelta{Name: "file", Delta: 10}, []string{"SendAdvert 160", "SetTimer adver +540ms"}},
			{ms(450), TrackDelta{Name: "file", Fault: true}, []string{"SendAdvert 0", "StopTimer adver", "Transition MASTER->FAULT prio 150"}},
			{ms(460), TrackDelta{Name: "file", Delta: 5}, []string{"SetTimer master_down +" + (ms(760) + 101*ms(100)/256).String(), "Transition FAULT->BACKUP prio 155"}},
		}, Backup},
		{"valued fault before startup starts in fault", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "file", Valued: true}} }), []stepCase{
			{0, TrackDelta{Name: "file", Fault: true}, nil},
			{0, Startup{}, []string{"Transition INIT->FAULT prio 100"}},
		}, Fault},
		{"TrackDelta for an up/down tracker ignored", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "chk"}} }), []stepCase{
			backupStart, {ms(1), TrackDelta{Name: "chk", Fault: true}, nil},
		}, Backup},
		{"unknown tracker ignored", cfg(nil), []stepCase{backupStart, {ms(1), TrackChanged{Name: "x"}, nil}}, Backup},
		{"timers before startup ignored", cfg(nil), []stepCase{{0, TimerFired{MasterDownTimer}, nil}, {0, AdvertReceived{Src: low, Priority: 1}, nil}, {0, Shutdown{}, nil}}, Initialize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := runSteps(t, tc.cfg, tc.steps, fmtActions)
			if m.State() != tc.final {
				t.Errorf("final state %s, want %s", m.State(), tc.final)
			}
		})
	}
}

func TestPriorityWeights(t *testing.T) {
	trk := []Tracker{{Name: "up+", Weight: 20}, {Name: "down-", Weight: -30}, {Name: "rev", Weight: 5, Reverse: true}}
	tests := []struct {
		name string
		base uint8
		down []string
		want uint8
	}{
		{"all up", 100, nil, 120},
		{"positive weight lost", 100, []string{"up+"}, 100},
		{"negative weight applied", 100, []string{"down-"}, 90},
		{"reverse positive weight applies when down", 100, []string{"rev"}, 125},
		{"clamped to 254", 250, nil, 254},
		{"clamped to 1", 20, []string{"up+", "down-"}, 1},
		{"owner unchanged", 255, []string{"up+", "down-"}, 255},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{Version: 3, Priority: tc.base, AdvertInt: time.Second, PrimaryIP: self, Trackers: trk})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.down {
				m.Step(t0, TrackChanged{Name: n, OK: false})
			}
			if got := m.Priority(); got != tc.want {
				t.Errorf("Priority() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestIntervals(t *testing.T) {
	tests := []struct {
		version  int
		prio     uint8
		interval time.Duration
		skew     time.Duration
		down     time.Duration
	}{
		// The DESIGN.md bound: 360.9 ms at 100 ms, 36.1 ms at 10 ms.
		{3, 100, 100 * time.Millisecond, 60937500, 360937500},
		{3, 100, 10 * time.Millisecond, 6093750, 36093750},
		{3, 255, time.Second, 3906250, 3003906250},
		{2, 100, time.Second, 609375000, 3609375000},
		{2, 150, 3 * time.Second, 414062500, 9414062500},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("v%d/%d/%v", tc.version, tc.prio, tc.interval), func(t *testing.T) {
			m, err := New(Config{Version: tc.version, Priority: tc.prio, AdvertInt: tc.interval, PrimaryIP: self})
			if err != nil {
				t.Fatal(err)
			}
			if got := m.SkewTime(); got != tc.skew {
				t.Errorf("SkewTime() = %v, want %v", got, tc.skew)
			}
			if got := m.MasterDownInterval(); got != tc.down {
				t.Errorf("MasterDownInterval() = %v, want %v", got, tc.down)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []Config{
		{Version: 4, Priority: 1, AdvertInt: time.Second, PrimaryIP: self},
		{Version: 3, Priority: 0, AdvertInt: time.Second, PrimaryIP: self},
		{Version: 3, Priority: 1, PrimaryIP: self},
		{Version: 3, Priority: 1, AdvertInt: time.Second},
		{Version: 3, Priority: 1, AdvertInt: time.Second, PrimaryIP: self, Trackers: []Tracker{{Name: "a"}, {Name: "a"}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) = nil error", c)
		}
	}
}

// fmtActionsWhy is fmtActions with the reason of every transition.
func fmtActionsWhy(as []Action) []string {
	out := fmtActions(as)
	for n, a := range as {
		if tr, ok := a.(Transition); ok {
			out[n] += " (" + tr.Reason + ")"
		}
	}
	return out
}

// TestDemotion covers vrrpguard's Demote and Resume events (not in the
// RFCs): how they combine with the transitions of RFC 5798 section 6.4 and
// with keepalived's Fault and tracking.
func TestDemotion(t *testing.T) {
	adv := func(src netip.Addr, prio uint8) AdvertReceived {
		return AdvertReceived{Src: src, Priority: prio, Interval: 100 * time.Millisecond}
	}
	downAt := func(d time.Duration) string { return "SetTimer master_down +" + (d + mdi100).String() }
	mdiWords := "master down timer expired (no advertisement for " + mdi100.String() + ")"
	backupStart := stepCase{0, Startup{}, []string{downAt(0), "Transition INIT->BACKUP prio 100 (startup)"}}
	toMaster := stepCase{mdi100, TimerFired{MasterDownTimer}, []string{
		"SendAdvert 100", "SetTimer adver +" + (mdi100 + ms(100)).String(), "Transition BACKUP->MASTER prio 100 (" + mdiWords + ")"}}
	mAt := mdi100 + ms(10)
	demoteMaster := stepCase{mAt, Demote{Reason: "rival master 10.0.0.9"}, []string{
		"SendAdvert 0", "StopTimer adver", downAt(mAt), "Transition MASTER->BACKUP prio 100 (demoted: rival master 10.0.0.9)"}}
	demoted := func(want bool, reason string) func(*Machine) string {
		return func(m *Machine) string {
			if got, why := m.Demoted(); got != want || why != reason {
				return fmt.Sprintf("Demoted() = %v, %q; want %v, %q", got, why, want, reason)
			}
			return ""
		}
	}
	masterIs := func(want netip.Addr, prio uint8) func(*Machine) string {
		return func(m *Machine) string {
			if got, p := m.Master(); got != want || p != prio {
				return fmt.Sprintf("Master() = %v, %d; want %v, %d", got, p, want, prio)
			}
			return ""
		}
	}
	tests := []struct {
		name  string
		cfg   Config
		steps []stepCase
		final State
		check func(*Machine) string
	}{
		{"6.4.3 demote in MASTER: prio-0 advert, VIPs removed, BACKUP", cfg(nil),
			[]stepCase{backupStart, toMaster, demoteMaster}, Backup, demoted(true, "rival master 10.0.0.9")},
		{"6.4.2 demoted BACKUP ignores master-down", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{Reason: "r"}, nil},
			{mdi100, TimerFired{MasterDownTimer}, nil},
			{5 * time.Second, TimerFired{MasterDownTimer}, nil},
		}, Backup, demoted(true, "r")},
		{"6.4.2 demoted after resigning: the master-down it armed does not promote", cfg(nil), []stepCase{
			backupStart, toMaster, demoteMaster,
			{mAt + ms(100), TimerFired{AdverTimer}, nil},
			{mAt + mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, masterIs(netip.Addr{}, 0)},
		{"6.4.2 demoted BACKUP follows a lower-priority master instead of preempting", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(100), adv(low, 50), []string{downAt(ms(100))}},
			{ms(200), adv(low, 50), []string{downAt(ms(200))}},
		}, Backup, masterIs(low, 50)},
		{"6.4.2 demoted BACKUP forgets a master gone silent, stays BACKUP", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(100), adv(high, 200), []string{downAt(ms(100))}},
			{ms(100) + mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, masterIs(netip.Addr{}, 0)},
		{"6.4.2 demoted BACKUP does not take over after a priority-0 advert", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(100), adv(high, 200), []string{downAt(ms(100))}},
			{ms(150), adv(high, 0), []string{"SetTimer master_down +" + (ms(150) + 156*ms(100)/256).String()}},
			{ms(150) + 156*ms(100)/256, TimerFired{MasterDownTimer}, nil},
		}, Backup, nil},
		{"6.4.2 resume after no master was heard for Master_Down_Interval: takes over at once", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{Reason: "r"}, nil},
			{mdi100, TimerFired{MasterDownTimer}, nil},
			{time.Second, Resume{Reason: "rival gone"}, []string{
				"SendAdvert 100", "SetTimer adver +" + (time.Second + ms(100)).String(),
				"Transition BACKUP->MASTER prio 100 (resumed: rival gone; no master heard for " + mdi100.String() + ")"}},
		}, Master, demoted(false, "")},
		{"6.4.2 resume while the Master_Down_Timer runs: takes over when it expires", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{Reason: "r"}, nil},
			{ms(100), Resume{Reason: "rival gone"}, []string{downAt(ms(100))}},
			{ms(100) + mdi100, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(100) + mdi100 + ms(100)).String(),
				"Transition BACKUP->MASTER prio 100 (resumed: rival gone; " + mdiWords + ")"}},
		}, Master, demoted(false, "")},
		{"6.4.2 resume without words", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(20), Resume{}, []string{downAt(ms(20))}},
			{ms(20) + mdi100, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(120) + mdi100).String(), "Transition BACKUP->MASTER prio 100 (resumed; " + mdiWords + ")"}},
		}, Master, nil},
		{"6.4.2 resume with a higher-priority master heard stays BACKUP", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(20), Resume{}, []string{downAt(ms(20))}},
			{ms(100), adv(high, 200), []string{downAt(ms(100))}},
			{ms(20) + mdi100, TimerFired{MasterDownTimer}, nil}, // stale: moved by the advert
		}, Backup, masterIs(high, 200)},
		{"6.4.2 resume preempts a lower-priority master after Master_Down_Interval", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(100), adv(low, 50), []string{downAt(ms(100))}},
			{ms(150), Resume{Reason: "ok"}, []string{downAt(ms(150))}},
			{ms(200), adv(low, 50), nil},
			{ms(150) + mdi100, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(250) + mdi100).String(), "Transition BACKUP->MASTER prio 100 (resumed: ok; " + mdiWords + ")"}},
		}, Master, nil},
		{"6.4.2 the takeover names the resume only until a master is heard", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(20), Resume{Reason: "ok"}, []string{downAt(ms(20))}},
			{ms(100), adv(high, 200), []string{downAt(ms(100))}},
			{ms(100) + mdi100, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(200) + mdi100).String(), "Transition BACKUP->MASTER prio 100 (" + mdiWords + ")"}},
		}, Master, nil},
		{"resume when not demoted does nothing", cfg(nil), []stepCase{
			backupStart, {ms(10), Resume{Reason: "x"}, nil},
		}, Backup, demoted(false, "")},
		{"a second demote replaces the reason only", cfg(nil), []stepCase{
			backupStart, toMaster, demoteMaster,
			{mAt + ms(1), Demote{Reason: "second"}, nil},
		}, Backup, demoted(true, "second")},
		{"demote during FAULT applies after recovery", cfg(nil), []stepCase{
			backupStart,
			{ms(10), InterfaceChanged{Up: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100 (interface down)"}},
			{ms(20), Demote{Reason: "r"}, nil},
			{ms(30), InterfaceChanged{Up: true}, []string{downAt(ms(30)), "Transition FAULT->BACKUP prio 100 (fault cleared (demoted: r))"}},
			{ms(30) + mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, demoted(true, "r")},
		{"demoted MASTER's fault and recovery keep it BACKUP", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "chk"}} }), []stepCase{
			backupStart, toMaster, demoteMaster,
			{mAt + ms(10), TrackChanged{Name: "chk", OK: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100 (tracked chk down)"}},
			{mAt + ms(20), TrackChanged{Name: "chk", OK: true}, []string{downAt(mAt + ms(20)), "Transition FAULT->BACKUP prio 100 (fault cleared (demoted: rival master 10.0.0.9))"}},
			{mAt + ms(20) + mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, nil},
		{"resume during FAULT: normal election after recovery", cfg(nil), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(20), InterfaceChanged{Up: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 100 (interface down)"}},
			{ms(30), Resume{}, nil},
			{ms(40), InterfaceChanged{Up: true}, []string{downAt(ms(40)), "Transition FAULT->BACKUP prio 100 (fault cleared)"}},
			{ms(40) + mdi100, TimerFired{MasterDownTimer}, []string{
				"SendAdvert 100", "SetTimer adver +" + (ms(140) + mdi100).String(), "Transition BACKUP->MASTER prio 100 (" + mdiWords + ")"}},
		}, Master, nil},
		{"shutdown while demoted: no advert", cfg(nil), []stepCase{
			backupStart, toMaster, demoteMaster,
			{mAt + ms(50), Shutdown{}, []string{"StopTimer master_down", "Transition BACKUP->INIT prio 100 (shutdown)"}},
			{mAt + ms(60), Resume{}, nil},
		}, Initialize, demoted(false, "")},
		{"demote before startup starts a held BACKUP", cfg(nil), []stepCase{
			{0, Demote{Reason: "r"}, nil},
			{0, Startup{}, []string{downAt(0), "Transition INIT->BACKUP prio 100 (startup (demoted: r))"}},
			{mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, nil},
		{"6.4.1 demoted address owner starts as BACKUP", cfg(func(c *Config) { c.Priority = 255 }), []stepCase{
			{0, Demote{Reason: "r"}, nil},
			{0, Startup{}, []string{"SetTimer master_down +" + (ms(300) + ms(100)/256).String(), "Transition INIT->BACKUP prio 255 (startup (demoted: r))"}},
			{ms(100), adv(low, 100), []string{"SetTimer master_down +" + (ms(400) + ms(100)/256).String()}},
			{ms(1000), TimerFired{MasterDownTimer}, nil},
			{ms(1000), Resume{}, []string{"SendAdvert 255", "SetTimer adver +1.1s",
				"Transition BACKUP->MASTER prio 255 (resumed; no master heard for " + (ms(300) + ms(100)/256).String() + ")"}},
		}, Master, nil},
		{"6.4.3 demoted address owner resigns and leaves FAULT as BACKUP", cfg(func(c *Config) { c.Priority = 255 }), []stepCase{
			{0, Startup{}, []string{"SendAdvert 255", "SetTimer adver +100ms", "Transition INIT->MASTER prio 255 (startup: priority 255 (address owner))"}},
			{ms(10), Demote{}, []string{"SendAdvert 0", "StopTimer adver", "SetTimer master_down +" + (ms(310) + ms(100)/256).String(), "Transition MASTER->BACKUP prio 255 (demoted)"}},
			{ms(20), InterfaceChanged{Up: false}, []string{"StopTimer master_down", "Transition BACKUP->FAULT prio 255 (interface down)"}},
			{ms(30), InterfaceChanged{Up: true}, []string{"SetTimer master_down +" + (ms(330) + ms(100)/256).String(), "Transition FAULT->BACKUP prio 255 (fault cleared (demoted))"}},
		}, Backup, nil},
		{"demoted BACKUP's priority change by a tracker sends nothing", cfg(func(c *Config) { c.Trackers = []Tracker{{Name: "eth1", Weight: -30}} }), []stepCase{
			backupStart,
			{ms(10), Demote{}, nil},
			{ms(20), TrackChanged{Name: "eth1", OK: false}, nil},
			{mdi100, TimerFired{MasterDownTimer}, nil},
		}, Backup, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := runSteps(t, tc.cfg, tc.steps, fmtActionsWhy)
			if m.State() != tc.final {
				t.Errorf("final state %s, want %s", m.State(), tc.final)
			}
			if tc.check != nil {
				if msg := tc.check(m); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// runSteps runs a timed script on a new machine with cfg, failing at the
// first step whose actions (formatted by format) differ from its want.
func runSteps(t *testing.T, cfg Config, steps []stepCase, format func([]Action) []string) *Machine {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		if d := diff(s.want, format(m.Step(at(s.at), s.ev))); d != "" {
			t.Fatalf("step %d (%T at +%v): actions (-want +got):\n%s", i, s.ev, s.at, d)
		}
	}
	return m
}
