package alertprom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/alert/alertprom"
)

var _ alert.Metrics = (*alertprom.Metrics)(nil)

// registered returns a new registry and the metrics registered with it.
func registered(t *testing.T) (*prometheus.Registry, *alertprom.Metrics) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := alertprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return reg, m
}

// TestRecordsUnderTheDocumentedNames checks names, help, labels and buckets
// in the exposition format, as a scraper sees them.
func TestRecordsUnderTheDocumentedNames(t *testing.T) {
	reg, m := registered(t)
	m.InitSink("s")
	m.Sent("s")
	m.Resent("s")
	m.Failed("s", true)
	m.Failed("s", true)
	m.Failed("s", false)
	m.Retried("s")
	m.OutboxDepth("s", 7)
	m.Dropped("s", 3)
	m.Delivered("s", 700*time.Millisecond)
	m.Delivered("s", -time.Second) // clock step: counts as 0
	m.WriteFailed("s")
	m.WriteFailed("s")
	m.Unwritable(true)
	want := `
# HELP vrrpguard_alert_delivery_seconds Time from the finding (raise or resolve) to the sink accepting its notification.
# TYPE vrrpguard_alert_delivery_seconds histogram
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="0.05"} 1
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="0.1"} 1
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="0.25"} 1
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="0.5"} 1
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="1"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="2.5"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="5"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="10"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="30"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="60"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="300"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="900"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="3600"} 2
vrrpguard_alert_delivery_seconds_bucket{sink="s",le="+Inf"} 2
vrrpguard_alert_delivery_seconds_sum{sink="s"} 0.7
vrrpguard_alert_delivery_seconds_count{sink="s"} 2
# HELP vrrpguard_alerts_dropped_total Notifications dropped undelivered because the sink's outbox was full.
# TYPE vrrpguard_alerts_dropped_total counter
vrrpguard_alerts_dropped_total{sink="s"} 3
# HELP vrrpguard_alerts_failed_total Failed delivery attempts; reason=retryable will be tried again, reason=permanent was given up.
# TYPE vrrpguard_alerts_failed_total counter
vrrpguard_alerts_failed_total{reason="permanent",sink="s"} 1
vrrpguard_alerts_failed_total{reason="retryable",sink="s"} 2
# HELP vrrpguard_alerts_outbox_depth Notifications waiting in the sink's on-disk outbox.
# TYPE vrrpguard_alerts_outbox_depth gauge
vrrpguard_alerts_outbox_depth{sink="s"} 7
# HELP vrrpguard_alerts_outbox_write_errors_total Failed writes of a notification to the sink's on-disk outbox (sink="": of the firing set); the notification is kept in memory.
# TYPE vrrpguard_alerts_outbox_write_errors_total counter
vrrpguard_alerts_outbox_write_errors_total{sink="s"} 2
# HELP vrrpguard_alerts_resent_total Periodic re-posts of firing alerts accepted by a sink that forgets them otherwise (Alertmanager).
# TYPE vrrpguard_alerts_resent_total counter
vrrpguard_alerts_resent_total{sink="s"} 1
# HELP vrrpguard_alerts_retries_total Delivery attempts after a failed one.
# TYPE vrrpguard_alerts_retries_total counter
vrrpguard_alerts_retries_total{sink="s"} 1
# HELP vrrpguard_alerts_sent_total Notifications accepted by the sink (one notification may carry several alerts).
# TYPE vrrpguard_alerts_sent_total counter
vrrpguard_alerts_sent_total{sink="s"} 1
# HELP vrrpguard_alerts_state_unwritable 1 while the alert state directory cannot be written (full or read-only disk; the outbox_unwritable finding is raised), else 0.
# TYPE vrrpguard_alerts_state_unwritable gauge
vrrpguard_alerts_state_unwritable 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestInitSinkCreatesZeroSeries: a sink's series exist before anything
// happened to it (resent and the histogram only once used).
func TestInitSinkCreatesZeroSeries(t *testing.T) {
	_, m := registered(t)
	m.InitSink("s")
	if n := testutil.CollectAndCount(m.FailedTotal); n != 2 {
		t.Errorf("%d failed series, want retryable and permanent", n)
	}
	for name, c := range map[string]prometheus.Collector{"sent": m.SentTotal, "retries": m.RetriesTotal, "dropped": m.DroppedTotal, "depth": m.Depth} {
		if n := testutil.CollectAndCount(c); n != 1 {
			t.Errorf("%s: %d series, want 1", name, n)
		}
	}
	if n := testutil.CollectAndCount(m.ResentTotal) + testutil.CollectAndCount(m.Delivery); n != 0 {
		t.Errorf("%d resent/delivery series before any use, want 0", n)
	}
}

// TestRegisterTwiceReusesCollectors: a reloaded dispatcher registering on
// the same registry keeps counting in the same series.
func TestRegisterTwiceReusesCollectors(t *testing.T) {
	reg, a := registered(t)
	a.Sent("s")
	b, err := alertprom.New(reg)
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	b.Sent("s")
	if a.SentTotal != b.SentTotal || a.Delivery != b.Delivery || a.Depth != b.Depth {
		t.Error("second registration made new collectors")
	}
	if got := testutil.ToFloat64(b.SentTotal.WithLabelValues("s")); got != 2 {
		t.Errorf("sent %v, want 2", got)
	}
}

// TestRegisterConflictIsAnError: a different collector under one of the
// names is reported, not hidden.
func TestRegisterConflictIsAnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "vrrpguard_alerts_sent_total", Help: "x"}))
	if _, err := alertprom.New(reg); err == nil {
		t.Error("conflicting registration accepted")
	}
}

// TestNilRegistry: collectors that work without being registered.
func TestNilRegistry(t *testing.T) {
	m, err := alertprom.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Dropped("s", 2)
	if got := testutil.ToFloat64(m.DroppedTotal.WithLabelValues("s")); got != 2 {
		t.Errorf("dropped %v, want 2", got)
	}
}
