package participant

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// mdiTest is Master_Down_Interval of testConf (priority 100, 100 ms).
const mdiTest = 300*time.Millisecond + 156*100*time.Millisecond/256

// changeLog records OnChange calls as "STATE demoted=BOOL reason" (the
// transition's reason, or "-" for a change without one).
type changeLog struct {
	mu  sync.Mutex
	out []string
}

func (c *changeLog) record(st Status, tr *election.Transition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	why := "-"
	if tr != nil {
		why = tr.Reason
	}
	d := "demoted=false"
	if st.Demoted {
		d = "demoted=true"
	}
	c.out = append(c.out, st.State+" "+d+" "+why)
}

func (c *changeLog) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.out...)
}

// testRouter builds a router of conf and returns it with its first
// instance, whose OnChange calls go to the returned log.
func testRouter(t *testing.T, conf string) (*Router, *Instance, *changeLog) {
	t.Helper()
	k, _, err := keepalived.Parse("test.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := &changeLog{}
	r, err := New(k, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnChange: cl.record})
	if err != nil {
		t.Fatal(err)
	}
	return r, r.instances[0], cl
}

// runFake runs i on f until the returned stop is called; stop returns run's
// error.
func runFake(i *Instance, f *fakeEnv) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- i.run(ctx, f) }()
	return func() error {
		cancel()
		return <-done
	}
}

// TestDriverDemoteAndResume: a demoted master resigns (priority 0), removes
// its addresses, stays BACKUP past Master_Down_Interval and cancels its
// second GARP burst; resumed, it takes over exactly Master_Down_Interval
// later.
func TestDriverDemoteAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, i, cl := testRouter(t, testConf)
		f := newFakeEnv(i.cfg)
		stop := runFake(i, f)
		time.Sleep(time.Second) // master since mdiTest
		if err := r.Demote("VI_1", "rival master 10.9.0.7"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		demotedAt := time.Since(f.start)
		sent, vips, _ := f.snapshot()
		if last := sent[len(sent)-1]; last.prio != 0 || last.at != demotedAt {
			t.Errorf("last advert %+v, want priority 0 at %v", last, demotedAt)
		}
		if d := diffStrings([]string{"del", "add", "del"}, vips); d != "" {
			t.Errorf("VIP operations (-want +got):\n%s", d)
		}
		st := i.Status()
		if st.State != "BACKUP" || !st.Demoted || st.DemotionReason != "demoted: rival master 10.9.0.7" ||
			st.Reason != "demoted: rival master 10.9.0.7" || !st.DemotionSince.Equal(st.Since) {
			t.Errorf("status after Demote: %+v", st)
		}
		n := len(sent)
		time.Sleep(10 * time.Second) // past Master_Down_Interval and garp_master_delay
		sent, _, garps := f.snapshot()
		if len(sent) != n {
			t.Errorf("demoted instance sent %v", sent[n:])
		}
		if garps != 5 {
			t.Errorf("%d gratuitous ARPs, want the 5 of the promotion only (the second burst is cancelled)", garps)
		}
		if st := i.Status(); st.State != "BACKUP" {
			t.Fatalf("demoted instance %s after 10 s, want BACKUP", st.State)
		}

		if err := r.Resume("VI_1", "rival gone"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		resumedAt := time.Since(f.start)
		// No master was heard for Master_Down_Interval while held: the
		// resumed instance takes over at once.
		if st := i.Status(); st.Demoted || st.DemotionReason != "resumed: rival gone" || st.State != "MASTER" ||
			!strings.HasPrefix(st.Reason, "resumed: rival gone; no master heard for") {
			t.Errorf("status after Resume: %+v", st)
		}
		time.Sleep(time.Second)
		sent, _, _ = f.snapshot()
		if len(sent) <= n || sent[n] != (sentAdvert{resumedAt, 100}) {
			t.Errorf("adverts after Resume %v, want the first at %v (at once)", sent[n:], resumedAt)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"BACKUP demoted=false startup",
			"MASTER demoted=false master down timer expired (no advertisement for 360.9375ms)",
			"BACKUP demoted=true demoted: rival master 10.9.0.7",
			"MASTER demoted=false resumed: rival gone; no master heard for 360.9375ms",
			"INIT demoted=false shutdown",
		}
		if d := diffStrings(want, cl.get()); d != "" {
			t.Errorf("OnChange calls (-want +got):\n%s", d)
		}
	})
}

