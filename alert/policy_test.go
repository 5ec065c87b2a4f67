package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/rules"
)

// The policy is pure: these tests are timed scripts of events, each with
// the actions it must return and when the policy wants its next step.

var p0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// pat is p0 plus d.
func pat(d time.Duration) time.Time { return p0.Add(d) }

// rel formats t relative to p0 ("?" when zero).
func rel(t time.Time) string {
	switch d := t.Sub(p0); {
	case t.IsZero():
		return "?"
	case d < 0:
		return d.String()
	default:
		return "+" + d.String()
	}
}

// pf is a finding with fingerprint fp issued at +at, first seen then.
func pf(fp string, st rules.State, at time.Duration) rules.Finding {
	return rules.Finding{Kind: rules.DuplicateMaster, State: st, Severity: rules.Critical, VRID: 51,
		FirstSeen: pat(at), LastSeen: pat(at), At: pat(at), Fingerprint: fp, Message: "m"}
}

// seen is f with FirstSeen moved to +first.
func seen(f rules.Finding, first time.Duration) rules.Finding {
	f.FirstSeen = pat(first)
	return f
}

// saved is a firing-set entry as a previous run left it: started at
// +starts, last notified at +notified.
func saved(fp string, starts, notified time.Duration) *firingEntry {
	a := FromFinding(pf(fp, rules.Raised, starts), "w1")
	return &firingEntry{Alert: a, LastNotified: pat(notified)}
}

func fmtAlert(a Alert) string {
	s := a.Fingerprint + "/" + a.Status
	if a.Repeat {
		s += " repeat"
	}
	s += " starts" + rel(a.StartsAt)
	if !a.EndsAt.IsZero() {
		s += " ends" + rel(a.EndsAt)
	}
	if _, note, ok := strings.Cut(a.Annotations[AnnotationDescription], "\nresolved by vrrpguard: "); ok {
		s += " (" + note + ")"
	}
	return s
}

// fmtPolicyActions renders actions one per line, times relative to p0.
func fmtPolicyActions(as []policyAction) []string {
	var out []string
	for _, a := range as {
		var parts []string
		switch a := a.(type) {
		case publishFiring:
			for _, x := range a.alerts {
				parts = append(parts, x.Fingerprint)
			}
			out = append(out, "firing "+strings.Join(parts, " "))
		case notify:
			for _, x := range a.alerts {
				parts = append(parts, fmtAlert(x))
			}
			out = append(out, "notify "+strings.Join(parts, ", "))
		case saveFiring:
			for _, fe := range a.firing {
				parts = append(parts, fe.Alert.Fingerprint+"@"+rel(fe.LastNotified))
			}
			out = append(out, "save "+strings.Join(parts, " "))
		case ignoredResolve:
			out = append(out, "ignored resolve "+a.fingerprint)
		default:
			out = append(out, fmt.Sprintf("%#v", a))
		}
	}
	return out
}

// never is the want of a step after which the policy needs no timer.
const never = time.Duration(-1)

type policyStep struct {
	at   time.Duration
	ev   policyEvent
	want []string
	next time.Duration // when the policy wants to step again; never
}

func raise(fps ...string) func(time.Duration) policyEvent {
	return func(at time.Duration) policyEvent {
		var fs []rules.Finding
		for _, fp := range fps {
			fs = append(fs, pf(fp, rules.Raised, at))
		}
		return submitted{fs}
	}
}

