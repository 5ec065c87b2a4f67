package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/rules"
)

const alertmanagerBin = "prometheus-alertmanager" // Debian's package of the same name

// alertmanager is a running Prometheus Alertmanager on 127.0.0.1.
type alertmanager struct {
	url string
}

// startAlertmanager runs Debian's Alertmanager with a route to hookURL
// (an AM webhook receiver) and the given resolve_timeout.
func startAlertmanager(t *testing.T, hookURL string, resolveTimeout time.Duration) *alertmanager {
	t.Helper()
	testenv.RequireTools(t, alertmanagerBin)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  resolve_timeout: %s
route:
  receiver: hook
  group_by: [alertname, fingerprint]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %q
        send_resolved: true
`, model(resolveTimeout), hookURL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		am := &alertmanager{url: "http://127.0.0.1:" + strconv.Itoa(port)}
		cmd := exec.Command(alertmanagerBin,
			"--config.file="+filepath.Join(dir, "alertmanager.yml"),
			"--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
			"--cluster.listen-address=",
			"--log.level=warn",
		)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("alertmanager output:\n%s", out.String())
			}
		})
		deadline := time.Now().Add(60 * time.Second)
		for {
			select {
			case <-exited:
				if attempt < 3 && strings.Contains(out.String(), "address already in use") {
					goto retry
				}
				t.Fatalf("alertmanager exited:\n%s", out.String())
			default:
			}
			if resp, err := http.Get(am.url + "/-/ready"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return am
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("alertmanager not ready:\n%s", out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	retry:
	}
}

// model formats a duration the way Alertmanager's config wants it.
func model(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// gettableAlert is an alert as GET /api/v2/alerts returns it.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// active returns the alerts Alertmanager considers active now.
func (am *alertmanager) active(t *testing.T) []gettableAlert {
	t.Helper()
	resp, err := http.Get(am.url + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// hookMessages decodes the webhook notifications Alertmanager sent.
func hookMessages(t *testing.T, r *receiver) []WebhookMessage {
	var out []WebhookMessage
	for _, req := range r.requests() {
		var m WebhookMessage
		if err := json.Unmarshal(req.body, &m); err != nil {
			t.Fatalf("Alertmanager's webhook body: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// TestAlertmanagerTwoWatchersOneAlert: two watchers on one segment (own
// instance names, own interface names) post the same finding to one
// Alertmanager: it holds one alert and notifies once; when they resolve it,
// it is resolved.
func TestAlertmanagerTwoWatchersOneAlert(t *testing.T) {
	hook := newReceiver(t)
	am := startAlertmanager(t, hook.URL+"/am", 5*time.Minute)

	watcher := func(instance, iface string) (*running, *Alertmanager) {
		n, err := NewAlertmanager(AlertmanagerOptions{URL: am.url})
		if err != nil {
			t.Fatal(err)
		}
		r := start(t, Options{StateDir: t.TempDir(), Instance: instance, Sinks: []Sink{{Notifier: n}}, GroupWait: 10 * time.Millisecond})
		return r, n
	}
	ra, na := watcher("lb-a", "eth0")
	defer ra.stop(t)
	rb, nb := watcher("lb-b", "ens192")
	defer rb.stop(t)

	t0 := time.Now().Add(-3 * time.Second)
	fa := finding(rules.DuplicateMaster, 51, rules.Raised, t0)
	fb := fa
	fb.Interface = "ens192"
	fb.At = t0.Add(300 * time.Millisecond)
	ra.d.Submit(fa)
	rb.d.Submit(fb)
	waitFor(t, 30*time.Second, "both posts", func() bool {
		return ra.counter("sent", na.Name()) == 1 && rb.counter("sent", nb.Name()) == 1
	})

	alerts := am.active(t)
	if len(alerts) != 1 {
		t.Fatalf("Alertmanager holds %d alerts, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	wantLabels := map[string]string{"alertname": "VRRPDuplicateMaster", "kind": "duplicate_master", "severity": "critical",
		"family": "ipv4", "vrid": "51", "fingerprint": "fp-duplicate_master-51"}
	if !mapsEqual(a.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", a.Labels, wantLabels)
	}
	if rb := a.Annotations[AnnotationReportedBy]; rb != "lb-a" && rb != "lb-b" {
		t.Errorf("reported_by %q", rb)
	}
	if a.Status.State != "active" || !a.StartsAt.Equal(fa.FirstSeen.Truncate(time.Millisecond)) && !a.StartsAt.Equal(fa.FirstSeen) {
		t.Errorf("state %s startsAt %v (want %v)", a.Status.State, a.StartsAt, fa.FirstSeen)
	}

	// Alertmanager notifies its receiver once, with one alert.
	waitFor(t, 30*time.Second, "Alertmanager's notification", func() bool { return len(hook.requests()) >= 1 })
	time.Sleep(1500 * time.Millisecond) // longer than group_interval: a second alert would show
	msgs := hookMessages(t, hook)
	if len(msgs) != 1 || len(msgs[0].Alerts) != 1 || msgs[0].Alerts[0].Labels["alertname"] != "VRRPDuplicateMaster" || msgs[0].Status != "firing" {
		t.Fatalf("Alertmanager notified %+v", msgs)
	}

	// Both watchers see the problem end.
	for _, r := range []*running{ra, rb} {
		res := fa
		res.State, res.At = rules.Resolved, time.Now()
		r.d.Submit(res)
	}
	waitFor(t, 30*time.Second, "the alert to be resolved in Alertmanager", func() bool { return len(am.active(t)) == 0 })
	waitFor(t, 30*time.Second, "Alertmanager's resolved notification", func() bool {
		m := hookMessages(t, hook)
		return len(m) >= 2 && m[len(m)-1].Status == "resolved"
	})
}

// TestAlertmanagerResendKeepsAlertActive: with a short resolve_timeout
// Alertmanager would resolve a firing alert that is not re-posted; the
// dispatcher's re-posts keep it active.
func TestAlertmanagerResendKeepsAlertActive(t *testing.T) {
	hook := newReceiver(t)
	am := startAlertmanager(t, hook.URL+"/am", 2*time.Second)
	n, err := NewAlertmanager(AlertmanagerOptions{URL: am.url + "/"})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: n}}, GroupWait: -1, ResendInterval: 500 * time.Millisecond})
	defer r.stop(t)
	// A control alert posted once, without re-posts.
	control := FromFinding(finding(rules.AuthMismatch, 3, rules.Raised, time.Now()), "control")
	if _, err := n.Notify(context.Background(), []Alert{control}); err != nil {
		t.Fatal(err)
	}
	r.d.Submit(finding(rules.NoMaster, 3, rules.Raised, time.Now()))
	waitFor(t, 30*time.Second, "the post", func() bool { return r.counter("sent", n.Name()) == 1 })
	waitFor(t, 60*time.Second, "several re-posts", func() bool { return r.counter("resent", n.Name()) >= 8 })
	// More than twice resolve_timeout after the first post: the control
	// alert has timed out, the re-posted one is still active.
	waitFor(t, 30*time.Second, "the control alert to time out", func() bool { return len(am.active(t)) == 1 })
	if alerts := am.active(t); len(alerts) != 1 || alerts[0].Labels["alertname"] != "VRRPNoMaster" {
		t.Fatalf("alert not kept active by re-posts: %+v", alerts)
	}
}

func TestAlertmanagerRejectsInvalidAlertPermanently(t *testing.T) {
	am := startAlertmanager(t, "http://127.0.0.1:9/unused", 5*time.Minute)
	n, err := NewAlertmanager(AlertmanagerOptions{URL: am.url})
	if err != nil {
		t.Fatal(err)
	}
	bad := FromFinding(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()), "x")
	bad.Labels["not a label name"] = "x"
	retry, err := n.Notify(context.Background(), []Alert{bad})
	if err == nil || retry || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("invalid alert: retry=%v err=%v", retry, err)
	}
	res := SendTest(context.Background(), []Sink{{Notifier: n}}, "lb-a")
	if res[0].Err != nil {
		t.Fatalf("test alert: %v", res[0].Err)
	}
	alerts := am.active(t)
	if len(alerts) != 1 || alerts[0].Labels["alertname"] != TestAlertName || alerts[0].Annotations["summary"] != "vrrpguard test notification — ignore" {
		t.Fatalf("test alert in Alertmanager: %+v", alerts)
	}
}
