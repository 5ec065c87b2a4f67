package track

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// stepCase is one event of a timed script and the actions it must give
// (formatted with fmt: "up", "down", "timer 12:00:00.500", "timer off").
type stepCase struct {
	at   time.Duration
	ev   Event
	want []string
}

func format(as []Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

func timer(d time.Duration) string { return SetTimer{At: t0.Add(d)}.String() }

func TestProcessStep(t *testing.T) {
	q1 := ProcessConfig{Quorum: 1, QuorumMax: -1}
	delayed := ProcessConfig{Quorum: 1, QuorumMax: -1, ForkDelay: ms(200), TerminateDelay: ms(500)}
	for _, tc := range []struct {
		name   string
		cfg    ProcessConfig
		pids   []int
		initUp bool
		steps  []stepCase
		finUp  bool
		count  int
	}{
		{"exit of the only process: down at once", q1, []int{10}, true, []stepCase{
			{ms(1), Exit{Pid: 99}, nil},
			{ms(2), Exit{Pid: 10}, []string{"down"}},
			{ms(3), Exit{Pid: 10}, nil},
		}, false, 0},
		{"exec of a matching program: up at once, even with a fork delay", delayed, nil, false, []stepCase{
			{ms(1), Matched{Pid: 20, Match: true}, []string{"up"}},
			{ms(2), Matched{Pid: 20, Match: true}, nil},
		}, true, 1},
		{"fork of a matching process is counted; no quorum change", q1, []int{10}, true, []stepCase{
			{ms(1), Fork{Parent: 10, Child: 11}, nil},
			{ms(2), Fork{Parent: 5, Child: 12}, nil},
			{ms(3), Exit{Pid: 10}, nil},
			{ms(4), Exit{Pid: 11}, []string{"down"}},
		}, false, 0},
		{"terminate delay: down when it ends", delayed, []int{10}, true, []stepCase{
			{ms(100), Exit{Pid: 10}, []string{timer(ms(600))}},
			{ms(599), TimerFired{}, nil},
			{ms(600), TimerFired{}, []string{"down", "timer off"}},
		}, false, 0},
		{"terminate delay: a new match cancels it (restart)", delayed, []int{10}, true, []stepCase{
			{ms(100), Exit{Pid: 10}, []string{timer(ms(600))}},
			{ms(300), Matched{Pid: 30, Match: true}, []string{"timer off"}},
		}, true, 1},
		{"terminate delay: a fork cancels it and counts at once", ProcessConfig{Quorum: 2, QuorumMax: -1, ForkDelay: ms(200), TerminateDelay: ms(500)}, []int{10, 11}, true, []stepCase{
			{ms(100), Exit{Pid: 11}, []string{timer(ms(600))}},
			{ms(300), Fork{Parent: 10, Child: 12}, []string{"timer off"}},
		}, true, 2},
		{"fork delay: quorum reached by a fork counts after the delay", ProcessConfig{Quorum: 2, QuorumMax: -1, ForkDelay: ms(200)}, []int{10}, false, []stepCase{
			{ms(100), Fork{Parent: 10, Child: 11}, []string{timer(ms(300))}},
			{ms(300), TimerFired{}, []string{"up", "timer off"}},
		}, true, 2},
		{"fork delay: an exit in the delay cancels it, no change", ProcessConfig{Quorum: 2, QuorumMax: -1, ForkDelay: ms(200), TerminateDelay: ms(500)}, []int{10}, false, []stepCase{
			{ms(100), Fork{Parent: 10, Child: 11}, []string{timer(ms(300))}},
			{ms(150), Exit{Pid: 11}, []string{"timer off"}},
		}, false, 1},
		{"quorum 2: one of two exits", ProcessConfig{Quorum: 2, QuorumMax: -1}, []int{1, 2, 3}, true, []stepCase{
			{ms(1), Exit{Pid: 1}, nil},
			{ms(2), Exit{Pid: 2}, []string{"down"}},
			{ms(3), Matched{Pid: 4, Match: true}, []string{"up"}},
		}, true, 2},
		{"quorum_max 1: a second process is down, its exit up", ProcessConfig{Quorum: 1, QuorumMax: 1}, []int{1}, true, []stepCase{
			{ms(1), Matched{Pid: 2, Match: true}, []string{"down"}},
			{ms(2), Exit{Pid: 2}, []string{"up"}},
		}, true, 1},
		{"quorum_max with delays: a fork above it waits, an exit back waits", ProcessConfig{Quorum: 1, QuorumMax: 1, ForkDelay: ms(200), TerminateDelay: ms(500)}, []int{1}, true, []stepCase{
			{ms(100), Fork{Parent: 1, Child: 2}, []string{timer(ms(300))}},
			{ms(300), TimerFired{}, []string{"down", "timer off"}},
			{ms(400), Exit{Pid: 2}, []string{timer(ms(900))}},
			{ms(900), TimerFired{}, []string{"up", "timer off"}},
		}, true, 1},
		{"quorum_max 0: any process is down", ProcessConfig{Quorum: 0, QuorumMax: 0}, nil, true, []stepCase{
			{ms(1), Matched{Pid: 7, Match: true}, []string{"down"}},
			{ms(2), Exit{Pid: 7}, []string{"up"}},
		}, true, 0},
		{"exec of another program or a new name: stops counting at once", delayed, []int{10}, true, []stepCase{
			{ms(1), Matched{Pid: 11, Match: false}, nil},
			{ms(2), Matched{Pid: 10, Match: false}, []string{"down"}},
		}, false, 0},
		{"rescan: gain at once, loss after the terminate delay", delayed, []int{10}, true, []stepCase{
			{ms(10), Rescan{}, []string{timer(ms(510))}},
			{ms(20), Rescan{Pids: []int{11}}, []string{"timer off"}},
			{ms(30), Rescan{}, []string{timer(ms(530))}},
			{ms(530), TimerFired{}, []string{"down", "timer off"}},
			{ms(540), Rescan{Pids: []int{12}}, []string{"up"}},
		}, true, 1},
		{"initial scan without processes: down", q1, nil, false, []stepCase{
			{ms(1), TimerFired{}, nil},
		}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewProcess(tc.cfg, tc.pids)
			if err != nil {
				t.Fatal(err)
			}
			if p.Up() != tc.initUp {
				t.Errorf("initially up = %v, want %v", p.Up(), tc.initUp)
			}
			for i, s := range tc.steps {
				if d := jsondiff.Diff(s.want, format(p.Step(t0.Add(s.at), s.ev))); d != "" {
					t.Fatalf("step %d (%T at +%v): actions (-want +got):\n%s", i, s.ev, s.at, d)
				}
			}
			if p.Up() != tc.finUp || p.Count() != tc.count {
				t.Errorf("finally up = %v with %d processes, want %v with %d", p.Up(), p.Count(), tc.finUp, tc.count)
			}
		})
	}
}