// TestPolicyStep: with HoldFirst a group's first findings wait for the
// group wait too (the grouping of Alertmanager's group_wait).
func TestPolicyStep(t *testing.T) {
	const gw = 200 * time.Millisecond
	cfg := policyConfig{Instance: "w1", GroupWait: gw, HoldFirst: true, RepeatInterval: time.Hour, RestoreGrace: 15 * time.Minute}
	tick := submitted{}
	sub := func(fs ...rules.Finding) submitted { return submitted{fs} }
	// raiseA: A raised at 0, notified when the group wait ends.
	raiseA := []policyStep{
		{0, sub(pf("A", rules.Raised, 0)), nil, gw},
		{gw, tick, []string{"firing A", "notify A/firing starts+0s", "save A@+200ms"}, time.Hour + gw},
	}
	tests := []struct {
		name  string
		cfg   func(*policyConfig)
		steps []policyStep
	}{
		{"nothing to do", nil, []policyStep{{0, tick, nil, never}}},
		{"a raise waits for the group wait", nil, raiseA},
		{"findings within the group wait go out together", nil, []policyStep{
			{0, sub(pf("A", rules.Raised, 0)), nil, gw},
			{100 * time.Millisecond, sub(pf("B", rules.Raised, 100*time.Millisecond)), nil, gw},
			{150 * time.Millisecond, tick, nil, gw},
			{gw, tick, []string{"firing A B", "notify A/firing starts+0s, B/firing starts+100ms", "save A@+200ms B@+200ms"}, time.Hour + gw},
		}},
		{"findings taken at once are one group", nil, []policyStep{
			{0, raise("A", "B")(0), nil, gw},
			{gw, tick, []string{"firing A B", "notify A/firing starts+0s, B/firing starts+0s", "save A@+200ms B@+200ms"}, time.Hour + gw},
		}},
		{"a finding after the group went out opens a new group", nil, append(raiseA,
			policyStep{time.Second, sub(pf("B", rules.Raised, time.Second)), nil, time.Second + gw},
			policyStep{time.Second + gw, tick, []string{"firing A B", "notify B/firing starts+1s", "save A@+200ms B@+1.2s"}, time.Hour + gw},
		)},
		{"no group wait: out at once", func(c *policyConfig) { c.GroupWait = 0 }, []policyStep{
			{0, sub(pf("A", rules.Raised, 0)), []string{"firing A", "notify A/firing starts+0s", "save A@+0s"}, time.Hour},
		}},
		{"a raise of an alert already firing updates it silently and keeps its start", nil, append(raiseA,
			policyStep{time.Second, sub(seen(pf("A", rules.Raised, time.Second), time.Second)), nil, time.Second + gw},
			policyStep{time.Second + gw, tick, []string{"firing A", "save A@+200ms"}, time.Hour + gw},
			policyStep{time.Hour + gw, tick, []string{"firing A", "notify A/firing repeat starts+0s", "save A@+1h0m0.2s"}, 2*time.Hour + gw},
		)},
		{"resolve notifies; a second resolve is ignored", nil, append(raiseA,
			policyStep{2 * time.Second, sub(pf("A", rules.Resolved, 2*time.Second)), nil, 2*time.Second + gw},
			policyStep{2*time.Second + gw, tick, []string{"firing ", "notify A/resolved starts+0s ends+2s", "save "}, never},
			policyStep{3 * time.Second, sub(pf("A", rules.Resolved, 3*time.Second)), nil, 3*time.Second + gw},
			policyStep{3*time.Second + gw, tick, []string{"ignored resolve A", "firing ", "save "}, never},
		)},
		{"a resolve keeps the start of the raise", nil, append(raiseA,
			policyStep{2 * time.Second, sub(seen(pf("A", rules.Resolved, 2*time.Second), time.Second)), nil, 2*time.Second + gw},
			policyStep{2*time.Second + gw, tick, []string{"firing ", "notify A/resolved starts+0s ends+2s", "save "}, never},
		)},
		{"raise and resolve within one group are one resolved alert", nil, []policyStep{
			{0, sub(pf("A", rules.Raised, 0)), nil, gw},
			{50 * time.Millisecond, sub(pf("A", rules.Resolved, 50*time.Millisecond)), nil, gw},
			{gw, tick, []string{"firing ", "notify A/resolved starts+0s ends+50ms", "save "}, never},
		}},
		{"resolve and raise again within one group are one firing alert", nil, append(raiseA,
			policyStep{time.Second, sub(pf("A", rules.Resolved, time.Second)), nil, time.Second + gw},
			policyStep{time.Second + 50*time.Millisecond, sub(pf("A", rules.Raised, time.Second+50*time.Millisecond)), nil, time.Second + gw},
			policyStep{time.Second + gw, tick, []string{"firing A", "notify A/firing starts+1.05s", "save A@+1.2s"}, time.Hour + time.Second + gw},
		)},
		{"a firing alert is repeated every repeat interval until resolved", nil, append(raiseA,
			policyStep{time.Hour, tick, nil, time.Hour + gw},
			policyStep{time.Hour + gw, tick, []string{"firing A", "notify A/firing repeat starts+0s", "save A@+1h0m0.2s"}, 2*time.Hour + gw},
			policyStep{2*time.Hour + gw + time.Minute, tick, []string{"firing A", "notify A/firing repeat starts+0s", "save A@+2h1m0.2s"}, 3*time.Hour + gw + time.Minute},
			policyStep{2*time.Hour + 2*time.Minute, sub(pf("A", rules.Resolved, 2*time.Hour+2*time.Minute)), nil, 2*time.Hour + 2*time.Minute + gw},
			policyStep{2*time.Hour + 2*time.Minute + gw, tick, []string{"firing ", "notify A/resolved starts+0s ends+2h2m0s", "save "}, never},
		)},
		{"reminders of several alerts go out together, after the group", nil, []policyStep{
			{0, raise("A", "B")(0), nil, gw},
			{gw, tick, []string{"firing A B", "notify A/firing starts+0s, B/firing starts+0s", "save A@+200ms B@+200ms"}, time.Hour + gw},
			{time.Hour + gw, sub(pf("C", rules.Raised, time.Hour+gw)), []string{
				"firing A B", "notify A/firing repeat starts+0s, B/firing repeat starts+0s", "save A@+1h0m0.2s B@+1h0m0.2s"}, time.Hour + 2*gw},
			{time.Hour + 2*gw, tick, []string{"firing A B C", "notify C/firing starts+1h0m0.2s", "save A@+1h0m0.2s B@+1h0m0.2s C@+1h0m0.4s"}, 2*time.Hour + gw},
		}},
		{"negative repeat interval: no reminders", func(c *policyConfig) { c.RepeatInterval = -1 }, []policyStep{
			{0, sub(pf("A", rules.Raised, 0)), nil, gw},
			{gw, tick, []string{"firing A", "notify A/firing starts+0s", "save A@+200ms"}, never},
			{48 * time.Hour, tick, nil, never},
		}},
		{"stopping sends the pending group at once", nil, []policyStep{
			{0, sub(pf("A", rules.Raised, 0)), nil, gw},
			{50 * time.Millisecond, stopping{[]rules.Finding{pf("B", rules.Raised, 50*time.Millisecond)}},
				[]string{"firing A B", "notify A/firing starts+0s, B/firing starts+50ms", "save A@+50ms B@+50ms"}, time.Hour + 50*time.Millisecond},
		}},
		{"a finding without times is issued at the step's time, its start unknown", nil, []policyStep{
			{0, sub(rules.Finding{Kind: rules.NoMaster, State: rules.Raised, Fingerprint: "A"}), nil, gw},
			{gw, tick, []string{"firing A", "notify A/firing starts?", "save A@+200ms"}, time.Hour + gw},
		}},
		{"restored alerts are published, not notified, and resolved after the grace", nil, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -time.Hour, -10*time.Minute), saved("B", -2*time.Hour, -time.Minute)}}, []string{"firing B A"}, 15 * time.Minute},
			{time.Hour, tick, []string{"firing ",
				"notify B/resolved starts-2h0m0s ends+1h0m0s (not detected again within 15m0s after a restart), " +
					"A/resolved starts-1h0m0s ends+1h0m0s (not detected again within 15m0s after a restart)",
				"save "}, never},
		}},
		{"restored alert expires at exactly the grace", nil, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -time.Hour, -10*time.Minute)}}, []string{"firing A"}, 15 * time.Minute},
			{15*time.Minute - 1, tick, nil, 15 * time.Minute},
			{15 * time.Minute, tick, []string{"firing ", "notify A/resolved starts-1h0m0s ends+15m0s (not detected again within 15m0s after a restart)", "save "}, never},
		}},
		{"restored alert raised again is confirmed silently and keeps its start and repeat schedule", nil, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -time.Hour, -10*time.Minute)}}, []string{"firing A"}, 15 * time.Minute},
			{5 * time.Second, sub(pf("A", rules.Raised, 5*time.Second)), nil, 5*time.Second + gw},
			{5*time.Second + gw, tick, []string{"firing A", "save A@-10m0s"}, 50 * time.Minute},
			{50 * time.Minute, tick, []string{"firing A", "notify A/firing repeat starts-1h0m0s", "save A@+50m0s"}, time.Hour + 50*time.Minute},
		}},
		{"a repeat overdue at restart waits for the raise, then goes out", nil, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -3*time.Hour, -2*time.Hour)}}, []string{"firing A"}, 15 * time.Minute},
			{time.Minute, sub(pf("A", rules.Raised, time.Minute)), nil, time.Minute + gw},
			{time.Minute + gw, tick, []string{"firing A", "notify A/firing repeat starts-3h0m0s", "save A@+1m0.2s"}, time.Hour + time.Minute + gw},
		}},
		{"restored alert resolved by the engine notifies the resolve", nil, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -time.Hour, -10*time.Minute)}}, []string{"firing A"}, 15 * time.Minute},
			{time.Second, sub(pf("A", rules.Resolved, time.Second)), nil, time.Second + gw},
			{time.Second + gw, tick, []string{"firing ", "notify A/resolved starts-1h0m0s ends+1s", "save "}, never},
		}},
		{"negative restore grace: restored alerts wait for ever", func(c *policyConfig) { c.RestoreGrace = -1 }, []policyStep{
			{0, restored{[]*firingEntry{saved("A", -time.Hour, -10*time.Minute)}}, []string{"firing A"}, never},
			{48 * time.Hour, tick, nil, never},
		}},
		{"restore replaces the firing set and skips entries without fingerprint", nil, append(raiseA,
			policyStep{time.Second, restored{[]*firingEntry{nil, {Alert: Alert{}}, saved("B", 0, 0)}}, []string{"firing B"}, time.Second + 15*time.Minute},
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			p := newPolicy(c)
			for i, s := range tc.steps {
				got := fmtPolicyActions(p.step(pat(s.at), s.ev))
				if d := testenv.DiffLines(s.want, got); d != "" {
					t.Fatalf("step %d at +%v %T (-want +got):\n%s", i, s.at, s.ev, d)
				}
				next := never
				if n := p.next(); !n.IsZero() {
					next = n.Sub(p0)
				}
				if next != s.next {
					t.Fatalf("step %d at +%v: next step at %v, want %v (-1: never)", i, s.at, next, s.next)
				}
			}
		})
	}
}

