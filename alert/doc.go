// Package alert delivers vrrpguard's findings to people and systems —
// email (SMTP, RFC 5321, with STARTTLS, RFC 3207), webhooks in
// Alertmanager's webhook JSON, and Prometheus Alertmanager's API v2 —
// durably: a Dispatcher deduplicates, groups, repeats and resolves alerts
// (policy.go), routes them to sinks (route.go), keeps every notification in
// an on-disk outbox until its sink accepted it (sink.go, outbox.go) and
// delivers through one worker per sink with rate limits and backoff
// (worker.go, ratelimit.go); see New for the wiring and Dispatcher for the
// behaviour.
package alert