// TestDriverDemotedBackup: a demoted backup follows a lower-priority master
// instead of preempting it, a second Demote changes only the reason, and
// shutting down sends nothing.
func TestDriverDemotedBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, i, cl := testRouter(t, testConf)
		f := newFakeEnv(i.cfg)
		stop := runFake(i, f)
		time.Sleep(100 * time.Millisecond)
		if err := r.Demote("VI_1", "first"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		since := i.Status().DemotionSince
		for range 20 {
			f.rx <- advertFrom(t, "10.9.0.3", 50)
			time.Sleep(100 * time.Millisecond)
		}
		st := i.Status()
		if st.State != "BACKUP" || st.Master != "10.9.0.3" || st.MasterPriority != 50 {
			t.Errorf("demoted backup beside a priority-50 master: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
		if err := r.Demote("VI_1", "second"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := i.Status(); st.DemotionReason != "demoted: second" || !st.DemotionSince.Equal(since) {
			t.Errorf("after a second Demote: reason %q since %v, want %q since %v", st.DemotionReason, st.DemotionSince, "demoted: second", since)
		}
		// The master goes silent: still no takeover; the master is forgotten.
		time.Sleep(5 * time.Second)
		if st := i.Status(); st.State != "BACKUP" || st.Master != "" {
			t.Errorf("demoted backup 5 s after the master went silent: %+v", st)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if sent, vips, _ := f.snapshot(); len(sent) != 0 || len(vips) != 1 {
			t.Errorf("demoted backup sent %v and did %v to its addresses, want nothing but the startup clean-up", sent, vips)
		}
		want := []string{"BACKUP demoted=false startup", "BACKUP demoted=true -", "BACKUP demoted=true -", "INIT demoted=true shutdown"}
		if d := diffStrings(want, cl.get()); d != "" {
			t.Errorf("OnChange calls (-want +got):\n%s", d)
		}
	})
}

// TestDriverDemoteBeforeRun: a demotion asked before the instance runs is
// applied before Startup, so it never becomes master.
func TestDriverDemoteBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, i, cl := testRouter(t, testConf)
		if err := r.Demote("VI_1", "rival"); err != nil {
			t.Fatal(err)
		}
		if st := i.Status(); !st.Demoted || st.DemotionReason != "demoted: rival" {
			t.Errorf("status of a demoted instance not yet running: %+v", st)
		}
		f := newFakeEnv(i.cfg)
		stop := runFake(i, f)
		time.Sleep(3 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{"INIT demoted=true -", "BACKUP demoted=true startup (demoted: rival)", "INIT demoted=true shutdown"}
		if d := diffStrings(want, cl.get()); d != "" {
			t.Errorf("OnChange calls (-want +got):\n%s", d)
		}
		if sent, _, _ := f.snapshot(); len(sent) != 0 {
			t.Errorf("sent %v", sent)
		}
	})
}

