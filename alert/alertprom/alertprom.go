// Package alertprom records the alert dispatcher's metrics
// (vrrpguard_alerts_*, vrrpguard_alert_delivery_seconds, all labelled by
// sink) in Prometheus collectors: the implementation of alert.Metrics.
package alertprom

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Failure reasons, the values of the label reason of
// vrrpguard_alerts_failed_total.
const (
	ReasonRetryable = "retryable"
	ReasonPermanent = "permanent"
)

// Metrics holds the collectors. Its methods implement alert.Metrics.
type Metrics struct {
	SentTotal       *prometheus.CounterVec   // vrrpguard_alerts_sent_total{sink}
	ResentTotal     *prometheus.CounterVec   // vrrpguard_alerts_resent_total{sink}
	FailedTotal     *prometheus.CounterVec   // vrrpguard_alerts_failed_total{sink,reason}
	RetriesTotal    *prometheus.CounterVec   // vrrpguard_alerts_retries_total{sink}
	Depth           *prometheus.GaugeVec     // vrrpguard_alerts_outbox_depth{sink}
	DroppedTotal    *prometheus.CounterVec   // vrrpguard_alerts_dropped_total{sink}
	Delivery        *prometheus.HistogramVec // vrrpguard_alert_delivery_seconds{sink}
	WriteErrors     *prometheus.CounterVec   // vrrpguard_alerts_outbox_write_errors_total{sink}
	StateUnwritable prometheus.Gauge         // vrrpguard_alerts_state_unwritable
}

// New returns the collectors, registered with reg unless reg is nil. A
// collector reg already holds (the previous dispatcher's, on a reload) is
// reused rather than an error.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		SentTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_sent_total",
			Help: "Notifications accepted by the sink (one notification may carry several alerts).",
		}, []string{"sink"}),
		ResentTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_resent_total",
			Help: "Periodic re-posts of firing alerts accepted by a sink that forgets them otherwise (Alertmanager).",
		}, []string{"sink"}),
		FailedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_failed_total",
			Help: "Failed delivery attempts; reason=retryable will be tried again, reason=permanent was given up.",
		}, []string{"sink", "reason"}),
		RetriesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_retries_total",
			Help: "Delivery attempts after a failed one.",
		}, []string{"sink"}),
		Depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vrrpguard_alerts_outbox_depth",
			Help: "Notifications waiting in the sink's on-disk outbox.",
		}, []string{"sink"}),
		DroppedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_dropped_total",
			Help: "Notifications dropped undelivered because the sink's outbox was full.",
		}, []string{"sink"}),
		Delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vrrpguard_alert_delivery_seconds",
			Help:    "Time from the finding (raise or resolve) to the sink accepting its notification.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"sink"}),
		WriteErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vrrpguard_alerts_outbox_write_errors_total",
			Help: "Failed writes of a notification to the sink's on-disk outbox (sink=\"\": of the firing set); the notification is kept in memory.",
		}, []string{"sink"}),
		StateUnwritable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vrrpguard_alerts_state_unwritable",
			Help: "1 while the alert state directory cannot be written (full or read-only disk; the outbox_unwritable finding is raised), else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.SentTotal = register(reg, m.SentTotal, &err)
	m.ResentTotal = register(reg, m.ResentTotal, &err)
	m.FailedTotal = register(reg, m.FailedTotal, &err)
	m.RetriesTotal = register(reg, m.RetriesTotal, &err)
	m.Depth = register(reg, m.Depth, &err)
	m.DroppedTotal = register(reg, m.DroppedTotal, &err)
	m.Delivery = register(reg, m.Delivery, &err)
	m.WriteErrors = register(reg, m.WriteErrors, &err)
	m.StateUnwritable = register(reg, m.StateUnwritable, &err)
	return m, err
}

// register registers c with reg, or returns the equal collector reg
// already has.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
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

// InitSink creates the sink's series of sent, failed (both reasons),
// retries, dropped, write errors and outbox depth at zero.
func (m *Metrics) InitSink(sink string) {
	m.Depth.WithLabelValues(sink).Set(0)
	m.FailedTotal.WithLabelValues(sink, ReasonRetryable)
	m.FailedTotal.WithLabelValues(sink, ReasonPermanent)
	m.SentTotal.WithLabelValues(sink)
	m.RetriesTotal.WithLabelValues(sink)
	m.DroppedTotal.WithLabelValues(sink)
	m.WriteErrors.WithLabelValues(sink)
}

// Sent counts a notification the sink accepted.
func (m *Metrics) Sent(sink string) { m.SentTotal.WithLabelValues(sink).Inc() }

// Resent counts a re-post of the firing alerts.
func (m *Metrics) Resent(sink string) { m.ResentTotal.WithLabelValues(sink).Inc() }

// Failed counts a failed attempt under reason retryable or permanent.
func (m *Metrics) Failed(sink string, retryable bool) {
	reason := ReasonPermanent
	if retryable {
		reason = ReasonRetryable
	}
	m.FailedTotal.WithLabelValues(sink, reason).Inc()
}

// Retried counts an attempt after a failed one.
func (m *Metrics) Retried(sink string) { m.RetriesTotal.WithLabelValues(sink).Inc() }

// OutboxDepth sets the outbox depth gauge.
func (m *Metrics) OutboxDepth(sink string, n int) { m.Depth.WithLabelValues(sink).Set(float64(n)) }

// Dropped counts notifications dropped from a full outbox.
func (m *Metrics) Dropped(sink string, n int) { m.DroppedTotal.WithLabelValues(sink).Add(float64(n)) }

// Delivered observes a delivery latency in seconds (negative counts as 0).
func (m *Metrics) Delivered(sink string, latency time.Duration) {
	m.Delivery.WithLabelValues(sink).Observe(max(latency, 0).Seconds())
}

// WriteFailed counts a failed write to the sink's outbox.
func (m *Metrics) WriteFailed(sink string) { m.WriteErrors.WithLabelValues(sink).Inc() }

// Unwritable sets the state_unwritable gauge to 1 (on) or 0.
func (m *Metrics) Unwritable(on bool) {
	v := 0.0
	if on {
		v = 1
	}
	m.StateUnwritable.Set(v)
}
