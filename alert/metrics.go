package alert

import "time"

// Metrics records what the dispatcher does, per sink. Package alertprom
// implements it with Prometheus collectors (vrrpguard_alerts_*); the
// methods are called from several goroutines at once.
type Metrics interface {
	// InitSink is called once per sink by New, so that a sink's series
	// exist (at zero) before anything happened to it.
	InitSink(sink string)
	// Sent counts a notification the sink accepted.
	Sent(sink string)
	// Resent counts a periodic re-post of the firing alerts accepted by a
	// Refresher.
	Resent(sink string)
	// Failed counts a failed delivery attempt: retryable ones are tried
	// again, the others were given up.
	Failed(sink string, retryable bool)
	// Retried counts a delivery attempt after a failed one.
	Retried(sink string)
	// OutboxDepth sets the number of notifications waiting in the sink's
	// outbox.
	OutboxDepth(sink string, n int)
	// Dropped counts notifications dropped undelivered from a full outbox.
	Dropped(sink string, n int)
	// Delivered records the time from a notification's finding (raise or
	// resolve) to the sink accepting it.
	Delivered(sink string, latency time.Duration)
	// WriteFailed counts a failed write of a notification to the sink's
	// outbox (sink "" for the firing set): the state directory is full or
	// read-only.
	WriteFailed(sink string)
	// Unwritable sets whether the state directory cannot be written now
	// (the outbox_unwritable finding is raised).
	Unwritable(on bool)
}

// nopMetrics is the Metrics of a dispatcher without Options.Metrics.
type nopMetrics struct{}

func (nopMetrics) InitSink(string)                 {}
func (nopMetrics) Sent(string)                     {}
func (nopMetrics) Resent(string)                   {}
func (nopMetrics) Failed(string, bool)             {}
func (nopMetrics) Retried(string)                  {}
func (nopMetrics) OutboxDepth(string, int)         {}
func (nopMetrics) Dropped(string, int)             {}
func (nopMetrics) Delivered(string, time.Duration) {}
func (nopMetrics) WriteFailed(string)              {}
func (nopMetrics) Unwritable(bool)                 {}
