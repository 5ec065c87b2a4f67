package alert

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// The dispatcher tests run in a testing/synctest bubble: time is virtual,
// so group waits, repeat intervals and backoff schedules are checked to
// the nanosecond without waiting for them.

const gw = DefaultGroupWait

func TestGroupWaitBatchesOneIncident(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{HoldFirst: true, StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		t0 := time.Now()
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, t0))
		time.Sleep(100 * time.Millisecond)
		r.d.Submit(finding(rules.VIPOnBackup, 51, rules.Raised, time.Now()))
		time.Sleep(99 * time.Millisecond)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 0 {
			t.Fatalf("sent before the group wait ended: %d calls", len(c))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 1 {
			t.Fatalf("want 1 notification, got %d", len(c))
		}
		if !c[0].at.Equal(t0.Add(gw)) {
			t.Errorf("sent at %v, want t0+%v", c[0].at.Sub(t0), gw)
		}
		want := []string{"fp-duplicate_master-51/firing", "fp-vip_on_backup-51/firing"}
		if got := fingerprints(c[0].alerts); !slices.Equal(got, want) {
			t.Errorf("alerts %v, want %v", got, want)
		}
		if got := r.counter("sent", "fake"); got != 1 {
			t.Errorf("sent_total %v, want 1", got)
		}
	})
}

// TestFirstNoticeAtOnce: by default the first finding of an incident is
// sent at once; those that follow within the group wait go out together
// when it ends.
func TestFirstNoticeAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		t0 := time.Now()
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, t0))
		synctest.Wait()
		if c := n.getCalls(); len(c) != 1 || !c[0].at.Equal(t0) {
			t.Fatalf("first finding: %d calls, want 1 at once", len(c))
		}
		time.Sleep(50 * time.Millisecond)
		r.d.Submit(finding(rules.VIPOnBackup, 51, rules.Raised, time.Now()))
		time.Sleep(50 * time.Millisecond)
		r.d.Submit(finding(rules.VRIDConflict, 51, rules.Raised, time.Now()))
		time.Sleep(gw - 100*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 1 {
			t.Fatalf("later findings sent before the group wait ended: %d calls", len(c))
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 2 {
			t.Fatalf("want 2 notifications, got %d", len(c))
		}
		if !c[1].at.Equal(t0.Add(gw)) {
			t.Errorf("folded notification sent at t0+%v, want t0+%v", c[1].at.Sub(t0), gw)
		}
		want := []string{"fp-vip_on_backup-51/firing", "fp-vrid_conflict-51/firing"}
		if got := fingerprints(c[1].alerts); !slices.Equal(got, want) {
			t.Errorf("folded alerts %v, want %v", got, want)
		}
	})
}

func TestDedupAndResolve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		t0 := time.Now()
		f := finding(rules.DuplicateMaster, 51, rules.Raised, t0)
		r.d.Submit(f)
		time.Sleep(time.Second)
		// The engine (or a second rule path) raising it again: no new
		// notification.
		again := f
		again.At, again.LastSeen = time.Now(), time.Now()
		r.d.Submit(again)
		time.Sleep(time.Second)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 1 {
			t.Fatalf("a repeated raise notified again: %d calls", len(c))
		}
		res := f
		res.State, res.At = rules.Resolved, time.Now()
		r.d.Submit(res)
		time.Sleep(time.Second)
		// A second resolve is ignored.
		r.d.Submit(res)
		time.Sleep(time.Second)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 2 {
			t.Fatalf("want raise and resolve, got %d calls", len(c))
		}
		a := c[1].alerts[0]
		if a.Status != StatusResolved || !a.EndsAt.Equal(res.At) || !a.StartsAt.Equal(f.FirstSeen) {
			t.Errorf("resolved alert: status %s startsAt %v endsAt %v; want resolved %v %v", a.Status, a.StartsAt, a.EndsAt, f.FirstSeen, res.At)
		}
		if !c[0].alerts[0].EndsAt.IsZero() {
			t.Errorf("firing alert has endsAt %v", c[0].alerts[0].EndsAt)
		}
	})
}

func TestRaiseAndResolveWithinOneGroupIsOneResolvedAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{HoldFirst: true, StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		f := finding(rules.DuplicateMaster, 51, rules.Raised, time.Now())
		r.d.Submit(f)
		time.Sleep(50 * time.Millisecond)
		f.State, f.At = rules.Resolved, time.Now()
		r.d.Submit(f)
		time.Sleep(time.Second)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 1 || len(c[0].alerts) != 1 || c[0].alerts[0].Status != StatusResolved {
			t.Fatalf("want one notification with one resolved alert, got %+v", c)
		}
	})
}

func TestRepeatWhileFiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{HoldFirst: true, StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}, RepeatInterval: time.Hour})
		defer r.stop(t)
		t0 := time.Now()
		f := finding(rules.NoMaster, 7, rules.Raised, t0)
		r.d.Submit(f)
		time.Sleep(2*time.Hour + time.Minute)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 3 {
			t.Fatalf("want raise + 2 repeats, got %d calls", len(c))
		}
		for i, want := range []time.Duration{gw, time.Hour + gw, 2*time.Hour + gw} {
			if got := c[i].at.Sub(t0); got != want {
				t.Errorf("call %d at t0+%v, want t0+%v", i, got, want)
			}
			if rep := c[i].alerts[0].Repeat; rep != (i > 0) {
				t.Errorf("call %d: repeat=%v", i, rep)
			}
		}
		f.State, f.At = rules.Resolved, time.Now()
		r.d.Submit(f)
		time.Sleep(5 * time.Hour)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 4 || c[3].alerts[0].Status != StatusResolved {
			t.Fatalf("after resolve: want exactly one more (resolved) notification, got %d calls", len(c))
		}
	})
}

func TestBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		for range 6 {
			n.script = append(n.script, result{retry: true, err: errTemporary})
		}
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}, BackoffBase: time.Second, BackoffMax: 8 * time.Second})
		defer r.stop(t)
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		time.Sleep(time.Minute)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 7 {
			t.Fatalf("want 6 failures then success: %d calls", len(c))
		}
		// Doubling from 1s, capped at 8s, minus up to 20% jitter.
		for i, want := range []time.Duration{1, 2, 4, 8, 8, 8} {
			want *= time.Second
			gap := c[i+1].at.Sub(c[i].at)
			if gap > want || gap < want*8/10 {
				t.Errorf("gap %d = %v, want in [%v, %v]", i, gap, want*8/10, want)
			}
		}
		if got := r.counter("retries", "fake"); got != 6 {
			t.Errorf("retries_total %v, want 6", got)
		}
		if got := r.counter("failed", "fake", "retryable"); got != 6 {
			t.Errorf("failed_total{retryable} %v, want 6", got)
		}
		if got := r.counter("sent", "fake"); got != 1 {
			t.Errorf("sent_total %v, want 1", got)
		}
		if got := r.counter("depth", "fake"); got != 0 {
			t.Errorf("outbox depth %v, want 0", got)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		n.script = []result{{retry: true, err: &HTTPError{StatusCode: 429, After: 42 * time.Second}}}
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		time.Sleep(time.Minute)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 2 {
			t.Fatalf("%d calls, want 2", len(c))
		}
		if gap := c[1].at.Sub(c[0].at); gap != 42*time.Second {
			t.Errorf("retried after %v, want the 42s of Retry-After", gap)
		}
	})
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		n := newFake("fake")
		n.script = []result{{retry: false, err: errors.New("400 bad request")}}
		r := start(t, Options{StateDir: dir, Sinks: []Sink{{Notifier: n}}})
		defer r.stop(t)
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		time.Sleep(time.Hour)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 1 {
			t.Fatalf("permanent failure retried: %d calls", len(c))
		}
		if files := outboxFiles(t, dir, "fake"); len(files) != 0 {
			t.Errorf("rejected notification left in the outbox: %v", files)
		}
		if got := r.counter("failed", "fake", "permanent"); got != 1 {
			t.Errorf("failed_total{permanent} %v, want 1", got)
		}
		// The sink still gets later notifications.
		r.d.Submit(finding(rules.AuthMismatch, 51, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		synctest.Wait()
		if c := n.getCalls(); len(c) != 2 || c[1].alerts[0].Kind != "auth_mismatch" {
			t.Fatalf("next notification not delivered: %+v", c)
		}
	})
}

func TestOrderPerSinkAndSinksIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := newFake("down")
		down.setFailing(&result{retry: true, err: errTemporary})
		up := newFake("up")
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: down}, {Notifier: up}}})
		defer r.stop(t)
		kinds := []rules.Kind{rules.DuplicateMaster, rules.AuthMismatch, rules.VersionMismatch}
		for _, k := range kinds {
			r.d.Submit(finding(k, 51, rules.Raised, time.Now()))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if c := up.getCalls(); len(c) != 3 {
			t.Fatalf("healthy sink held up by the failing one: %d calls", len(c))
		}
		time.Sleep(10 * time.Minute)
		for _, c := range down.getCalls() {
			if c.alerts[0].Kind != string(kinds[0]) {
				t.Fatalf("attempted %s before the head of the outbox was delivered", c.alerts[0].Kind)
			}
		}
		if got := r.counter("depth", "down"); got != 3 {
			t.Errorf("outbox depth %v, want 3", got)
		}
		down.setFailing(nil)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		var delivered []string
		c := down.getCalls()
		for _, x := range c[len(c)-3:] {
			delivered = append(delivered, x.alerts[0].Kind)
		}
		if want := []string{"duplicate_master", "auth_mismatch", "version_mismatch"}; !slices.Equal(delivered, want) {
			t.Errorf("delivered in order %v, want %v", delivered, want)
		}
	})
}

func TestOutboxCapDropsOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		n := newFake("fake")
		n.setFailing(&result{retry: true, err: errTemporary})
		// Critical only: the alerts_dropped notice (a warning) stays out
		// of this outbox (see TestOutboxOverflowRaisesAlertsDropped).
		r := start(t, Options{
			StateDir: dir, Sinks: []Sink{{Notifier: n, Route: Route{MinSeverity: rules.Critical}}}, MaxOutbox: 3,
			BackoffBase: time.Hour, BackoffMax: time.Hour,
		})
		defer r.stop(t)
		for vrid := uint8(1); vrid <= 5; vrid++ {
			r.d.Submit(finding(rules.DuplicateMaster, vrid, rules.Raised, time.Now()))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if a := firingKind(r.d, rules.AlertsDropped); a == nil || !strings.Contains(a.Message, ": 2 undelivered") {
			t.Errorf("alerts_dropped finding %+v, want one saying 2 were dropped", a)
		}
		if got := r.counter("dropped", "fake"); got != 2 {
			t.Errorf("dropped_total %v, want 2", got)
		}
		if files := outboxFiles(t, dir, "fake"); len(files) != 3 {
			t.Errorf("%d files in the outbox, want 3", len(files))
		}
		if got := r.counter("depth", "fake"); got != 3 {
			t.Errorf("depth %v, want 3", got)
		}
		n.setFailing(nil)
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		c := n.getCalls()
		var got []uint8
		for _, x := range c[len(c)-3:] {
			got = append(got, x.alerts[0].VRID)
		}
		if !slices.Equal(got, []uint8{3, 4, 5}) {
			t.Errorf("delivered VRIDs %v, want the newest three 3 4 5", got)
		}
	})
}

func TestRestartRedeliversAndKeepsFiringSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		a := newFake("sink")
		a.setFailing(&result{retry: true, err: errTemporary})
		ra := start(t, Options{StateDir: dir, Sinks: []Sink{{Notifier: a}}})
		f1 := finding(rules.DuplicateMaster, 51, rules.Raised, time.Now())
		ra.d.Submit(f1)
		time.Sleep(time.Second)
		ra.d.Submit(finding(rules.AuthMismatch, 51, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		ra.stop(t)
		if files := outboxFiles(t, dir, "sink"); len(files) != 2 {
			t.Fatalf("outbox after stop: %v", files)
		}

		b := newFake("sink")
		rb := start(t, Options{StateDir: dir, Sinks: []Sink{{Notifier: b}}})
		defer rb.stop(t)
		synctest.Wait()
		c := b.getCalls()
		if len(c) != 2 || c[0].alerts[0].Kind != "duplicate_master" || c[1].alerts[0].Kind != "auth_mismatch" {
			t.Fatalf("pending notifications not re-delivered in order: %+v", c)
		}
		if files := outboxFiles(t, dir, "sink"); len(files) != 0 {
			t.Errorf("delivered notifications left on disk: %v", files)
		}
		// The firing set survived: a resolve after the restart is notified.
		f1.State, f1.At = rules.Resolved, time.Now()
		rb.d.Submit(f1)
		time.Sleep(time.Second)
		synctest.Wait()
		c = b.getCalls()
		if len(c) != 3 || c[2].alerts[0].Status != StatusResolved {
			t.Fatalf("resolve after restart not notified: %+v", c)
		}
	})
}

