package alert_test

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/alert/alertprom"
	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/rules"
)

// The wiring of a watcher: options from the configuration, Prometheus
// metrics, Run until the context is done (it persists everything), and
// every raised or resolved finding handed to Submit.
func ExampleNew() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The alerts section of the configuration.
	cfg := config.Alerts{StateDir: "/var/lib/vrrpguard", Webhooks: []config.Webhook{{URL: "http://127.0.0.1:9000/hook"}}}
	opts, err := alert.OptionsFromConfig(cfg, nil, nil)
	if err != nil {
		slog.Error("alerts", "err", err)
		return
	}
	if opts.Metrics, err = alertprom.New(prometheus.NewRegistry()); err != nil {
		slog.Error("alert metrics", "err", err)
		return
	}
	opts.Instance = "lb-monitor-1"
	d, err := alert.New(opts)
	if err != nil {
		slog.Error("alerts", "err", err)
		return
	}
	go d.Run(ctx)
	findings := make(chan rules.Finding) // from the detection engine
	close(findings)                      // (this example has none)
	for f := range findings {
		d.Submit(f)
	}
}