// TestPolicyAlertFields checks what the policy adds to FromFinding: the
// generator URL, the reporting instance and, on a silent update, the
// newest evidence under the first start.
func TestPolicyAlertFields(t *testing.T) {
	p := newPolicy(policyConfig{Instance: "w1", ExternalURL: "http://w1:9812/", RepeatInterval: time.Hour})
	first := pf("A", rules.Raised, 0)
	first.FirstSeen = pat(-time.Minute)
	p.step(pat(0), submitted{[]rules.Finding{first}})
	later := pf("A", rules.Raised, time.Minute)
	later.Message = "newer evidence"
	acts := p.step(pat(time.Minute), submitted{[]rules.Finding{later}})
	if len(acts) != 2 {
		t.Fatalf("actions %v, want publish and save", fmtPolicyActions(acts))
	}
	got := acts[0].(publishFiring).alerts[0]
	if got.GeneratorURL != "http://w1:9812/" || got.Annotations[AnnotationReportedBy] != "w1" || got.Message != "newer evidence" ||
		!got.StartsAt.Equal(pat(-time.Minute)) || !got.FirstSeen.Equal(pat(-time.Minute)) || !got.LastSeen.Equal(pat(time.Minute)) {
		t.Errorf("updated alert %+v", got)
	}
}