func TestNewProcessBadConfig(t *testing.T) {
	for _, cfg := range []ProcessConfig{
		{Quorum: -1, QuorumMax: -1},
		{Quorum: 70000, QuorumMax: -1},
		{Quorum: 3, QuorumMax: 2},
		{Quorum: 1, QuorumMax: 70000},
		{Quorum: 1, QuorumMax: -1, ForkDelay: -time.Second},
	} {
		if _, err := NewProcess(cfg, nil); err == nil {
			t.Errorf("NewProcess(%+v): no error", cfg)
		}
	}
}

func TestMatcher(t *testing.T) {
	cmd := func(words ...string) []byte {
		var b []byte
		for _, w := range words {
			b = append(append(b, w...), 0)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		m       Matcher
		comm    string
		cmdline []byte
		want    bool
	}{
		{"comm equal", Matcher{Name: "haproxy"}, "haproxy", cmd("/usr/sbin/haproxy", "-f"), true},
		{"comm is exact, not a pattern", Matcher{Name: "ssh"}, "sshd", nil, false},
		{"full command argv[0]", Matcher{Name: "/usr/sbin/haproxy", FullCommand: true}, "haproxy", cmd("/usr/sbin/haproxy", "-f", "x"), true},
		{"full command, other program", Matcher{Name: "/usr/sbin/haproxy", FullCommand: true}, "haproxy", cmd("haproxy"), false},
		{"kernel thread has no command line", Matcher{Name: "kworker", FullCommand: true}, "kworker", nil, false},
		{"exact params", Matcher{Name: "a", FullCommand: true, Params: []string{"-x", "y z"}, ParamMatch: "exact"}, "", cmd("a", "-x", "y z"), true},
		{"exact params, one more", Matcher{Name: "a", FullCommand: true, Params: []string{"-x"}, ParamMatch: "exact"}, "", cmd("a", "-x", "y"), false},
		{"exact, no params wanted", Matcher{Name: "a", FullCommand: true, ParamMatch: "exact"}, "", cmd("a"), true},
		{"exact, no params wanted, one given", Matcher{Name: "a", FullCommand: true, ParamMatch: "exact"}, "", cmd("a", "b"), false},
		{"partial: first params", Matcher{Name: "a", FullCommand: true, Params: []string{"-x"}, ParamMatch: "partial"}, "", cmd("a", "-x", "y"), true},
		{"partial: whole words", Matcher{Name: "a", FullCommand: true, Params: []string{"-x"}, ParamMatch: "partial"}, "", cmd("a", "-xy"), false},
		{"partial: too few", Matcher{Name: "a", FullCommand: true, Params: []string{"-x", "y"}, ParamMatch: "partial"}, "", cmd("a", "-x"), false},
		{"initial: last may be longer", Matcher{Name: "a", FullCommand: true, Params: []string{"-x", "conf"}, ParamMatch: "initial"}, "", cmd("a", "-x", "config.cfg", "z"), true},
		{"initial: earlier ones exact", Matcher{Name: "a", FullCommand: true, Params: []string{"-x", "conf"}, ParamMatch: "initial"}, "", cmd("a", "-xx", "conf"), false},
		{"no param_match: params ignored", Matcher{Name: "a", FullCommand: true}, "", cmd("a", "whatever"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Match(tc.comm, tc.cmdline); got != tc.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tc.comm, tc.cmdline, got, tc.want)
			}
		})
	}
}

