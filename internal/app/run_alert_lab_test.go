package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// TestRunAlertsLikeWatch: `vrrpguard run` notifies exactly as `watch` does.
// keepalived on a (150) and `vrrpguard run` on b (100) run the same
// keepalived.conf text; `vrrpguard watch` runs on c. Both vrrpguard
// processes take their sinks from one vrrpguard YAML (a webhook, an
// Alertmanager, email to mailpit; receivers on host mon); run also gets a
// second webhook, its outbox directory and its name from flags. b drops a's
// adverts (one-way loss), both routers become master: every receiver gets
// duplicate_master from run with the kind, severity, fingerprint and labels
// watch sends — only reported_by differs — firing, then resolved once the
// drop is cleared. A firewall on mon in front of the Alertmanager, closed to
// c while the alert changes state, shows that it was run's post that
// Alertmanager took.
func TestRunAlertsLikeWatch(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "mailpit", "prometheus-alertmanager")
	bin := binary(t)
	lab := netlab.New(t)
	const (
		vip     = "10.107.0.100"
		aAddr   = "10.107.0.1"
		cAddr   = "10.107.0.3"
		monAddr = "10.107.0.9"
		amPort  = 19093
		nodeB   = "node-b"    // run's --instance
		nodeC   = "watcher-c" // watch's --instance
	)
	a := lab.AddHost("a", aAddr+"/24")
	b := lab.AddHost("b", "10.107.0.2/24")
	c := lab.AddHost("c", cAddr+"/24")
	mon := lab.AddHost("mon", monAddr+"/24")

	hook := startHook(t, mon, monAddr+":0")
	flagHook := startHook(t, mon, monAddr+":0") // given to run only, on its command line
	am := startAlertmanagerIn(t, mon, fmt.Sprintf("%s:%d", monAddr, amPort))
	mailAPI := "http://" + monAddr + ":8025"
	mon.Start(t, "mailpit", "--smtp", monAddr+":1025", "--listen", monAddr+":8025")
	client := nsClient(mon)
	waitFor(t, "mailpit", 30*time.Second, func() bool {
		resp, err := client.Get(mailAPI + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	// Until c's post is wanted, Alertmanager only hears from b.
	gateTCP(t, mon, cAddr, amPort, false)

	dir := t.TempDir()
	bState, cState := filepath.Join(dir, "state-b"), filepath.Join(dir, "state-c")
	yamlPath := writeFile(t, "vrrpguard.yaml", fmt.Sprintf(`alerts:
  state_dir: %s
  webhooks:
    - url: %s
  alertmanagers:
    - url: %s
  email:
    smtp: %s:1025
    from: vrrpguard@lab.example
    to: [ops@lab.example]
`, cState, hook.url, am, monAddr))
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 107, Priority: prio, AdvertInt: time.Second, VIPs: []string{vip + "/24"}})
	}
	kconf := writeFile(t, "keepalived.conf", conf(100))

	w := c.Start(t, bin, "watch", "--interface", "eth0", "--config", yamlPath, "--format", "json", "--listen", "off", "--instance", nodeC)
	w.WaitOutput(t, "watching", 10*time.Second)
	a.StartKeepalived(t, conf(150))
	a.WaitAddr(t, vip, 15*time.Second)
	// run: the YAML's sinks, plus a webhook from the flag; the flag's
	// state directory replaces the YAML's (which c holds).
	r := b.Start(t, bin, "run", "--config", kconf, "--config", yamlPath, "--format", "json", "--listen", "off",
		"--instance", nodeB, "--state-dir", bState, "--webhook", flagHook.url)
	r.WaitOutput(t, "entering BACKUP state", 10*time.Second)
	for _, want := range []string{hook.url, flagHook.url, "alertmanager:", "email:", "state_dir=" + bState} {
		if !strings.Contains(r.Output(), want) {
			t.Errorf("run's alerting log line lacks %q:\n%s", want, r.Output())
		}
	}
	onlyHolder(t, lab, a, vip, 2*time.Second)

	// One-way loss: b stops hearing a and becomes master too.
	b.DropVRRPFrom(t, aAddr)
	b.WaitAddr(t, vip, 10*time.Second)

	// Firing.
	fp, _ := waitFinding(t, r, "duplicate_master", "raised", 30*time.Second)["fingerprint"].(string)
	if fp == "" {
		t.Fatalf("run's duplicate_master finding has no fingerprint:\n%s", r.Output())
	}
	wantLabels := map[string]string{"alertname": "VRRPDuplicateMaster", "kind": "duplicate_master", "severity": "critical",
		"family": "ipv4", "vrid": "107", "fingerprint": fp}
	hookB := waitHookAlert(t, hook, "firing", nodeB)
	hookC := waitHookAlert(t, hook, "firing", nodeC)
	checkAlert(t, "webhook (YAML), firing, from run", wantLabels, nodeB, hookB)
	checkAlert(t, "webhook (YAML), firing, from watch", wantLabels, nodeC, hookC)
	sameAlert(t, "webhook (YAML), firing: run vs watch", hookC, hookB)
	sameAlert(t, "webhook (--webhook on run), firing", hookB, waitHookAlert(t, flagHook, "firing", nodeB))

	// Alertmanager: first only run can reach it, then watch too; one
	// alert, whose annotations come from the latest post.
	amB := waitAMAlert(t, client, am, nodeB)
	if !maps.Equal(amB.Labels, wantLabels) {
		t.Errorf("Alertmanager alert from run: labels (-want +got):\n-%v\n+%v", wantLabels, amB.Labels)
	}
	gateTCP(t, mon, cAddr, amPort, true)
	amC := waitAMAlert(t, client, am, nodeC)
	if !maps.Equal(amC.Labels, amB.Labels) {
		t.Errorf("Alertmanager alert, labels from run (-) and from watch (+):\n-%v\n+%v", amB.Labels, amC.Labels)
	}
	if n := len(activeAM(t, client, am)); n != 1 {
		t.Errorf("Alertmanager shows %d VRRPDuplicateMaster alerts from run and watch, want 1", n)
	}

	mailB := waitMail(t, client, mailAPI, "FIRING", nodeB)
	mailC := waitMail(t, client, mailAPI, "FIRING", nodeC)
	checkMail(t, "mail, firing", mailC, mailB, fp)

	// Each process keeps its firing set in its own state directory: run
	// in the flag's, watch in the YAML's.
	for _, sd := range []string{bState, cState} {
		if data, err := os.ReadFile(filepath.Join(sd, "firing.json")); err != nil || !strings.Contains(string(data), fp) {
			t.Errorf("%s/firing.json lacks the alert (err %v):\n%s", sd, err, data)
		}
	}

	// Resolved: only run may tell Alertmanager.
	gateTCP(t, mon, cAddr, amPort, false)
	b.ClearDrops(t)
	waitHolder(t, lab, a, vip, 15*time.Second)
	waitFinding(t, r, "duplicate_master", "resolved", 30*time.Second)
	resB := waitHookAlert(t, hook, "resolved", nodeB)
	resC := waitHookAlert(t, hook, "resolved", nodeC)
	checkAlert(t, "webhook (YAML), resolved, from run", wantLabels, nodeB, resB)
	checkAlert(t, "webhook (YAML), resolved, from watch", wantLabels, nodeC, resC)
	sameAlert(t, "webhook (YAML), resolved: run vs watch", resC, resB)
	sameAlert(t, "webhook (--webhook on run), resolved", resB, waitHookAlert(t, flagHook, "resolved", nodeB))
	waitFor(t, "run's resolve to end the alert in Alertmanager", 60*time.Second, func() bool {
		return len(activeAM(t, client, am)) == 0
	})
	checkMail(t, "mail, resolved", waitMail(t, client, mailAPI, "RESOLVED", nodeC), waitMail(t, client, mailAPI, "RESOLVED", nodeB), fp)

	// watch's notifications to Alertmanager, held back meanwhile, go out.
	gateTCP(t, mon, cAddr, amPort, true)
	waitFor(t, "watch's Alertmanager outbox to drain", 60*time.Second, func() bool { return outboxEmpty(t, cState) })
	if n := len(activeAM(t, client, am)); n != 0 {
		t.Errorf("Alertmanager shows %d active VRRPDuplicateMaster alerts after both resolved", n)
	}
	for _, sd := range []string{bState, cState} {
		if !outboxEmpty(t, sd) {
			t.Errorf("%s: outbox not empty after delivery", sd)
		}
	}
	if m := flagHook.byNode(nodeC); len(m) > 0 {
		t.Errorf("the webhook given to run on the command line got notifications from watch: %+v", m)
	}

	for _, p := range []*netlab.Proc{r, w} {
		p.Signal(syscall.SIGTERM)
		<-p.Done()
		if err := p.Err(); err != nil {
			t.Errorf("%v\n%s", err, p.Output())
		}
	}
}

