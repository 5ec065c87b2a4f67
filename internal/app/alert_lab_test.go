package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// nsClient is an HTTP client whose connections are made inside h's
// network namespace (to reach servers listening there).
func nsClient(h *netlab.Host) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := h.Do(func() error {
				var err error
				c, err = net.DialTimeout(network, addr, 3*time.Second)
				return err
			})
			return c, err
		}}}
}

// hookReceiver is a webhook endpoint listening inside a namespace.
type hookReceiver struct {
	mu   sync.Mutex
	msgs []alert.WebhookMessage
	at   []time.Time
	srv  *http.Server
	url  string
}

func startHook(t *testing.T, h *netlab.Host, addr string) *hookReceiver {
	t.Helper()
	var ln net.Listener
	if err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r := &hookReceiver{url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m alert.WebhookMessage
		if err := json.Unmarshal(b, &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.at = append(r.at, time.Now())
		r.mu.Unlock()
	})}
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// wait returns the first message with an alert of name in status.
func (r *hookReceiver) wait(t *testing.T, name, status string, timeout time.Duration) (alert.WebhookMessage, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		for i, m := range r.msgs {
			for _, a := range m.Alerts {
				if a.Labels["alertname"] == name && a.Status == status {
					r.mu.Unlock()
					return m, r.at[i]
				}
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("webhook: no %s %s within %v", name, status, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startAlertmanagerIn(t *testing.T, h *netlab.Host, addr string) string {
	t.Helper()
	testenv.RequireTools(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := "route:\n  receiver: none\n  group_wait: 200ms\nreceivers:\n  - name: none\n"
	if err := writeFileErr(filepath.Join(dir, "am.yml"), cfg); err != nil {
		t.Fatal(err)
	}
	h.Start(t, "prometheus-alertmanager", "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	c := nsClient(h)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := c.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("alertmanager not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func amAlerts(t *testing.T, c *http.Client, url string) []amAlert {
	t.Helper()
	resp, err := c.Get(url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

type mailMsg struct {
	Subject string `json:"Subject"`
	ID      string `json:"ID"`
}

func mails(t *testing.T, c *http.Client, url string) []mailMsg {
	t.Helper()
	resp, err := c.Get(url + "/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []mailMsg `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLabAlertsEndToEnd: a real keepalived pair goes split-brain (one-way
// loss) while two watchers run; one has a webhook, an Alertmanager and
// email to mailpit. Each receiver gets the firing alert and, after the pair
// heals, the resolved one; both watchers post to the same Alertmanager,
// which shows one alert.
func TestLabAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "mailpit", "prometheus-alertmanager")
	bin := binary(t)
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.89.0.1/24")
	b := lab.AddHost("b", "10.89.0.2/24")
	mon := lab.AddHost("mon", "10.89.0.9/24")
	mon2 := lab.AddHost("mon2", "10.89.0.8/24")

	hook := startHook(t, mon, "127.0.0.1:0")
	am := startAlertmanagerIn(t, mon, "10.89.0.9:19093")
	mon.Start(t, "mailpit", "--smtp", "127.0.0.1:1025", "--listen", "127.0.0.1:8025")
	client := nsClient(mon)
	waitFor(t, "mailpit", 30*time.Second, func() bool {
		resp, err := client.Get("http://127.0.0.1:8025/api/v1/messages")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	w1 := mon.Start(t, bin, "watch", "--interface", "eth0", "--format", "json", "--listen", "off", "--instance", "mon",
		"--state-dir", t.TempDir(), "--webhook", hook.url, "--alertmanager", am,
		"--smtp", "127.0.0.1:1025", "--mail-from", "vrrpguard@lab.example", "--mail-to", "ops@lab.example")
	w2 := mon2.Start(t, bin, "watch", "--interface", "eth0", "--format", "json", "--listen", "off", "--instance", "mon2",
		"--state-dir", t.TempDir(), "--alertmanager", am)
	w1.WaitOutput(t, "watching", 10*time.Second)
	w2.WaitOutput(t, "watching", 10*time.Second)

	a.StartKeepalived(t, pairConfOn(150, "10.89.0.100/24"))
	b.StartKeepalived(t, pairConfOn(100, "10.89.0.100/24"))
	a.WaitAddr(t, "10.89.0.100", 15*time.Second)
	time.Sleep(time.Second)
	b.DropVRRPFrom(t, "10.89.0.1")

	msg, got := hook.wait(t, "VRRPDuplicateMaster", "firing", 30*time.Second)
	if msg.Version != "4" || msg.Status != "firing" || msg.Alerts[0].Labels["severity"] != "critical" || msg.Alerts[0].Labels["vrid"] != "51" ||
		msg.Alerts[0].Annotations["reported_by"] != "mon" || !strings.Contains(msg.Alerts[0].Annotations["description"], "10.89.0.100") {
		t.Errorf("webhook message %+v", msg)
	}
	f := waitJSONFinding(t, w1, "duplicate_master", "raised", 10*time.Second)
	t.Logf("finding raised → webhook received: %v", got.Sub(jsonTime(t, "finding time", f.Time)))

	var firing []amAlert
	waitFor(t, "the alert in Alertmanager from both watchers", 30*time.Second, func() bool {
		firing = nil
		for _, x := range amAlerts(t, client, am) {
			if x.Labels["alertname"] == "VRRPDuplicateMaster" {
				firing = append(firing, x)
			}
		}
		_, raised := procJSON(t, w2).finding("duplicate_master", "raised")
		return len(firing) > 0 && raised
	})
	time.Sleep(2 * time.Second) // both watchers have posted by now
	firing = nil
	for _, x := range amAlerts(t, client, am) {
		if x.Labels["alertname"] == "VRRPDuplicateMaster" {
			firing = append(firing, x)
		}
	}
	if len(firing) != 1 {
		t.Errorf("Alertmanager shows %d VRRPDuplicateMaster alerts from two watchers, want 1: %+v", len(firing), firing)
	}
	var mailID string
	waitFor(t, "the alert mail", 30*time.Second, func() bool {
		for _, m := range mails(t, client, "http://127.0.0.1:8025") {
			if strings.Contains(m.Subject, "duplicate_master") && strings.Contains(m.Subject, "CRITICAL") {
				mailID = m.ID
				return true
			}
		}
		return false
	})
	// The body carries the evidence.
	resp, err := client.Get("http://127.0.0.1:8025/api/v1/message/" + mailID)
	if err != nil {
		t.Fatal(err)
	}
	var full struct {
		Text string `json:"Text"`
	}
	err = json.NewDecoder(resp.Body).Decode(&full)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("mailpit message %s: %v", mailID, err)
	}
	for _, want := range []string{"10.89.0.100", "10.89.0.1", "10.89.0.2", "protocol 112"} {
		if !strings.Contains(full.Text, want) {
			t.Errorf("alert mail body lacks %q:\n%s", want, full.Text)
		}
	}

	b.ClearDrops(t)
	hook.wait(t, "VRRPDuplicateMaster", "resolved", 60*time.Second)
	waitFor(t, "the resolved mail", 60*time.Second, func() bool {
		for _, m := range mails(t, client, "http://127.0.0.1:8025") {
			if strings.Contains(m.Subject, "RESOLVED") && strings.Contains(m.Subject, "duplicate_master") {
				return true
			}
		}
		return false
	})
	waitFor(t, "the alert to leave Alertmanager", 60*time.Second, func() bool {
		for _, x := range amAlerts(t, client, am) {
			if x.Labels["alertname"] == "VRRPDuplicateMaster" && x.Status.State == "active" {
				return false
			}
		}
		return true
	})
	for _, w := range []*netlab.Proc{w1, w2} {
		w.Signal(syscall.SIGTERM)
		<-w.Done()
		if err := w.Err(); err != nil {
			t.Errorf("watch: %v", err)
		}
	}
}

// TestLabAlertSurvivesKill9: the webhook is down when the split brain is
// found; the watcher is killed -9 and restarted (after the pair healed);
// once the webhook comes back, it still receives the firing alert.
func TestLabAlertSurvivesKill9(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	bin := binary(t)
	lab := netlab.New(t)
	a := lab.AddHost("a", "10.90.0.1/24")
	b := lab.AddHost("b", "10.90.0.2/24")
	mon := lab.AddHost("mon", "10.90.0.9/24")
	state := t.TempDir()
	const hookAddr = "127.0.0.1:18080"
	args := []string{"watch", "--interface", "eth0", "--format", "json", "--listen", "off", "--state-dir", state,
		"--webhook", "http://" + hookAddr + "/hook"}
	w := mon.Start(t, bin, args...)
	w.WaitOutput(t, "watching", 10*time.Second)
	a.StartKeepalived(t, pairConfOn(150, "10.90.0.100/24"))
	b.StartKeepalived(t, pairConfOn(100, "10.90.0.100/24"))
	a.WaitAddr(t, "10.90.0.100", 15*time.Second)
	time.Sleep(time.Second)
	b.DropVRRPFrom(t, "10.90.0.1")
	waitJSONFinding(t, w, "duplicate_master", "raised", 30*time.Second)
	time.Sleep(time.Second) // past the group wait: written to the outbox, delivery failing
	w.Kill()
	b.ClearDrops(t)
	time.Sleep(2 * time.Second)

	hook := startHook(t, mon, hookAddr)
	w2 := mon.Start(t, bin, args...)
	msg, _ := hook.wait(t, "VRRPDuplicateMaster", "firing", 60*time.Second)
	if msg.Alerts[0].Labels["kind"] != "duplicate_master" {
		t.Errorf("%+v", msg)
	}
	w2.Signal(syscall.SIGTERM)
	<-w2.Done()
	if err := w2.Err(); err != nil {
		t.Errorf("restarted watch: %v", err)
	}
}

// pairConfOn is a keepalived.conf for one node of a VRID 51 pair.
func pairConfOn(prio int, vip string) string {
	return netlab.Conf(netlab.Instance{State: "BACKUP", VRID: 51, Priority: prio, AdvertInt: time.Second, VIPs: []string{vip}})
}

func writeFileErr(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
