package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/alert/alertprom"
	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
)

// alertFlags are the alert sink flags of watch, run and test-alert; they add to
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
	a.instance = fs.String("instance", "", "name of this node in alerts (default: the host name)")
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

// hostname is the name of this node where none is configured.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
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
	if o.Instance == "" {
		o.Instance = hostname()
	}
	return o, len(o.Sinks) > 0, nil
}

// newDispatcher builds the alert dispatcher for o's sinks, with its
// metrics on reg; the caller runs it.
func newDispatcher(o alert.Options, reg *prometheus.Registry, log *slog.Logger) (*alert.Dispatcher, error) {
	if reg != nil {
		m, err := alertprom.New(reg)
		if err != nil {
			return nil, fmt.Errorf("alert metrics: %w", err)
		}
		o.Metrics = m
	}
	o.Logger = log
	d, err := alert.New(o)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(o.Sinks))
	for _, sk := range o.Sinks {
		names = append(names, sk.Name())
	}
	log.Info("alerting", "sinks", names, "state_dir", o.StateDir)
	return d, nil
}

func runTestAlert(ctx context.Context, c *cli, args []string) int {
	stdout, stderr := c.stdout, c.stderr
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
