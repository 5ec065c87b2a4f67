package alert

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus collectors, all labelled by sink.
type metrics struct {
	sent     *prometheus.CounterVec
	resent   *prometheus.CounterVec
	failed   *prometheus.CounterVec
	retries  *prometheus.CounterVec
	depth    *prometheus.GaugeVec
	dropped  *prometheus.CounterVec
	delivery *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_sent_total",
			Help: "Notifications accepted by the sink (one notification may carry several alerts).",
		}, []string{"sink"}),
		resent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_resent_total",
			Help: "Periodic re-posts of firing alerts accepted by a sink that forgets them otherwise (Alertmanager).",
		}, []string{"sink"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_failed_total",
			Help: "Failed delivery attempts; reason=retryable will be tried again, reason=permanent was given up.",
		}, []string{"sink", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_retries_total",
			Help: "Delivery attempts after a failed one.",
		}, []string{"sink"}),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vrrpguard_alerts_outbox_depth",
			Help: "Notifications waiting in the sink's on-disk outbox.",
		}, []string{"sink"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_dropped_total",
			Help: "Notifications dropped undelivered because the sink's outbox was full.",
		}, []string{"sink"}),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vrrpguard_alert_delivery_seconds",
			Help:    "Time from the finding (raise or resolve) to the sink accepting its notification.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"sink"}),
	}
	if reg == nil {
		return m, nil
	}
	// A reloaded dispatcher registering again reuses the collectors
	// already there.
	var err error
	m.sent = register(reg, m.sent, &err)
	m.resent = register(reg, m.resent, &err)
	m.failed = register(reg, m.failed, &err)
	m.retries = register(reg, m.retries, &err)
	m.depth = register(reg, m.depth, &err)
	m.dropped = register(reg, m.dropped, &err)
	m.delivery = register(reg, m.delivery, &err)
	return m, err
}

func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = errors.Join(*errp, err)
	}
	return c
}
