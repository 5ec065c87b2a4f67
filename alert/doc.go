// Package alert delivers findings to people and systems: email, webhooks
// (Alertmanager's webhook JSON) and Prometheus Alertmanager (API v2),
// durably.
//
// # Wiring
//
//	opts, err := alert.OptionsFromConfig(cfg.Alerts, global, nil)
//	opts.Registry, opts.Logger, opts.Instance = reg, logger, hostname
//	opts.OnDropped = func(n int) { /* raise a finding */ }
//	d, err := alert.New(opts)
//	go d.Run(ctx)          // until ctx is done; persists everything
//	...
//	d.Submit(f)            // for every raised or resolved rules.Finding
//
// # Identity: labels versus annotations
//
// An alert's labels are its identity and are built only from what every
// watcher of a segment sees alike: alertname ("VRRP" + the kind in
// CamelCase), kind, severity, family, vrid and the finding's fingerprint
// (which already leaves the local interface out). Alertmanager merges
// alerts with equal label sets, so two watchers on one segment posting to
// one Alertmanager make one alert there. The watcher's name and its
// interface differ from host to host and are therefore annotations
// (reported_by, interface) together with summary and description; the
// last poster's annotations win in Alertmanager, and the alert stays firing
// there while any watcher still re-posts it. Webhook messages carry the
// same labels and annotations.
//
// # Behaviour
//
// Findings are grouped by fingerprint. The first finding after a quiet
// moment opens a group; everything submitted within GroupWait joins it and
// goes out as one notification per sink. A raise notifies once; further
// raises of an alert already firing update it silently; a resolve notifies;
// a raise and resolve within one group become one resolved alert. Firing
// alerts are notified again every RepeatInterval (marked as reminders) and
// re-posted to Alertmanager every ResendInterval so that its
// resolve_timeout does not resolve them. Each sink has a Route (minimum
// severity, kinds) and an optional RateLimit.
//
// # Durability
//
// Every notification is written to the sink's outbox (fsync of the file and
// of its directory) before the first attempt and removed only once the sink
// accepted it or rejected it permanently; delivery is in order per sink,
// at least once (a notification in flight at a crash is sent again).
// Retryable failures back off exponentially with jitter up to BackoffMax
// (a receiver's Retry-After wins). An outbox holds at most MaxOutbox
// notifications; beyond that the oldest are dropped, counted in
// vrrpguard_alerts_dropped_total and reported through OnDropped. The firing
// set is saved too, so reminders and resolves survive restarts; an alert
// restored from disk that the detection engine does not raise again within
// RestoreGrace is resolved, so nothing stays firing forever because its end
// fell into a restart.
//
// On disk (StateDir): "alert.lock" (flock, one dispatcher per directory),
// "firing.json" ({"version":1,"firing":[{"alert":{…},"lastNotified":…}]})
// and "outbox/<sink>/<20-digit seq>.json", each one notification:
// {"version":1,"seq":N,"sink":NAME,"created":…,"origin":…,"alerts":[…]}
// with alerts in the Alert JSON form.
//
// # Metrics
//
// Per sink: vrrpguard_alerts_sent_total, vrrpguard_alerts_resent_total,
// vrrpguard_alerts_failed_total{reason="retryable"|"permanent"},
// vrrpguard_alerts_retries_total, vrrpguard_alerts_outbox_depth,
// vrrpguard_alerts_dropped_total and the histogram
// vrrpguard_alert_delivery_seconds (finding time to acceptance).
package alert