// gateTCP opens or closes (TCP reset) port on h to connections from src:
// a firewall table of its own in h's namespace, input hook.
func gateTCP(t *testing.T, h *netlab.Host, src string, port int, open bool) {
	t.Helper()
	script := "table inet runalert_gate\ndelete table inet runalert_gate\n"
	if !open {
		script += fmt.Sprintf("table inet runalert_gate {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"+
			"\t\tip saddr %s tcp dport %d reject with tcp reset\n\t}\n}\n", src, port)
	}
	cmd := h.Cmd("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft on %s: %v\n%s", h, err, out)
	}
}

// byNode returns the duplicate_master alerts r received from node.
func (r *hookReceiver) byNode(node string) []alert.WebhookAlert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []alert.WebhookAlert
	for _, m := range r.msgs {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "VRRPDuplicateMaster" && a.Annotations["reported_by"] == node {
				out = append(out, a)
			}
		}
	}
	return out
}

// waitHookAlert waits for a duplicate_master alert in status from node.
func waitHookAlert(t *testing.T, r *hookReceiver, status, node string) alert.WebhookAlert {
	t.Helper()
	var got alert.WebhookAlert
	waitFor(t, fmt.Sprintf("a %s webhook alert from %s at %s", status, node, r.url), 60*time.Second, func() bool {
		for _, a := range r.byNode(node) {
			if a.Status == status {
				got = a
				return true
			}
		}
		return false
	})
	return got
}