// TestPolicyRaisesWithinOneGroup: an alert raised twice within one group is
// notified once, with the newer evidence.
func TestPolicyRaisesWithinOneGroup(t *testing.T) {
	p := newPolicy(policyConfig{GroupWait: time.Second, HoldFirst: true})
	p.step(pat(0), submitted{[]rules.Finding{pf("A", rules.Raised, 0)}})
	later := pf("A", rules.Raised, 500*time.Millisecond)
	later.Message = "newer evidence"
	p.step(pat(500*time.Millisecond), submitted{[]rules.Finding{later}})
	acts := p.step(pat(time.Second), submitted{})
	var sent []Alert
	for _, a := range acts {
		if n, ok := a.(notify); ok {
			sent = append(sent, n.alerts...)
		}
	}
	if len(sent) != 1 || sent[0].Message != "newer evidence" || !sent[0].LastSeen.Equal(pat(500*time.Millisecond)) || !sent[0].StartsAt.Equal(p0) {
		t.Errorf("notified %+v, want A once with the evidence of the second raise", sent)
	}
}

// TestPolicyStepFirstAtOnce: by default the first findings after a quiet
// moment go out at once; later ones within the group wait of a
// notification are folded into one notification at its end.
func TestPolicyStepFirstAtOnce(t *testing.T) {
	const gw = 200 * time.Millisecond
	cfg := policyConfig{Instance: "w1", GroupWait: gw, RepeatInterval: time.Hour, RestoreGrace: 15 * time.Minute}
	tick := submitted{}
	sub := func(fs ...rules.Finding) submitted { return submitted{fs} }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	raiseA := policyStep{0, sub(pf("A", rules.Raised, 0)), []string{"firing A", "notify A/firing starts+0s", "save A@+0s"}, time.Hour}
	tests := []struct {
		name  string
		steps []policyStep
	}{
		{"the first raise goes out at once", []policyStep{raiseA}},
		{"findings taken at once are one notification", []policyStep{
			{0, raise("A", "B")(0), []string{"firing A B", "notify A/firing starts+0s, B/firing starts+0s", "save A@+0s B@+0s"}, time.Hour},
		}},
		{"later findings within the group wait are folded into one notification at its end", []policyStep{
			raiseA,
			{ms(50), sub(pf("B", rules.Raised, ms(50))), nil, gw},
			{ms(120), sub(pf("C", rules.Raised, ms(120))), nil, gw},
			{ms(199), tick, nil, gw},
			{gw, tick, []string{"firing A B C", "notify B/firing starts+50ms, C/firing starts+120ms", "save A@+0s B@+200ms C@+200ms"}, time.Hour},
			// The folded notification holds the next findings for another
			// group wait.
			{ms(300), sub(pf("D", rules.Raised, ms(300))), nil, ms(400)},
			{ms(400), tick, []string{"firing A B C D", "notify D/firing starts+300ms", "save A@+0s B@+200ms C@+200ms D@+400ms"}, time.Hour},
		}},
		{"a finding after the group wait goes out at once", []policyStep{
			raiseA,
			{time.Second, sub(pf("B", rules.Raised, time.Second)), []string{"firing A B", "notify B/firing starts+1s", "save A@+0s B@+1s"}, time.Hour},
		}},
		{"a silent update does not hold the next finding", []policyStep{
			raiseA,
			{time.Second, sub(pf("A", rules.Raised, time.Second)), []string{"firing A", "save A@+0s"}, time.Hour},
			{time.Second + ms(10), sub(pf("B", rules.Raised, time.Second+ms(10))), []string{"firing A B", "notify B/firing starts+1.01s", "save A@+0s B@+1.01s"}, time.Hour},
		}},
		{"a resolve within the group wait goes out at its end", []policyStep{
			raiseA,
			{ms(50), sub(pf("A", rules.Resolved, ms(50))), nil, gw},
			{gw, tick, []string{"firing ", "notify A/resolved starts+0s ends+50ms", "save "}, never},
		}},
		{"stopping sends the held findings at once", []policyStep{
			raiseA,
			{ms(50), stopping{[]rules.Finding{pf("B", rules.Raised, ms(50))}}, []string{"firing A B", "notify B/firing starts+50ms", "save A@+0s B@+50ms"}, time.Hour},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(cfg)
			for i, s := range tc.steps {
				got := fmtPolicyActions(p.step(pat(s.at), s.ev))
				if d := testenv.DiffLines(s.want, got); d != "" {
					t.Fatalf("step %d at +%v %T (-want +got):\n%s", i, s.at, s.ev, d)
				}
				next := never
				if n := p.next(); !n.IsZero() {
					next = n.Sub(p0)
				}
				if next != s.next {
					t.Fatalf("step %d at +%v: next step at %v, want %v (-1: never)", i, s.at, next, s.next)
				}
			}
		})
	}
}

