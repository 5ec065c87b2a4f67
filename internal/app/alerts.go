package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
)

// alertFlags are the alert sink flags of watch and test-alert; they add to
// the alerts section of the configuration.
type alertFlags struct {
	webhooks, alertmanagers, mailTo stringList
	smtp, mailFrom, stateDir        *string
	instance                        *string
}

func addAlertFlags(fs *cmdFlags) *alertFlags {
	a := &alertFlags{}
	fs.Var(&a.webhooks, "webhook", "POST findings (Alertmanager webhook JSON) to this URL (repeatable)")
	fs.Var(&a.alertmanagers, "alertmanager", "send findings to this Alertmanager, e.g. http://127.0.0.1:9093 (repeatable)")
	a.smtp = fs.String("smtp", "", "mail findings through this SMTP server (host:port)")
	a.mailFrom = fs.String("mail-from", "", "sender address of alert mail")
	fs.Var(&a.mailTo, "mail-to", "recipient of alert mail (repeatable)")
	a.stateDir = fs.String("state-dir", "", "directory of the alert outbox, kept across restarts (default alerts.state_dir, /var/lib/vrrpguard)")
	host, _ := os.Hostname()
	a.instance = fs.String("instance", host, "name of this watcher in alerts")
	return a
}

// apply merges the flags into the alerts configuration.
func (f *alertFlags) apply(a *config.Alerts) error {
	for _, u := range f.webhooks {
		a.Webhooks = append(a.Webhooks, config.Webhook{URL: u})
	}
	for _, u := range f.alertmanagers {
		a.Alertmanagers = append(a.Alertmanagers, config.Alertmanager{URL: u})
	}
	if *f.smtp != "" || *f.mailFrom != "" || len(f.mailTo) > 0 {
		if *f.smtp == "" || *f.mailFrom == "" || len(f.mailTo) == 0 {
			return fmt.Errorf("mail needs --smtp, --mail-from and at least one --mail-to")
		}
		a.Email = &config.Email{SMTP: *f.smtp, From: *f.mailFrom, To: f.mailTo}
	}
	if *f.stateDir != "" {
		a.StateDir = *f.stateDir
	}
	return nil
}

// keepalivedGlobal is the global_defs of the first keepalived.conf given,
// whose notification_email settings are honoured.
func (s *settings) keepalivedGlobal() *keepalived.Global {
	for _, k := range s.keepalived {
		if k != nil {
			g := k.Global
			return &g
		}
	}
	return nil
}

// alertOptions builds the dispatcher options; ok is false when no sink is
// configured.
func (s *settings) alertOptions(f *alertFlags) (alert.Options, bool, error) {
	if err := f.apply(&s.file.Alerts); err != nil {
		return alert.Options{}, false, err
	}
	o, err := alert.OptionsFromConfig(s.file.Alerts, s.keepalivedGlobal(), os.Getenv)
	if err != nil {
		return alert.Options{}, false, err
	}
	o.Instance = *f.instance
	return o, len(o.Sinks) > 0, nil
}

// startAlerts starts the dispatcher when sinks are configured and returns
// the function to feed findings to, and one that waits until it stopped
// (after ctx is done, with everything persisted).
func startAlerts(ctx context.Context, s *settings, f *alertFlags, reg *prometheus.Registry, log *slog.Logger, pl *pipeline) (wait func(), err error) {
	o, ok, err := s.alertOptions(f)
	if err != nil || !ok {
		return func() {}, err
	}
	o.Registry, o.Logger = reg, log
	var d *alert.Dispatcher
	o.OnDropped = func(n int) {
		// The outbox overflowed: that is a problem worth an alert too.
		now := time.Now()
		d.Submit(rules.Finding{Kind: rules.TableFull, State: rules.Raised, Severity: rules.Warning, FirstSeen: now, LastSeen: now, At: now,
			Message:     "the alert outbox is full: " + strconv.Itoa(n) + " undelivered notifications were dropped — a sink has been unreachable for long; check it and the alerts.* metrics",
			Fingerprint: "alert-outbox-full"})
	}
	d, err = alert.New(o)
	if err != nil {
		return func() {}, err
	}
	names := make([]string, 0, len(o.Sinks))
	for _, sk := range o.Sinks {
		names = append(names, sk.Name())
	}
	log.Info("alerting", "sinks", names, "state_dir", o.StateDir)
	pl.onFinding = append(pl.onFinding, d.Submit)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("alert dispatcher stopped", "err", err)
		}
	}()
	return func() { <-done }, nil
}

func runTestAlert(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("test-alert", "[flags]",
		"Sends a clearly marked test notification through every configured alert sink (from --config\n"+
			"and the flags, as watch would use them) and reports each result. Exit 0 when all accepted it.", stdout, stderr)
	var configs stringList
	fs.Var(&configs, "config", "configuration: vrrpguard YAML or keepalived.conf (notification_email) (repeatable)")
	af := addAlertFlags(fs)
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	set, err := loadSettings(configs, prefixWriter{stderr, "vrrpguard test-alert: "})
	if err != nil {
		configError(stderr, "test-alert", err)
		return ExitError
	}
	o, ok, err := set.alertOptions(af)
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard test-alert: %v\n", err)
		return ExitError
	}
	if !ok {
		fmt.Fprintln(stderr, "vrrpguard test-alert: no alert sink configured (use --webhook, --alertmanager, --smtp/--mail-from/--mail-to or alerts: in --config)")
		return ExitError
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	status := ExitOK
	for _, r := range alert.SendTest(ctx, o.Sinks, o.Instance) {
		if r.Err != nil {
			status = ExitFindings
			kind := "permanent"
			if r.Retryable {
				kind = "temporary"
			}
			fmt.Fprintf(stdout, "FAIL %-40s %s failure after %v: %v\n", r.Sink, kind, r.Duration.Round(time.Millisecond), r.Err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %-40s accepted in %v\n", r.Sink, r.Duration.Round(time.Millisecond))
	}
	return status
}