// checkAlert checks a webhook alert's labels, fingerprint and annotations.
func checkAlert(t *testing.T, what string, wantLabels map[string]string, node string, got alert.WebhookAlert) {
	t.Helper()
	if !maps.Equal(got.Labels, wantLabels) {
		t.Errorf("%s: labels (-want +got):\n-%v\n+%v", what, wantLabels, got.Labels)
	}
	if got.Fingerprint != wantLabels["fingerprint"] {
		t.Errorf("%s: fingerprint %q, want %q", what, got.Fingerprint, wantLabels["fingerprint"])
	}
	if got.Annotations["reported_by"] != node || got.Annotations["interface"] != "eth0" ||
		got.Annotations["summary"] != "duplicate_master VRID 107 on eth0" {
		t.Errorf("%s: annotations %v", what, got.Annotations)
	}
	if ev := evidence(got.Annotations["description"]); len(ev) != 3 || !strings.Contains(ev[0], "10.107.0.1, 10.107.0.2") ||
		ev[2] != "VIPs: 10.107.0.100" {
		t.Errorf("%s: description lacks the evidence: %q", what, got.Annotations["description"])
	}
}

// sameAlert checks that got is want's notification but for who sent it
// and when each saw it: status, labels, fingerprint, summary, interface.
func sameAlert(t *testing.T, what string, want, got alert.WebhookAlert) {
	t.Helper()
	if got.Status != want.Status || got.Fingerprint != want.Fingerprint || !maps.Equal(got.Labels, want.Labels) {
		t.Errorf("%s: (-want +got):\n-%s %s %v\n+%s %s %v", what, want.Status, want.Fingerprint, want.Labels, got.Status, got.Fingerprint, got.Labels)
	}
	for _, k := range []string{"summary", "interface"} {
		if got.Annotations[k] != want.Annotations[k] {
			t.Errorf("%s: annotation %s (-want +got):\n-%q\n+%q", what, k, want.Annotations[k], got.Annotations[k])
		}
	}
	if w, g := evidence(want.Annotations["description"]), evidence(got.Annotations["description"]); !slices.Equal(w, g) {
		t.Errorf("%s: evidence in the description (-want +got):\n%s", what, testenv.DiffLines(w, g))
	}
}