// TestPolicyBurstIsBounded: a burst of findings of one incident (a new
// alert every 10 ms for 2 s, the policy stepped at every submission and
// whenever it asks) makes one notification per group wait, the first at
// once, and notifies every alert exactly once.
func TestPolicyBurstIsBounded(t *testing.T) {
	const (
		gw    = 200 * time.Millisecond
		every = 10 * time.Millisecond
		burst = 2 * time.Second
	)
	for _, hold := range []bool{false, true} {
		t.Run(fmt.Sprintf("HoldFirst=%v", hold), func(t *testing.T) {
			p := newPolicy(policyConfig{GroupWait: gw, HoldFirst: hold, RepeatInterval: time.Hour})
			var notified []time.Duration
			seen := map[string]int{}
			take := func(at time.Duration, as []policyAction) {
				for _, a := range as {
					if n, ok := a.(notify); ok {
						notified = append(notified, at)
						for _, x := range n.alerts {
							seen[x.Fingerprint]++
						}
					}
				}
			}
			for at := time.Duration(0); at <= burst+2*gw; at += time.Millisecond {
				var fs []rules.Finding
				if at <= burst && at%every == 0 {
					fs = []rules.Finding{pf(fmt.Sprintf("F%d", at/every), rules.Raised, at)}
				}
				if n := p.next(); len(fs) > 0 || (!n.IsZero() && !pat(at).Before(n)) {
					take(at, p.step(pat(at), submitted{fs}))
				}
			}
			if want := int(burst/every) + 1; len(seen) != want {
				t.Errorf("%d alerts notified, want %d", len(seen), want)
			}
			for fp, n := range seen {
				if n != 1 {
					t.Errorf("%s notified %d times, want once", fp, n)
				}
			}
			if max := int(burst/gw) + 2; len(notified) > max {
				t.Errorf("%d notifications for a %v burst, want at most %d (one per group wait): at %v", len(notified), burst, max, notified)
			}
			first := gw
			if !hold {
				first = 0
			}
			if len(notified) == 0 || notified[0] != first {
				t.Errorf("first notification at %v, want +%v", notified, first)
			}
			for i := 1; i < len(notified); i++ {
				if d := notified[i] - notified[i-1]; d < gw {
					t.Errorf("notifications at %v and %v: %v apart, less than the group wait", notified[i-1], notified[i], d)
				}
			}
		})
	}
}
