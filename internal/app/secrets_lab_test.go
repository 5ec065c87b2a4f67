package app

import (
	"fmt"
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

// rawHook is a webhook endpoint in a namespace that keeps every request
// as it came: URL, headers and body.
type rawHook struct {
	mu   sync.Mutex
	reqs []rawRequest
	url  string
}

type rawRequest struct {
	url    string
	header http.Header
	body   []byte
}

func startRawHook(t *testing.T, h *netlab.Host, addr string) *rawHook {
	t.Helper()
	var ln net.Listener
	if err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r := &rawHook{url: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, rawRequest{url: req.URL.String(), header: req.Header.Clone(), body: b})
		r.mu.Unlock()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *rawHook) requests() []rawRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rawRequest(nil), r.reqs...)
}

// TestLabSecretsNeverLeak: every secret vrrpguard is given has a
// distinctive value — keepalived's auth_pass (two of them: a node with a
// wrong password joins later), the SMTP password (a file), a webhook's
// signing secret (a file) and bearer token (a header), passwords in the
// user info of a webhook and an Alertmanager URL and a token in a URL's
// query. `vrrpguard run --debug` (b) and `vrrpguard watch` (c) run against real
// keepalived (a, d) and real sinks (mailpit with SMTP AUTH, a webhook,
// Alertmanager); a one-way loss makes duplicate_master (raised and
// resolved), then d's wrong password auth_mismatch. Then every output is searched for every secret: both
// processes' stdout and stderr, /metrics, /api/v1/status, the status page
// and /healthz (and run's /status), the raw mails, the webhook bodies and
// headers (but the Authorization header, which is where the token and the
// user info belong), Alertmanager's alerts and the state directories.
// Also: run listens on a non-loopback address without
// --listen-allow-remote and warns; watch listens on every address with it
// and does not.
func TestLabSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "mailpit", "prometheus-alertmanager")
	bin := binary(t)
	lab := netlab.New(t)
	const (
		vip     = "10.113.0.100"
		aAddr   = "10.113.0.1"
		bAddr   = "10.113.0.2"
		cAddr   = "10.113.0.3"
		monAddr = "10.113.0.9"
		amPort  = 19113

		authPass      = "Kp7zQx3w" // a's and b's auth_pass (8 characters, VRRPv2's limit)
		wrongPass     = "Dm4vWy8r" // d's
		smtpPassword  = "smtp-Pw-5f1c9e"
		hookSecret    = "whsec-8b3d2a7e"
		bearerToken   = "tok-4e9a1c77"
		hookURLPass   = "url-Pw-77ab"
		hookURLToken  = "qry-3c5d91"
		amURLPassword = "am-Pw-19cd"
	)
	secrets := []string{authPass, wrongPass, smtpPassword, hookSecret, bearerToken, hookURLPass, hookURLToken, amURLPassword}

	a := lab.AddHost("a", aAddr+"/24")
	b := lab.AddHost("b", bAddr+"/24")
	c := lab.AddHost("c", cAddr+"/24")
	d := lab.AddHost("d", "10.113.0.4/24")
	mon := lab.AddHost("mon", monAddr+"/24")

	hook := startRawHook(t, mon, monAddr+":0")
	am := startAlertmanagerIn(t, mon, fmt.Sprintf("%s:%d", monAddr, amPort))
	// A mailpit on 127.0.0.1 in b's and in c's namespace: Go sends an
	// AUTH PLAIN password in clear text to localhost only.
	// It takes mail only from user vrrpguard with the password.
	const mailAPI = "http://127.0.0.1:8025"
	users := writeFile(t, "smtp-users", "vrrpguard:"+smtpPassword+"\n")
	for _, h := range []*netlab.Host{b, c} {
		h.Start(t, "mailpit", "--smtp", "127.0.0.1:1025", "--listen", "127.0.0.1:8025", "--database", filepath.Join(t.TempDir(), "mailpit.db"),
			"--smtp-auth-file", users, "--smtp-auth-allow-insecure", "--disable-version-check", "--smtp-disable-rdns")
		waitFor(t, "mailpit in "+h.Name(), 30*time.Second, func() bool {
			resp, err := nsClient(h).Get(mailAPI + "/api/v1/messages")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		})
	}
	client := nsClient(mon)

	dir := t.TempDir()
	bState, cState := filepath.Join(dir, "state-b"), filepath.Join(dir, "state-c")
	secretFile := filepath.Join(dir, "hook.secret")
	passFile := filepath.Join(dir, "smtp.pass")
	for p, v := range map[string]string{secretFile: hookSecret + "\n", passFile: smtpPassword + "\n"} {
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hookURL := "http://hookuser:" + hookURLPass + "@" + hook.url + "/hook?token=" + hookURLToken
	amURL := strings.Replace(am, "http://", "http://amuser:"+amURLPassword+"@", 1)
	yamlPath := writeFile(t, "vrrpguard.yaml", fmt.Sprintf(`alerts:
  state_dir: %s
  webhooks:
    - url: %s
      secret_file: %s
      headers:
        Authorization: Bearer %s
  alertmanagers:
    - url: %s
  email:
    smtp: 127.0.0.1:1025
    from: vrrpguard@lab.example
    to: [ops@lab.example]
    starttls: never
    username: vrrpguard
    password_file: %s
`, cState, hookURL, secretFile, bearerToken, amURL, passFile))
	conf := func(prio int, pass string) string {
		return netlab.Conf(netlab.Instance{VRID: 113, Priority: prio, Version: 2, AdvertInt: time.Second,
			VIPs: []string{vip + "/24"}, AuthPass: pass})
	}
	kconf := writeFile(t, "keepalived.conf", conf(100, authPass))

	w := c.Start(t, bin, "watch", "--interface", "eth0", "--config", yamlPath, "--config", kconf, "--format", "json",
		"--listen", "0.0.0.0:9812", "--listen-allow-remote", "--instance", "watcher-c")
	w.WaitOutput(t, "watching", 10*time.Second)
	a.StartKeepalived(t, conf(150, authPass))
	a.WaitAddr(t, vip, 15*time.Second)
	r := b.Start(t, bin, "run", "--debug", "--config", kconf, "--config", yamlPath, "--format", "json",
		"--listen", bAddr+":9813", "--instance", "node-b", "--state-dir", bState)
	r.WaitOutput(t, "entering BACKUP state", 10*time.Second)

	// duplicate_master: b stops hearing a.
	b.DropVRRPFrom(t, aAddr)
	b.WaitAddr(t, vip, 10*time.Second)
	waitFinding(t, r, "duplicate_master", "raised", 30*time.Second)
	waitFinding(t, w, "duplicate_master", "raised", 30*time.Second)
	// Resolve the split brain; notifications of both states go out.
	b.ClearDrops(t)
	waitFinding(t, r, "duplicate_master", "resolved", 30*time.Second)
	// auth_mismatch: d advertises with another password (and, hearing no
	// valid advert, becomes a master too).
	d.StartKeepalived(t, conf(50, wrongPass))
	waitFinding(t, w, "auth_mismatch", "raised", 30*time.Second)

	waitFor(t, "auth_mismatch posted by both, and every outbox empty", 60*time.Second, func() bool {
		from := map[string]bool{}
		for _, q := range hook.requests() {
			for _, n := range []string{"node-b", "watcher-c"} {
				if strings.Contains(string(q.body), n) && strings.Contains(string(q.body), `"auth_mismatch"`) {
					from[n] = true
				}
			}
		}
		return from["node-b"] && from["watcher-c"] && outboxEmpty(t, bState) && outboxEmpty(t, cState)
	})

	// The secrets were used: the webhook got its token, query and
	// signature; mailpit took mail (it requires the password).
	outputs := map[string]string{}
	for i, q := range hook.requests() {
		if got := q.header.Get("Authorization"); got != "Bearer "+bearerToken {
			t.Errorf("webhook request %d: Authorization %q, want the bearer token", i, got)
		}
		if !alert.VerifySignature([]byte(hookSecret), q.body, q.header.Get(alert.SignatureHeader)) {
			t.Errorf("webhook request %d: signature %q does not verify with the secret", i, q.header.Get(alert.SignatureHeader))
		}
		if !strings.Contains(q.url, "token="+hookURLToken) {
			t.Errorf("webhook request %d: URL %q lacks its query token", i, q.url)
		}
		h := q.header.Clone()
		h.Del("Authorization")
		outputs[fmt.Sprintf("webhook request %d (URL path, headers but Authorization, body)", i)] =
			strings.SplitN(q.url, "?", 2)[0] + "\n" + fmt.Sprint(h) + "\n" + string(q.body)
	}
	for _, h := range []*netlab.Host{b, c} {
		hc := nsClient(h)
		var list struct {
			Messages []struct{ ID string }
		}
		getJSON(t, hc, mailAPI+"/api/v1/messages", &list)
		if len(list.Messages) < 3 {
			t.Errorf("%d mails arrived from %s, want ≥ 3 (duplicate_master raised and resolved, auth_mismatch)", len(list.Messages), h.Name())
		}
		for _, m := range list.Messages {
			resp, err := hc.Get(mailAPI + "/api/v1/message/" + m.ID + "/raw")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			outputs["mail "+m.ID+" from "+h.Name()] = string(raw)
		}
	}
	if resp, err := client.Get(am + "/api/v2/alerts"); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "VRRPAuthMismatch") {
			t.Errorf("Alertmanager has no VRRPAuthMismatch alert: %s", body)
		}
		outputs["Alertmanager alerts"] = string(body)
	}
	for name, base := range map[string]string{"run": "http://" + bAddr + ":9813", "watch": "http://" + cAddr + ":9812"} {
		paths := []string{"/metrics", statusPath, "/", "/healthz"}
		if name == "run" {
			paths = append(paths, "/status")
		}
		for _, p := range paths {
			resp, err := client.Get(base + p)
			if err != nil {
				t.Errorf("%s %s: %v", name, p, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %s", name, p, resp.Status)
			}
			outputs[name+" "+p] = string(body)
		}
	}
	for _, sd := range []string{bState, cState} {
		filepath.Walk(sd, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				if b, err := os.ReadFile(p); err == nil {
					outputs[p] = string(b)
				}
			}
			return nil
		})
	}
	for _, p := range []*netlab.Proc{r, w} {
		p.Signal(syscall.SIGTERM)
		<-p.Done()
	}
	outputs["run's stdout and stderr"] = r.Output()
	outputs["watch's stdout and stderr"] = w.Output()

	// run was given a non-loopback --listen without the flag, watch with.
	if !strings.Contains(r.Output(), "reachable from other hosts") {
		t.Errorf("run listening on %s:9813 did not warn:\n%s", bAddr, r.Output())
	}
	if strings.Contains(w.Output(), "reachable from other hosts") {
		t.Errorf("watch warned of its listener despite --listen-allow-remote:\n%s", w.Output())
	}
	if !strings.Contains(outputs["watch "+statusPath], "auth_mismatch") {
		t.Errorf("watch's status document lacks the auth_mismatch finding:\n%s", outputs["watch "+statusPath])
	}

	// Controls: the outputs searched hold what they should.
	for name, want := range map[string]string{
		"run's stdout and stderr":   hook.url, // the sink's name, in the alerting line
		"watch's stdout and stderr": `"auth_mismatch"`,
		"watch /metrics":            "vrrpguard_findings_active",
		"run " + statusPath:         "duplicate_master",
		"Alertmanager alerts":       "reported_by",
	} {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("%s lacks %q: is it the right output?\n%s", name, want, outputs[name])
		}
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if i := strings.Index(out, s); i >= 0 {
				t.Errorf("%s contains the secret %q: …%s…", name, s, out[max(i-120, 0):min(i+len(s)+40, len(out))])
			}
		}
	}
	t.Logf("searched %d outputs for %d secrets", len(outputs), len(secrets))
}