func TestRestartKeepsRepeatScheduleAndDedup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		o := Options{HoldFirst: true, StateDir: dir, RepeatInterval: time.Hour}
		a := newFake("sink")
		o.Sinks = []Sink{{Notifier: a}}
		t0 := time.Now()
		ra := start(t, o)
		f := finding(rules.DuplicateMaster, 51, rules.Raised, t0)
		ra.d.Submit(f)
		time.Sleep(10 * time.Minute)
		ra.stop(t)

		b := newFake("sink")
		o.Sinks = []Sink{{Notifier: b}}
		rb := start(t, o)
		defer rb.stop(t)
		// The restarted engine detects the problem again.
		time.Sleep(5 * time.Second)
		f.At, f.FirstSeen = time.Now(), time.Now()
		rb.d.Submit(f)
		time.Sleep(time.Minute)
		synctest.Wait()
		if c := b.getCalls(); len(c) != 0 {
			t.Fatalf("re-detection after restart notified again: %+v", c)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		c := b.getCalls()
		if len(c) != 1 || !c[0].alerts[0].Repeat {
			t.Fatalf("want one repeat, got %+v", c)
		}
		if got := c[0].at.Sub(t0); got != time.Hour+gw {
			t.Errorf("repeat at t0+%v, want t0+%v (schedule kept across the restart)", got, time.Hour+gw)
		}
		if !c[0].alerts[0].StartsAt.Equal(t0.Add(-time.Second)) {
			t.Errorf("startsAt %v, want the original %v", c[0].alerts[0].StartsAt, t0.Add(-time.Second))
		}
	})
}

func TestRestoredAlertNotSeenAgainIsResolved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		o := Options{StateDir: dir, Sinks: []Sink{{Notifier: newFake("sink")}}}
		ra := start(t, o)
		ra.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		ra.stop(t)

		b := newFake("sink")
		o.Sinks = []Sink{{Notifier: b}}
		restart := time.Now()
		rb := start(t, o)
		defer rb.stop(t)
		time.Sleep(DefaultRestoreGrace + time.Second)
		synctest.Wait()
		c := b.getCalls()
		if len(c) != 1 || c[0].alerts[0].Status != StatusResolved {
			t.Fatalf("want the restored alert resolved, got %+v", c)
		}
		if got := c[0].at.Sub(restart); got != DefaultRestoreGrace {
			t.Errorf("resolved %v after restart, want %v", got, DefaultRestoreGrace)
		}
		if !strings.Contains(c[0].alerts[0].Annotations[AnnotationDescription], "not detected again") {
			t.Errorf("description does not say why: %q", c[0].alerts[0].Annotations[AnnotationDescription])
		}
	})
}

func TestRoutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := newFake("critical-only")
		auth := newFake("auth-only")
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{
			{Notifier: crit, Route: Route{MinSeverity: rules.Critical}},
			{Notifier: auth, Route: Route{Kinds: []string{"auth_mismatch"}}},
		}})
		defer r.stop(t)
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		r.d.Submit(finding(rules.AuthMismatch, 51, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		synctest.Wait()
		if c := crit.getCalls(); len(c) != 1 || !slices.Equal(fingerprints(c[0].alerts), []string{"fp-duplicate_master-51/firing"}) {
			t.Errorf("critical-only sink got %+v", c)
		}
		if c := auth.getCalls(); len(c) != 1 || !slices.Equal(fingerprints(c[0].alerts), []string{"fp-auth_mismatch-51/firing"}) {
			t.Errorf("auth-only sink got %+v", c)
		}
	})
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("fake")
		r := start(t, Options{HoldFirst: true, StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n, RateLimit: RateLimit{Every: 10 * time.Second, Burst: 2}}}})
		defer r.stop(t)
		t0 := time.Now()
		for vrid := uint8(1); vrid <= 4; vrid++ {
			r.d.Submit(finding(rules.DuplicateMaster, vrid, rules.Raised, time.Now()))
			time.Sleep(time.Second)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		c := n.getCalls()
		if len(c) != 4 {
			t.Fatalf("%d calls, want 4 (rate-limited notifications wait, they are not dropped)", len(c))
		}
		for i, want := range []time.Duration{gw, time.Second + gw, 10*time.Second + gw, 20*time.Second + gw} {
			got := c[i].at.Sub(t0)
			if got < want || got > want+10*time.Millisecond {
				t.Errorf("call %d at t0+%v, want t0+%v", i, got, want)
			}
		}
	})
}

