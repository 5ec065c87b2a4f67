package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook body when a secret is
// configured: "sha256=" followed by the hex digest of the exact body bytes.
const SignatureHeader = "X-Vrrpguard-Signature"

// DefaultHTTPTimeout is the default timeout of one webhook or Alertmanager
// request.
const DefaultHTTPTimeout = 5 * time.Second

// WebhookMessage is the JSON body a webhook receives: Alertmanager's webhook
// format (version 4), so receivers written for Alertmanager work unchanged.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a WebhookMessage. EndsAt is
// 0001-01-01T00:00:00Z while firing, as in Alertmanager.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// URL to POST to (required).
	URL string
	// Name of the sink (default "webhook:" and the URL without user info
	// and query). It is also the message's receiver.
	Name string
	// Secret, if set, signs each body (SignatureHeader).
	Secret []byte
	// Headers are added to each request (they cannot replace Content-Type
	// or the signature).
	Headers map[string]string
	// Timeout of one request (default DefaultHTTPTimeout).
	Timeout time.Duration
	// Client sends the requests (default: a client that does not follow
	// redirects, so a signed body never goes elsewhere).
	Client *http.Client
}

// Webhook POSTs notifications as Alertmanager webhook JSON.
type Webhook struct {
	o WebhookOptions
}

// NewWebhook returns a webhook notifier.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	if err := completeHTTPSink("webhook", o.URL, o.Headers, &o.Name, &o.Timeout, &o.Client); err != nil {
		return nil, err
	}
	return &Webhook{o: o}, nil
}

// completeHTTPSink checks the options every HTTP sink (kind "webhook" or
// "alertmanager") shares and fills in their defaults.
func completeHTTPSink(kind, rawURL string, headers map[string]string, name *string, timeout *time.Duration, client **http.Client) error {
	if err := checkHTTPURL(rawURL); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	for k := range headers {
		if !validHeaderName(k) {
			return fmt.Errorf("%s %s: invalid header name %q", kind, redactURL(rawURL), k)
		}
	}
	if *name == "" {
		*name = kind + ":" + redactURL(rawURL)
	}
	if *timeout <= 0 {
		*timeout = DefaultHTTPTimeout
	}
	if *client == nil {
		*client = newHTTPClient()
	}
	return nil
}

// Name is the sink's name.
func (w *Webhook) Name() string { return w.o.Name }

// Notify POSTs one message with the alerts.
func (w *Webhook) Notify(ctx context.Context, alerts []Alert) (bool, error) {
	body, err := json.Marshal(webhookMessage(w.o.Name, alerts))
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", w.o.Name, err)
	}
	hdr := http.Header{}
	for k, v := range w.o.Headers {
		hdr.Set(k, v)
	}
	hdr.Set("Content-Type", "application/json")
	if len(w.o.Secret) > 0 {
		hdr.Set(SignatureHeader, Sign(w.o.Secret, body))
	}
	return postJSON(ctx, w.o.Client, w.o.URL, hdr, body, w.o.Timeout)
}

// Sign returns the SignatureHeader value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header (a SignatureHeader value) is the
// signature of body with secret, in constant time. For receivers.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(header)))
}

// webhookMessage builds the Alertmanager webhook body for alerts.
func webhookMessage(receiver string, alerts []Alert) WebhookMessage {
	m := WebhookMessage{
		Version:     "4",
		Status:      StatusResolved,
		Receiver:    receiver,
		GroupLabels: map[string]string{},
		Alerts:      make([]WebhookAlert, 0, len(alerts)),
	}
	fps := make([]string, 0, len(alerts))
	labels := make([]map[string]string, 0, len(alerts))
	annotations := make([]map[string]string, 0, len(alerts))
	for _, a := range alerts {
		if a.Firing() {
			m.Status = StatusFiring
		}
		wa := WebhookAlert{
			Status:       a.Status,
			Labels:       a.Labels,
			Annotations:  a.Annotations,
			StartsAt:     a.StartsAt.UTC(),
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  a.Fingerprint,
		}
		if !a.Firing() {
			wa.EndsAt = a.EndsAt.UTC()
		}
		if wa.Labels == nil {
			wa.Labels = map[string]string{}
		}
		if wa.Annotations == nil {
			wa.Annotations = map[string]string{}
		}
		if m.ExternalURL == "" {
			m.ExternalURL = a.GeneratorURL
		}
		m.Alerts = append(m.Alerts, wa)
		fps = append(fps, a.Fingerprint)
		labels = append(labels, wa.Labels)
		annotations = append(annotations, wa.Annotations)
	}
	m.CommonLabels = common(labels)
	m.CommonAnnotations = common(annotations)
	slices.Sort(fps)
	fps = slices.Compact(fps)
	if len(fps) == 1 {
		m.GroupKey = `{}:{fingerprint="` + fps[0] + `"}`
	} else {
		m.GroupKey = `{}:{fingerprint=~"^(?:` + strings.Join(fps, "|") + `)$"}`
	}
	return m
}

// common returns the pairs present with the same value in every map.
func common(ms []map[string]string) map[string]string {
	out := map[string]string{}
	if len(ms) == 0 {
		return out
	}
	for k, v := range ms[0] {
		same := true
		for _, m := range ms[1:] {
			if w, ok := m[k]; !ok || w != v {
				same = false
				break
			}
		}
		if same {
			out[k] = v
		}
	}
	return out
}

// postJSON POSTs body and classifies the outcome.
func postJSON(ctx context.Context, c *http.Client, u string, hdr http.Header, body []byte, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", redactURL(u), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "vrrpguard")
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redactURL(ue.URL)
		}
		// Network errors, timeouts and cancellation: try again later.
		return true, err
	}
	return checkHTTPReply(resp, redactURL(u), time.Now())
}

// newHTTPClient returns a client that does not follow redirects.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func checkHTTPURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", redactURL(u))
	}
	if p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return fmt.Errorf("expected an http or https URL, got %q", redactURL(u))
	}
	return nil
}

// validHeaderName reports whether s is an HTTP header field name (token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c) {
			continue
		}
		return false
	}
	return true
}