// evidence returns the sources, MACs and VIPs lines of a description.
func evidence(desc string) []string {
	var out []string
	for _, l := range strings.Split(desc, "\n") {
		for _, p := range []string{"sources: ", "MACs: ", "VIPs: "} {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return out
}

// activeAM returns Alertmanager's active VRRPDuplicateMaster alerts.
func activeAM(t *testing.T, c *http.Client, url string) []amAlert {
	t.Helper()
	var out []amAlert
	for _, x := range amAlerts(t, c, url) {
		if x.Labels["alertname"] == "VRRPDuplicateMaster" && x.Status.State == "active" {
			out = append(out, x)
		}
	}
	return out
}

// waitAMAlert waits until Alertmanager's one active VRRPDuplicateMaster
// alert was last posted by node.
func waitAMAlert(t *testing.T, c *http.Client, url, node string) amAlert {
	t.Helper()
	var got []amAlert
	waitFor(t, "Alertmanager's alert as posted by "+node, 60*time.Second, func() bool {
		got = activeAM(t, c, url)
		return len(got) == 1 && got[0].Annotations["reported_by"] == node
	})
	return got[0]
}

// mailAlert is the duplicate_master part of an alert mail: its first line
// and its fields (Kind, VRID, Reported by, …), and the mail's
// X-Vrrpguard-Fingerprint header.
type mailAlert struct {
	head, fpHeader string
	fields         map[string]string
}

// waitMail waits for a mail with a duplicate_master alert in state
// (FIRING, RESOLVED) reported by node.
func waitMail(t *testing.T, c *http.Client, api, state, node string) mailAlert {
	t.Helper()
	var got mailAlert
	waitFor(t, fmt.Sprintf("a %s mail from %s", state, node), 60*time.Second, func() bool {
		for _, m := range mails(t, c, api) {
			for _, a := range mailAlerts(t, c, api, m.ID) {
				if strings.HasPrefix(a.head, state+": ") && a.fields["Kind"] == "duplicate_master (critical)" && a.fields["Reported by"] == node {
					got = a
					return true
				}
			}
		}
		return false
	})
	return got
}

// mailAlerts parses the alerts of mail id.
func mailAlerts(t *testing.T, c *http.Client, api, id string) []mailAlert {
	t.Helper()
	var msg struct {
		Text string `json:"Text"`
	}
	var hdr map[string][]string
	getJSON(t, c, api+"/api/v1/message/"+id, &msg)
	getJSON(t, c, api+"/api/v1/message/"+id+"/headers", &hdr)
	var out []mailAlert
	for _, sec := range strings.Split(msg.Text, "\n"+strings.Repeat("-", 72)+"\n\n") {
		lines := strings.Split(sec, "\n")
		a := mailAlert{head: lines[0], fpHeader: strings.Join(hdr["X-Vrrpguard-Fingerprint"], ", "), fields: map[string]string{}}
		for _, l := range lines[1:] {
			for _, name := range []string{"Kind", "Interface", "Family", "VRID", "Routers", "MACs", "VIPs", "Reported by", "Fingerprint"} {
				if v, ok := strings.CutPrefix(l, name+":"); ok {
					a.fields[name] = strings.TrimSpace(v)
				}
			}
		}
		out = append(out, a)
	}
	return out
}

func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// checkMail checks that run's mail (got) tells what watch's (want) does,
// with the finding's fingerprint fp.
func checkMail(t *testing.T, what string, want, got mailAlert, fp string) {
	t.Helper()
	if got.head != want.head {
		t.Errorf("%s: first line (-want +got):\n-%s\n+%s", what, want.head, got.head)
	}
	for _, k := range []string{"Kind", "Interface", "Family", "VRID", "Routers", "MACs", "VIPs", "Fingerprint"} {
		if got.fields[k] != want.fields[k] {
			t.Errorf("%s: %s (-want +got):\n-%q\n+%q", what, k, want.fields[k], got.fields[k])
		}
	}
	for _, m := range []mailAlert{want, got} {
		if m.fields["Fingerprint"] != fp || !strings.Contains(m.fpHeader, fp) || m.fields["VIPs"] != "10.107.0.100" {
			t.Errorf("%s: from %s: fingerprint %q, header %q, VIPs %q; want %s and 10.107.0.100", what, m.fields["Reported by"],
				m.fields["Fingerprint"], m.fpHeader, m.fields["VIPs"], fp)
		}
	}
}

// outboxEmpty reports whether no notification waits in state dir's outbox.
func outboxEmpty(t *testing.T, dir string) bool {
	t.Helper()
	pending, err := filepath.Glob(filepath.Join(dir, "outbox", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return len(pending) == 0
}