// TestDriverDemoteFromOnChange: Demote called from OnChange (the instance's
// own goroutine) does not deadlock; the new master steps down at once.
func TestDriverDemoteFromOnChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, i, cl := testRouter(t, testConf)
		i.opts.OnChange = func(st Status, tr *election.Transition) {
			cl.record(st, tr)
			if tr != nil && tr.To == election.Master {
				if err := r.Demote(st.Instance, "policy"); err != nil {
					t.Error(err)
				}
				if err := r.Reannounce(st.Instance); err != nil {
					t.Error(err)
				}
			}
		}
		f := newFakeEnv(i.cfg)
		stop := runFake(i, f)
		time.Sleep(time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{"BACKUP demoted=false startup", "MASTER demoted=false master down timer expired (no advertisement for 360.9375ms)",
			"BACKUP demoted=true demoted: policy", "INIT demoted=true shutdown"}
		if d := diffStrings(want, cl.get()); d != "" {
			t.Errorf("OnChange calls (-want +got):\n%s", d)
		}
		// The re-announcement asked as master came too late: no longer master.
		if _, _, garps := f.snapshot(); garps != 5 {
			t.Errorf("%d gratuitous ARPs, want the promotion's 5", garps)
		}
	})
}

// TestDriverReannounce: Reannounce sends the promotion's burst again at
// once and schedules the second burst garp_master_delay later; with
// vrrp_min_garp there is no second burst; refresh restarts.
func TestDriverReannounce(t *testing.T) {
	tests := []struct {
		name   string
		global string
		// garps wanted: just before Reannounce (6 s after startup), right
		// after it, and 6 s later.
		before, after, later int
	}{
		{"defaults", "", 10, 15, 20},
		{"vrrp_min_garp", "global_defs {\n vrrp_min_garp true\n}\n", 5, 10, 10},
		{"repeat 2, delay 1 s, refresh 4 s", "global_defs {\n vrrp_garp_master_repeat 2\n vrrp_garp_master_delay 1\n vrrp_garp_master_refresh 4\n vrrp_garp_master_refresh_repeat 3\n}\n",
			// promotion 2 +0.36 s, second burst 2 at +1.36, refresh 3 at +4.36
			2 + 2 + 3, 7 + 2, 9 + 2 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, i, _ := testRouter(t, tt.global+testConf)
				f := newFakeEnv(i.cfg)
				if err := r.Reannounce("VI_1"); !errors.Is(err, ErrNotMaster) {
					t.Errorf("Reannounce before running: %v, want ErrNotMaster", err)
				}
				stop := runFake(i, f)
				defer stop()
				time.Sleep(100 * time.Millisecond)
				if err := r.Reannounce("VI_1"); !errors.Is(err, ErrNotMaster) || !strings.Contains(err.Error(), "BACKUP") {
					t.Errorf("Reannounce in BACKUP: %v, want ErrNotMaster naming BACKUP", err)
				}
				time.Sleep(6*time.Second - 100*time.Millisecond)
				if _, _, g := f.snapshot(); g != tt.before {
					t.Errorf("%d gratuitous ARPs before Reannounce, want %d", g, tt.before)
				}
				if err := r.Reannounce("VI_1"); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if _, _, g := f.snapshot(); g != tt.after {
					t.Errorf("%d gratuitous ARPs right after Reannounce, want %d", g, tt.after)
				}
				time.Sleep(6 * time.Second)
				if _, _, g := f.snapshot(); g != tt.later {
					t.Errorf("%d gratuitous ARPs 6 s after Reannounce, want %d", g, tt.later)
				}
			})
		})
	}
}

// TestRouterControlErrors: unknown instances are errors; Resume of an
// instance that is not demoted changes nothing.
func TestRouterControlErrors(t *testing.T) {
	r, i, _ := testRouter(t, testConf)
	for name, err := range map[string]error{
		"Demote":     r.Demote("VI_9", "x"),
		"Resume":     r.Resume("VI_9", "x"),
		"Reannounce": r.Reannounce("VI_9"),
	} {
		if !errors.Is(err, ErrNoInstance) || !strings.Contains(err.Error(), `"VI_9"`) {
			t.Errorf("%s of an unknown instance: %v, want ErrNoInstance naming it", name, err)
		}
	}
	if err := r.Resume("VI_1", "x"); err != nil {
		t.Fatal(err)
	}
	if st := i.Status(); st.Demoted || st.DemotionReason != "" || !st.DemotionSince.IsZero() {
		t.Errorf("Resume of an instance never demoted changed its status: %+v", st)
	}
}