func TestFileStatus(t *testing.T) {
	for _, tc := range []struct {
		value   int64
		weight  int
		reverse bool
		delta   int
		fault   bool
	}{
		{0, 0, false, 0, false},
		{1, 0, false, 0, true},
		{-5, 0, false, 0, true},
		{0, 0, true, 0, true},
		{3, 0, true, 0, false},
		{0, 1, false, 0, false},
		{60, 1, false, 60, false},
		{-60, 1, false, -60, false},
		{30, -2, false, -60, false},
		{30, 2, true, -60, false},
		{-253, 1, false, -253, false},
		{-254, 1, false, 0, true},
		{-1, 254, false, 0, true},
		{300, 1, false, 253, false},
		{1 << 31, 254, false, 253, false},
		{-(1 << 31), 254, true, 253, false},
		{-(1 << 31), 254, false, 0, true},
		{1 << 62, -254, false, 0, true},
	} {
		d, f := FileStatus(tc.value, tc.weight, tc.reverse)
		if d != tc.delta || f != tc.fault {
			t.Errorf("FileStatus(%d, %d, %v) = %d, %v; want %d, %v", tc.value, tc.weight, tc.reverse, d, f, tc.delta, tc.fault)
		}
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"7\n", 7, false},
		{"  -12 apples", -12, false},
		{"+3", 3, false},
		{"0x1f", 31, false},
		{"0X1F", 31, false},
		{"010", 8, false},
		{"09", 0, false}, // octal: stops at 9
		{"0x", 0, false},
		{"abc", 0, false},
		{"2147483648", 1 << 31, false},
		{"-2147483648", -(1 << 31), false},
		{"2147483649", 0, true},
		{"-2147483649", 0, true},
		{"99999999999999999999999", 0, true},
		{"\t\v 5", 5, false},
	} {
		got, err := ParseValue([]byte(tc.in))
		if tc.bad {
			if !errors.Is(err, ErrBadValue) {
				t.Errorf("ParseValue(%q) = %d, %v; want ErrBadValue", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseValue(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	long := make([]byte, 200)
	for i := range long {
		long[i] = ' '
	}
	copy(long[150:], "42")
	if got, err := ParseValue(long); got != 0 || err != nil {
		t.Errorf("ParseValue(number after byte 127) = %d, %v; want 0 (only 127 bytes are read)", got, err)
	}
}
