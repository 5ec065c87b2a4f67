package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AlertmanagerOptions configure an Alertmanager sink.
type AlertmanagerOptions struct {
	// URL of the Alertmanager, e.g. http://alertmanager:9093 (a path
	// prefix such as /alertmanager is kept). Required.
	URL string
	// Name of the sink (default "alertmanager:" and the URL without user
	// info and query).
	Name string
	// Headers are added to each request (e.g. Authorization for a proxy).
	Headers map[string]string
	// Timeout of one request (default DefaultHTTPTimeout).
	Timeout time.Duration
	// Client sends the requests (default: no redirects followed).
	Client *http.Client
}

// Alertmanager posts alerts to one Prometheus Alertmanager through its v2
// API (POST /api/v2/alerts). Alertmanager resolves an alert that is not
// posted again within its resolve_timeout (default 5m), so it is a
// Refresher: the dispatcher re-posts firing alerts every ResendInterval.
// For a cluster of Alertmanagers configure one sink per member, as
// Prometheus does.
type Alertmanager struct {
	o        AlertmanagerOptions
	endpoint string
}

// PostableAlert is one element of the JSON array posted to
// /api/v2/alerts.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// NewAlertmanager returns an Alertmanager notifier.
func NewAlertmanager(o AlertmanagerOptions) (*Alertmanager, error) {
	if err := completeHTTPSink("alertmanager", o.URL, o.Headers, &o.Name, &o.Timeout, &o.Client); err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.URL)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
	u.RawPath = ""
	return &Alertmanager{o: o, endpoint: u.String()}, nil
}

// Name is the sink's name.
func (m *Alertmanager) Name() string { return m.o.Name }

// NeedsResend is true: Alertmanager forgets alerts not re-sent.
func (m *Alertmanager) NeedsResend() bool { return true }

// Notify posts the alerts. Resolved alerts carry endsAt; firing ones have
// none, so Alertmanager keeps them until its resolve_timeout.
func (m *Alertmanager) Notify(ctx context.Context, alerts []Alert) (bool, error) {
	body, err := json.Marshal(postableAlerts(alerts))
	if err != nil {
		return false, fmt.Errorf("alertmanager %s: %w", m.o.Name, err)
	}
	hdr := http.Header{}
	for k, v := range m.o.Headers {
		hdr.Set(k, v)
	}
	hdr.Set("Content-Type", "application/json")
	return postJSON(ctx, m.o.Client, m.endpoint, hdr, body, m.o.Timeout)
}

func postableAlerts(alerts []Alert) []PostableAlert {
	out := make([]PostableAlert, 0, len(alerts))
	for _, a := range alerts {
		p := PostableAlert{
			Labels:       a.Labels,
			Annotations:  a.Annotations,
			StartsAt:     a.StartsAt.UTC(),
			GeneratorURL: a.GeneratorURL,
		}
		if !a.Firing() {
			p.EndsAt = a.EndsAt.UTC()
			if p.EndsAt.IsZero() {
				p.EndsAt = time.Now().UTC()
			}
			if p.StartsAt.After(p.EndsAt) {
				// Alertmanager rejects an alert ending before it starts.
				p.StartsAt = p.EndsAt
			}
		}
		out = append(out, p)
	}
	return out
}
