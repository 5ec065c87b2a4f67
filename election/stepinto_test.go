package election

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestStepIntoMatchesStep runs random timed scripts through two machines,
// one with Step and one with StepInto: StepInto must return Step's actions
// without the timer actions, and its machine's deadlines must be those
// Step's SetTimer and StopTimer leave.
func TestStepIntoMatchesStep(t *testing.T) {
	srcs := []struct {
		addr string
		prio uint8
	}{{"10.0.0.1", 200}, {"10.0.0.3", 50}, {"10.0.0.1", 0}, {"10.0.0.3", 100}}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		c := cfg(func(c *Config) {
			c.Priority = uint8(1 + r.IntN(254))
			c.Nopreempt = r.IntN(4) == 0
			c.Version = 2 + r.IntN(2)
			c.Trackers = []Tracker{{Name: "chk", Weight: -40}}
		})
		a, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		var mirror [numTimers]time.Time
		var buf []Action
		now := t0
		for i := range 300 {
			now = now.Add(time.Duration(r.IntN(150)) * time.Millisecond)
			var ev Event
			switch k := r.IntN(20); {
			case i == 0 || k == 0:
				ev = Startup{}
			case k < 8:
				s := srcs[r.IntN(len(srcs))]
				ev = AdvertReceived{Src: netip.MustParseAddr(s.addr), Priority: s.prio, Interval: 100 * time.Millisecond}
			case k < 14:
				// The earliest deadline, as a driver fires it.
				tm := MasterDownTimer
				if d := mirror[AdverTimer]; !d.IsZero() && (mirror[tm].IsZero() || d.Before(mirror[tm])) {
					tm = AdverTimer
				}
				if d := mirror[tm]; !d.IsZero() && d.After(now) {
					now = d
				}
				ev = TimerFired{Timer: tm}
			case k < 16:
				ev = TrackChanged{Name: "chk", OK: r.IntN(2) == 0}
			case k < 17:
				ev = Demote{Reason: "test"}
			case k < 18:
				ev = Resume{Reason: "test"}
			case k < 19:
				ev = InterfaceChanged{Up: r.IntN(3) > 0}
			default:
				ev = Shutdown{}
			}
			var want []string
			for _, act := range a.Step(now, ev) {
				switch act := act.(type) {
				case SetTimer:
					mirror[act.Timer] = act.At
				case StopTimer:
					mirror[act.Timer] = time.Time{}
				default:
					want = append(want, fmtActions([]Action{act})...)
				}
			}
			if tf, ok := ev.(TimerFired); ok && !now.Before(mirror[tf.Timer]) {
				mirror[tf.Timer] = time.Time{} // fired (a driver forgets it)
			}
			buf = b.StepInto(buf, now, ev)
			step := fmt.Sprintf("seed %d step %d (%T %+v at +%v)", seed, i, ev, ev, now.Sub(t0))
			if d := diff(want, fmtActions(buf)); d != "" {
				t.Fatalf("%s: StepInto (-Step's +StepInto's):\n%s", step, d)
			}
			for tm := MasterDownTimer; tm < numTimers; tm++ {
				if got := b.Deadline(tm); !got.Equal(mirror[tm]) {
					t.Fatalf("%s: %s deadline %v, Step's timers say %v", step, tm, got.Sub(t0), mirror[tm].Sub(t0))
				}
			}
			if a.State() != b.State() {
				t.Fatalf("%s: state %s, Step's %s", step, b.State(), a.State())
			}
		}
	}
}

// TestStepIntoDoesNotAllocate: an advertisement received as backup and
// the advert timer as master allocate nothing through StepInto.
func TestStepIntoDoesNotAllocate(t *testing.T) {
	m, err := New(cfg(func(c *Config) { c.Priority = 255 }))
	if err != nil {
		t.Fatal(err)
	}
	buf := m.StepInto(nil, t0, Startup{})
	if m.State() != Master {
		t.Fatalf("state %s, want MASTER", m.State())
	}
	now := t0
	if n := testing.AllocsPerRun(100, func() {
		now = now.Add(100 * time.Millisecond)
		buf = m.StepInto(buf, now, TimerFired{Timer: AdverTimer})
	}); n != 0 {
		t.Errorf("master advert timer: %v allocations, want 0", n)
	}
	b, err := New(cfg(nil))
	if err != nil {
		t.Fatal(err)
	}
	buf = b.StepInto(buf, t0, Startup{})
	adv := AdvertReceived{Src: high, Priority: 200, Interval: 100 * time.Millisecond}
	if n := testing.AllocsPerRun(100, func() {
		now = now.Add(100 * time.Millisecond)
		buf = b.StepInto(buf, now, adv)
	}); n != 0 {
		t.Errorf("backup received advert: %v allocations, want 0", n)
	}
}
