package alert

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/alert/alertprom"
	"github.com/vrrpguard/vrrpguard/rules"
)

// BenchmarkSubmitToWebhook measures the latency from Submit to a local
// webhook receiver having the notification: grouping, the durable outbox
// write (fsync of file and directory), the HTTP POST and the outbox
// removal. The group wait is off here; in production the default adds
// 200ms on purpose. Reported as ms/alert.
func BenchmarkSubmitToWebhook(b *testing.B) {
	got := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		got <- struct{}{}
	}))
	defer srv.Close()
	wh, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	m, err := alertprom.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(Options{StateDir: b.TempDir(), Sinks: []Sink{{Notifier: wh}}, GroupWait: -1,
		Metrics: m, Logger: quietLogger(), RepeatInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var total time.Duration
	n := 0
	for b.Loop() {
		f := finding(rules.DuplicateMaster, uint8(n%255+1), rules.Raised, time.Now())
		// Raise, then resolve, a new problem each time.
		f.Fingerprint = "bench-" + strconv.Itoa(n/2)
		if n%2 == 1 {
			f.State = rules.Resolved
		}
		start := time.Now()
		d.Submit(f)
		<-got
		total += time.Since(start)
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/alert")
}