func TestResendToRefresher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := fakeRefresher{newFake("am")}
		plain := newFake("plain")
		r := start(t, Options{HoldFirst: true, StateDir: t.TempDir(), Sinks: []Sink{{Notifier: am}, {Notifier: plain}}, ResendInterval: time.Minute})
		defer r.stop(t)
		t0 := time.Now()
		f := finding(rules.DuplicateMaster, 51, rules.Raised, t0)
		r.d.Submit(f)
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		c := am.getCalls()
		if len(c) != 4 {
			t.Fatalf("want the raise and 3 re-posts, got %d calls", len(c))
		}
		for i := range c {
			if want := gw + time.Duration(i)*time.Minute; c[i].at.Sub(t0) != want {
				t.Errorf("call %d at t0+%v, want t0+%v", i, c[i].at.Sub(t0), want)
			}
			if got := fingerprints(c[i].alerts); !slices.Equal(got, []string{"fp-duplicate_master-51/firing"}) {
				t.Errorf("call %d alerts %v", i, got)
			}
		}
		if got := r.counter("resent", "am"); got != 3 {
			t.Errorf("resent_total %v, want 3", got)
		}
		if c := plain.getCalls(); len(c) != 1 {
			t.Errorf("a non-Alertmanager sink got re-posts: %d calls", len(c))
		}
		f.State, f.At = rules.Resolved, time.Now()
		r.d.Submit(f)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		c = am.getCalls()
		if len(c) != 5 || c[4].alerts[0].Status != StatusResolved {
			t.Fatalf("after resolve: want one resolved post and no more re-posts, got %d calls", len(c))
		}
	})
}

func TestShutdownPersistsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		r := start(t, Options{HoldFirst: true, StateDir: dir, Sinks: []Sink{{Notifier: newFake("sink")}}, GroupWait: time.Hour})
		r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		r.stop(t)
		files := outboxFiles(t, dir, "sink")
		if len(files) != 1 {
			t.Fatalf("pending finding not persisted at shutdown: %v", files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if e.Seq != 1 || e.Sink != "sink" || len(e.Alerts) != 1 || e.Alerts[0].Labels[LabelAlertName] != "VRRPDuplicateMaster" {
			t.Errorf("entry on disk: %s", b)
		}
		st, err := os.ReadFile(filepath.Join(dir, firingName))
		if err != nil || !strings.Contains(string(st), "fp-duplicate_master-51") {
			t.Errorf("firing set on disk: %s %v", st, err)
		}
	})
}

func TestSubmitBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFake("sink")
		d, err := New(Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		time.Sleep(time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if c := n.getCalls(); len(c) != 1 {
			t.Fatalf("%d calls", len(c))
		}
	})
}

func TestStateDirIsLocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		r := start(t, Options{StateDir: dir, Sinks: []Sink{{Notifier: newFake("sink")}}})
		defer r.stop(t)
		synctest.Wait()
		d2, err := New(Options{StateDir: dir, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := d2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("second dispatcher on one state dir: %v", err)
		}
	})
}

func TestNewRejectsDuplicateSinkNames(t *testing.T) {
	_, err := New(Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: newFake("x")}, {Notifier: newFake("x")}}})
	if err == nil {
		t.Fatal("duplicate sink names accepted")
	}
}

func TestSendTest(t *testing.T) {
	ok := newFake("ok")
	bad := newFake("bad")
	bad.setFailing(&result{retry: true, err: errTemporary})
	d, err := New(Options{StateDir: t.TempDir(), Instance: "w1", Sinks: []Sink{{Notifier: ok, Route: Route{MinSeverity: rules.Critical}}, {Notifier: bad}}})
	if err != nil {
		t.Fatal(err)
	}
	res := d.SendTest(context.Background())
	if len(res) != 2 || res[0].Sink != "ok" || res[0].Err != nil || res[1].Sink != "bad" || !errors.Is(res[1].Err, errTemporary) || !res[1].Retryable {
		t.Fatalf("results %+v", res)
	}
	c := ok.getCalls()
	if len(c) != 1 {
		t.Fatalf("test notification bypasses routes: %d calls", len(c))
	}
	a := c[0].alerts[0]
	if a.Labels[LabelAlertName] != TestAlertName || a.Annotations[AnnotationSummary] != "vrrpguard test notification — ignore" || a.Annotations[AnnotationReportedBy] != "w1" {
		t.Errorf("test alert %+v", a)
	}
}

