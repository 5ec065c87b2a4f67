package alert

import (
	"context"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// TestResult is the outcome of a test notification to one sink.
type TestResult struct {
	Sink string
	// Err is nil when the sink accepted the notification.
	Err error
	// Retryable tells whether the failure looked temporary.
	Retryable bool
	Duration  time.Duration
}

// SendTest sends a clearly marked test notification (alertname
// VRRPGuardTest, summary "vrrpguard test notification — ignore") through
// every sink directly, bypassing routes, rate limits and the outbox, and
// reports each result, in sink order.
func (d *Dispatcher) SendTest(ctx context.Context) []TestResult {
	sinks := make([]Sink, len(d.sinks))
	for i, s := range d.sinks {
		sinks[i] = s.Sink
	}
	return SendTest(ctx, sinks, d.o.Instance)
}

// SendTest sends the test notification through each sink concurrently
// (see Dispatcher.SendTest); instance goes into the reported_by
// annotation.
func SendTest(ctx context.Context, sinks []Sink, instance string) []TestResult {
	out := make([]TestResult, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		wg.Go(func() {
			start := time.Now()
			a := testAlert(instance, start)
			retry, err := s.Notify(ctx, []Alert{a})
			out[i] = TestResult{Sink: s.Name(), Err: err, Retryable: err != nil && retry, Duration: time.Since(start)}
		})
	}
	wg.Wait()
	return out
}

// testAlert is the clearly marked notification SendTest sends.
func testAlert(instance string, now time.Time) Alert {
	a := Alert{
		Fingerprint: "vrrpguard-test",
		Status:      StatusFiring,
		Labels: map[string]string{
			LabelAlertName: TestAlertName,
			LabelSeverity:  string(rules.Info),
		},
		Annotations: map[string]string{
			AnnotationSummary: "vrrpguard test notification — ignore",
			AnnotationDescription: "This is a test notification sent by `vrrpguard test-alert` to check that " +
				"alerts reach this receiver. It reports no problem; ignore it.",
		},
		StartsAt: now.UTC(),
		Kind:     "test",
		Severity: string(rules.Info),
		At:       now.UTC(),
		Message:  "vrrpguard test notification — ignore",
		Instance: instance,
	}
	if instance != "" {
		a.Annotations[AnnotationReportedBy] = instance
	}
	return a
}
