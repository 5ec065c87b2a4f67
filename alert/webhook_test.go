package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// received is one request seen by a test receiver.
type received struct {
	header http.Header
	body   []byte
	path   string
}

// receiver is an httptest server that records requests and answers with
// scripted handlers (then 200).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []received
	script []http.HandlerFunc
	got    chan struct{}
}

func newReceiver(t *testing.T, script ...http.HandlerFunc) *receiver {
	r := &receiver{script: script, got: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: body, path: req.URL.Path})
		var h http.HandlerFunc
		if len(r.script) > 0 {
			h, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		r.got <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func status(code int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func mustWebhook(t *testing.T, o WebhookOptions) *Webhook {
	t.Helper()
	w, err := NewWebhook(o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func testAlerts() []Alert {
	t0 := time.Date(2026, 11, 23, 22, 13, 12, 783_000_000, time.UTC)
	raised := FromFinding(finding(rules.DuplicateMaster, 51, rules.Raised, t0), "watcher-a")
	raised.GeneratorURL = "http://watcher-a:9812/"
	res := finding(rules.AuthMismatch, 51, rules.Resolved, t0.Add(time.Minute))
	resolved := FromFinding(res, "watcher-a")
	resolved.GeneratorURL = "http://watcher-a:9812/"
	return []Alert{raised, resolved}
}

func TestWebhookPayloadIsAlertmanagerFormat(t *testing.T) {
	rcv := newReceiver(t)
	w := mustWebhook(t, WebhookOptions{URL: rcv.URL + "/hook?token=s3cret", Name: "ops-hook"})
	retry, err := w.Notify(context.Background(), testAlerts())
	if err != nil || retry {
		t.Fatalf("Notify: %v %v", retry, err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if ct := reqs[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if reqs[0].header.Get(SignatureHeader) != "" {
		t.Errorf("signed without a secret")
	}
	// The exact field set of Alertmanager's webhook (version 4).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(reqs[0].body, &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"alerts", "commonAnnotations", "commonLabels", "externalURL", "groupKey", "groupLabels", "receiver", "status", "truncatedAlerts", "version"}
	if !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v, want %v", keys, want)
	}
	var rawAlerts []map[string]json.RawMessage
	if err := json.Unmarshal(raw["alerts"], &rawAlerts); err != nil {
		t.Fatal(err)
	}
	for _, a := range rawAlerts {
		keys = keys[:0]
		for k := range a {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "startsAt", "status"}; !slices.Equal(keys, want) {
			t.Errorf("alert keys %v, want %v", keys, want)
		}
	}

	var m WebhookMessage
	if err := json.Unmarshal(reqs[0].body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != "4" || m.Status != "firing" || m.Receiver != "ops-hook" || m.ExternalURL != "http://watcher-a:9812/" || m.TruncatedAlerts != 0 {
		t.Errorf("message header: %+v", m)
	}
	if m.GroupKey != `{}:{fingerprint=~"^(?:fp-auth_mismatch-51|fp-duplicate_master-51)$"}` {
		t.Errorf("groupKey %q", m.GroupKey)
	}
	if len(m.GroupLabels) != 0 {
		t.Errorf("groupLabels %v", m.GroupLabels)
	}
	wantCommon := map[string]string{"family": "ipv4", "vrid": "51"}
	if !mapsEqual(m.CommonLabels, wantCommon) {
		t.Errorf("commonLabels %v, want %v", m.CommonLabels, wantCommon)
	}
	if m.CommonAnnotations["reported_by"] != "watcher-a" || m.CommonAnnotations["interface"] != "eth0" {
		t.Errorf("commonAnnotations %v", m.CommonAnnotations)
	}
	if len(m.Alerts) != 2 {
		t.Fatalf("%d alerts", len(m.Alerts))
	}
	a := m.Alerts[0]
	wantLabels := map[string]string{"alertname": "VRRPDuplicateMaster", "kind": "duplicate_master", "severity": "critical",
		"family": "ipv4", "vrid": "51", "fingerprint": "fp-duplicate_master-51"}
	if !mapsEqual(a.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", a.Labels, wantLabels)
	}
	if a.Status != "firing" || a.Fingerprint != "fp-duplicate_master-51" || a.GeneratorURL != "http://watcher-a:9812/" {
		t.Errorf("alert %+v", a)
	}
	if got := string(rawAlerts[0]["endsAt"]); got != `"0001-01-01T00:00:00Z"` {
		t.Errorf("firing endsAt %s, want Alertmanager's zero time", got)
	}
	if got := string(rawAlerts[0]["startsAt"]); got != `"2026-11-23T22:13:11.783Z"` {
		t.Errorf("startsAt %s", got)
	}
	if a.Annotations["summary"] != "duplicate_master VRID 51 on eth0" {
		t.Errorf("summary %q", a.Annotations["summary"])
	}
	for _, s := range []string{"duplicate_master on VRID 51", "sources: 10.0.0.1, 10.0.0.2", "MACs: 02:00:00:00:de:01, 02:00:00:00:de:02",
		"VIPs: 10.0.0.100", "first seen: 2026-11-23T22:13:11.783Z", "last seen: 2026-11-23T22:13:12.783Z"} {
		if !strings.Contains(a.Annotations["description"], s) {
			t.Errorf("description lacks %q:\n%s", s, a.Annotations["description"])
		}
	}
	r := m.Alerts[1]
	if r.Status != "resolved" || !r.EndsAt.Equal(time.Date(2026, 11, 23, 22, 14, 12, 783_000_000, time.UTC)) {
		t.Errorf("resolved alert %+v", r)
	}

	// A message of resolved alerts only is "resolved".
	if _, err := w.Notify(context.Background(), testAlerts()[1:]); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rcv.requests()[1].body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Status != "resolved" || m.GroupKey != `{}:{fingerprint="fp-auth_mismatch-51"}` {
		t.Errorf("resolved message: status %s groupKey %s", m.Status, m.GroupKey)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestWebhookSignatureAndHeaders(t *testing.T) {
	secret := []byte("correct horse battery staple")
	rcv := newReceiver(t)
	w := mustWebhook(t, WebhookOptions{URL: rcv.URL, Secret: secret, Headers: map[string]string{
		"Authorization": "Bearer abc", "X-Team": "netops", "Content-Type": "text/plain",
	}})
	if _, err := w.Notify(context.Background(), testAlerts()); err != nil {
		t.Fatal(err)
	}
	req := rcv.requests()[0]
	sig := req.header.Get(SignatureHeader)
	mac := hmac.New(sha256.New, secret)
	mac.Write(req.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("signature %q, want %q", sig, want)
	}
	if !VerifySignature(secret, req.body, sig) {
		t.Error("VerifySignature rejects a valid signature")
	}
	if VerifySignature([]byte("other"), req.body, sig) || VerifySignature(secret, append(req.body, ' '), sig) {
		t.Error("VerifySignature accepts a wrong secret or body")
	}
	if req.header.Get("Authorization") != "Bearer abc" || req.header.Get("X-Team") != "netops" {
		t.Errorf("custom headers missing: %v", req.header)
	}
	if req.header.Get("Content-Type") != "application/json" {
		t.Errorf("a custom header replaced Content-Type: %q", req.header.Get("Content-Type"))
	}
}

func TestWebhookErrorClassification(t *testing.T) {
	long := strings.Repeat("x", 2000)
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		retry      bool
		retryAfter time.Duration
		contains   string
	}{
		{"500", status(500, "database down"), true, 0, "HTTP 500"},
		{"503 retry-after", status(503, "", "Retry-After", "120"), true, 120 * time.Second, "HTTP 503"},
		{"429 retry-after", status(429, "slow down", "Retry-After", "7"), true, 7 * time.Second, "slow down"},
		{"400", status(400, `{"error":"bad payload"}`), false, 0, "bad payload"},
		{"404", status(404, long), false, 0, "HTTP 404"},
		{"redirect not followed", status(302, "", "Location", "http://127.0.0.1:1/elsewhere"), false, 0, "HTTP 302"},
		{"201", status(201, ""), false, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := newReceiver(t, c.handler)
			w := mustWebhook(t, WebhookOptions{URL: rcv.URL + "/?token=secret-token"})
			retry, err := w.Notify(context.Background(), testAlerts())
			if c.contains == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if retry != c.retry {
				t.Errorf("retry=%v, want %v (%v)", retry, c.retry, err)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Errorf("error %q lacks %q", err, c.contains)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error leaks the URL's query: %v", err)
			}
			if len(err.Error()) > 700 {
				t.Errorf("response body not truncated: %d bytes", len(err.Error()))
			}
			ra, _ := RetryAfter(err)
			if ra != c.retryAfter {
				t.Errorf("RetryAfter %v, want %v", ra, c.retryAfter)
			}
			if len(rcv.requests()) != 1 {
				t.Errorf("%d requests, want 1", len(rcv.requests()))
			}
		})
	}
}

func TestWebhookNetworkErrorIsRetryable(t *testing.T) {
	port := freePort(t) // nothing listens there
	w := mustWebhook(t, WebhookOptions{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/hook?token=secret-token"})
	retry, err := w.Notify(context.Background(), testAlerts())
	if err == nil || !retry {
		t.Fatalf("connection refused: retry=%v err=%v", retry, err)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error leaks the URL's query: %v", err)
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	w := mustWebhook(t, WebhookOptions{URL: rcv.URL, Timeout: 50 * time.Millisecond})
	retry, err := w.Notify(context.Background(), testAlerts())
	if err == nil || !retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: retry=%v err=%v", retry, err)
	}
}

func TestWebhookRejectsBadOptions(t *testing.T) {
	for _, o := range []WebhookOptions{
		{URL: "ftp://example.com/"},
		{URL: "http://"},
		{URL: "http://127.0.0.1/", Headers: map[string]string{"Bad Header": "x"}},
	} {
		if _, err := NewWebhook(o); err == nil {
			t.Errorf("NewWebhook(%+v) accepted", o)
		}
	}
}

// TestDispatcherToWebhookRetries runs the real dispatcher against a real
// HTTP receiver that fails twice (500, then 429) before accepting.
func TestDispatcherToWebhookRetries(t *testing.T) {
	rcv := newReceiver(t, status(500, "boom"), status(429, "", "Retry-After", "1"))
	w := mustWebhook(t, WebhookOptions{URL: rcv.URL})
	r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: w}}, GroupWait: -1, BackoffBase: 10 * time.Millisecond})
	defer r.stop(t)
	r.d.Submit(finding(rules.DuplicateMaster, 51, rules.Raised, time.Now()))
	waitFor(t, 30*time.Second, "delivery", func() bool { return r.counter("sent", w.Name()) == 1 })
	reqs := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i := range reqs {
		if string(reqs[i].body) != string(reqs[0].body) {
			t.Errorf("retry %d changed the body", i)
		}
	}
	if got := r.counter("failed", w.Name(), "retryable"); got != 2 {
		t.Errorf("failed{retryable} %v", got)
	}
}