func TestBackoffBounds(t *testing.T) {
	d, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d.jitter = func() float64 { return 0 }
	var got []time.Duration
	for n := 1; n <= 12; n++ {
		got = append(got, d.backoff(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff schedule %v, want %v seconds", got, want)
		}
	}
	d.jitter = func() float64 { return 0.999 }
	if b := d.backoff(1); b < 800*time.Millisecond || b > time.Second {
		t.Errorf("jittered backoff %v", b)
	}
}

// TestOutboxOverflowRaisesAlertsDropped: a sink whose outbox overflows
// gets an alerts_dropped finding, notified to the other sinks at once and
// resolved once that outbox has drained to half its limit (not before).
func TestOutboxOverflowRaisesAlertsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := newFake("down")
		down.setFailing(&result{retry: true, err: errTemporary})
		ops := newFake("ops")
		// down's rate limit spaces its deliveries, so that the test sees
		// the outbox drain one notification at a time.
		r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: down, RateLimit: RateLimit{Every: 10 * time.Minute, Burst: 1}}, {Notifier: ops}},
			MaxOutbox: 4, BackoffBase: time.Second, BackoffMax: 10 * time.Second})
		defer r.stop(t)
		fp := rules.AlertsDroppedFinding(time.Now(), 1, "down").Fingerprint
		dropped := func(status string) []Alert {
			var out []Alert
			for _, c := range ops.getCalls() {
				for _, a := range c.alerts {
					if a.Kind == string(rules.AlertsDropped) && a.Status == status {
						out = append(out, a)
					}
				}
			}
			return out
		}
		for vrid := uint8(1); vrid <= 4; vrid++ {
			r.d.Submit(finding(rules.DuplicateMaster, vrid, rules.Raised, time.Now()))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if got := dropped(StatusFiring); len(got) != 0 {
			t.Fatalf("alerts_dropped before any drop: %+v", got)
		}
		r.d.Submit(finding(rules.DuplicateMaster, 5, rules.Raised, time.Now()))
		time.Sleep(time.Second)
		synctest.Wait()
		got := dropped(StatusFiring)
		if len(got) != 1 || got[0].Fingerprint != fp || got[0].Severity != string(rules.Warning) ||
			!strings.Contains(got[0].Message, "outbox of sink down is full") {
			t.Fatalf("after the overflow the other sink got %+v, want one alerts_dropped for sink down", got)
		}
		// The notice itself went into the full outbox too and pushed out
		// one more: the finding counts both.
		if a := firingKind(r.d, rules.AlertsDropped); a == nil || !strings.Contains(a.Message, ": 2 undelivered") {
			t.Errorf("firing alerts_dropped %+v, want 2 dropped", a)
		}
		if got := r.counter("dropped", "down"); got != 2 {
			t.Errorf("dropped_total %v, want 2", got)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := dropped(StatusResolved); len(got) != 0 {
			t.Fatalf("resolved while the sink is still down: %+v", got)
		}
		down.setFailing(nil)
		// Deliveries until sent_total reaches n (each a minute apart at
		// most), or fail.
		deliveries := func(n float64) {
			t.Helper()
			for range 60 {
				if r.counter("sent", "down") >= n {
					return
				}
				time.Sleep(time.Minute)
				synctest.Wait()
			}
			t.Fatalf("sink down delivered %v notifications, want %v", r.counter("sent", "down"), n)
		}
		deliveries(1)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := dropped(StatusResolved); len(got) != 0 || r.counter("sent", "down") != 1 {
			t.Fatalf("resolved with the outbox of down at 3 of 4: %+v", got)
		}
		deliveries(2)
		time.Sleep(time.Second)
		synctest.Wait()
		got = dropped(StatusResolved)
		if len(got) != 1 || got[0].Fingerprint != fp {
			t.Fatalf("after the outbox drained the other sink got %+v, want the resolve of alerts_dropped", got)
		}
		if a := firingKind(r.d, rules.AlertsDropped); a != nil {
			t.Errorf("alerts_dropped still firing: %+v", a)
		}
		if c := dropped(StatusFiring); len(c) != 1 {
			t.Errorf("%d firing alerts_dropped notifications, want 1", len(c))
		}
	})
}
