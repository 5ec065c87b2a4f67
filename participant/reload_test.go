package participant

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

func parseConf(t *testing.T, conf string) *keepalived.Config {
	t.Helper()
	k, _, err := keepalived.Parse("test.conf", []byte(conf), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const reloadBase = `
vrrp_script chk {
    script "/bin/true"
    interval 1
    weight -20
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.9.0.100/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    track_script {
        chk
    }
    virtual_ipaddress {
        10.9.0.101/24
    }
}
`

// TestReloadClassifies checks which instances Reload keeps, stops and
// starts: moving an instance in the file keeps it; changing it, or a
// script it tracks, restarts it; new ones start, removed ones stop.
func TestReloadClassifies(t *testing.T) {
	tests := []struct {
		name                   string
		conf                   string
		kept, stopped, started []string
	}{
		{"unchanged", reloadBase, []string{"VI_1", "VI_2"}, nil, nil},
		{"moved by comments and an added instance", "# a comment\n\n" + reloadBase + `
vrrp_instance VI_3 {
    interface eth0
    virtual_router_id 53
    virtual_ipaddress {
        10.9.0.102/24
    }
}
`, []string{"VI_1", "VI_2"}, nil, []string{"VI_3"}},
		{"priority changed", strings.Replace(reloadBase, "priority 100", "priority 110", 1), []string{"VI_2"}, []string{"VI_1"}, []string{"VI_1"}},
		{"tracked script changed", strings.Replace(reloadBase, "weight -20", "weight -30", 1), []string{"VI_1"}, []string{"VI_2"}, []string{"VI_2"}},
		{"removed", reloadBase[:strings.Index(reloadBase, "vrrp_instance VI_2")], []string{"VI_1"}, []string{"VI_2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(parseConf(t, reloadBase), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			before := r.Instances()
			res, err := r.Reload(parseConf(t, tt.conf))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Kept, tt.kept) || !slices.Equal(res.Stopped, tt.stopped) || !slices.Equal(res.Started, tt.started) {
				t.Errorf("got kept %v stopped %v started %v, want %v %v %v", res.Kept, res.Stopped, res.Started, tt.kept, tt.stopped, tt.started)
			}
			for _, i := range r.Instances() {
				if slices.Contains(before, i) != slices.Contains(tt.kept, i.Config().Name) {
					t.Errorf("instance %s: kept object %v", i.Config().Name, slices.Contains(before, i))
				}
			}
		})
	}
	r, _ := New(parseConf(t, reloadBase), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := r.Reload(&keepalived.Config{}); err == nil {
		t.Error("reload to no instances: no error")
	}
}

// TestReloadKeepsDemotion: an instance restarted by Reload (its
// configuration changed) stays demoted, as does a kept one.
func TestReloadKeepsDemotion(t *testing.T) {
	r, err := New(parseConf(t, reloadBase), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"VI_1", "VI_2"} {
		if err := r.Demote(name, "rival of "+name); err != nil {
			t.Fatal(err)
		}
	}
	before := r.Status()
	res, err := r.Reload(parseConf(t, strings.Replace(reloadBase, "priority 100", "priority 110", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Started, []string{"VI_1"}) {
		t.Fatalf("started %v, want VI_1 restarted", res.Started)
	}
	for n, st := range r.Status() {
		if !st.Demoted || st.DemotionReason != before[n].DemotionReason || !st.DemotionSince.Equal(before[n].DemotionSince) {
			t.Errorf("%s after reload: demoted %v %q since %v, want as before: %q since %v", st.Instance,
				st.Demoted, st.DemotionReason, st.DemotionSince, before[n].DemotionReason, before[n].DemotionSince)
		}
	}
	if i := r.Instances()[0]; !i.ctl.demote || i.ctl.reason != "rival of VI_1" {
		t.Errorf("restarted instance's control %+v, want the demotion to apply when it starts", i.ctl)
	}
}

// TestReloadWhileOnChangeCalls: an instance shutting down for a Reload may
// call Demote, Resume, Reannounce and Status from OnChange; Reload, which
// waits for it, must not deadlock, and a Demote made then still reaches the
// restarted instance.
func TestReloadWhileOnChangeCalls(t *testing.T) {
	var r *Router
	onChange := func(st Status, tr *election.Transition) {
		if tr == nil || tr.To != election.Initialize {
			return
		}
		_ = r.Demote(st.Instance, "asked while stopping")
		_ = r.Reannounce(st.Instance)
		_ = r.Status()
	}
	r, err := New(parseConf(t, testConf), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnChange: onChange})
	if err != nil {
		t.Fatal(err)
	}
	// Run the instance on a fake environment under a handle of the router,
	// as Router.start would on the real one; Reload then starts nothing
	// (Run's context is done).
	old := r.Instances()[0]
	ctx, cancel := context.WithCancel(context.Background())
	h := &runHandle{cancel: cancel, done: make(chan struct{})}
	done, stop := context.WithCancel(context.Background())
	stop()
	r.mu.Lock()
	r.ctx = done
	r.running[old] = h
	r.mu.Unlock()
	f := newFakeEnv(old.cfg)
	go func() {
		defer close(h.done)
		_ = old.run(ctx, f)
	}()
	for old.Status().State != "BACKUP" {
		time.Sleep(time.Millisecond)
	}
	reloaded := make(chan error)
	go func() {
		_, err := r.Reload(parseConf(t, strings.Replace(testConf, "priority 100", "priority 110", 1)))
		reloaded <- err
	}()
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reload deadlocked with OnChange calling the router")
	}
	if st := r.Status()[0]; !st.Demoted || st.DemotionReason != "demoted: asked while stopping" {
		t.Errorf("restarted instance: demoted %v %q, want the demotion asked while the old one stopped", st.Demoted, st.DemotionReason)
	}
}
