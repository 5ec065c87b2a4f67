package alert

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
)

// EmailRateLimit is the rate limit SinksFromConfig gives email sinks: a
// burst of 10 mails, then one per 30s. Notifications over it wait in the
// outbox (and later ones are not merged), so a storm of findings cannot
// flood a mailbox or get the sender blocked.
var EmailRateLimit = RateLimit{Every: 30 * time.Second, Burst: 10}

// OptionsFromConfig returns dispatcher options for the alerts section of a
// configuration: its state directory, intervals and sinks (see
// SinksFromConfig). The caller adds Metrics, Logger and Instance.
func OptionsFromConfig(a config.Alerts, g *keepalived.Global, getenv func(string) string) (Options, error) {
	sinks, err := SinksFromConfig(a, g, getenv)
	if err != nil {
		return Options{}, err
	}
	o := Options{StateDir: a.StateDir, Sinks: sinks, RepeatInterval: a.RepeatInterval, GroupWait: a.GroupWait, HoldFirst: a.HoldFirst}
	// In the configuration 0 means "never" / "no wait"; in Options it
	// means the default.
	if o.RepeatInterval == 0 {
		o.RepeatInterval = -1
	}
	if o.GroupWait == 0 {
		o.GroupWait = -1
	}
	return o, nil
}

// SinksFromConfig builds the sinks of the alerts section: webhooks (with
// the secret read from SecretFile), Alertmanagers and email (with the
// password read from PasswordFile or the environment variable PasswordEnv
// through getenv, default os.Getenv). When the section has no email and g
// (keepalived's global_defs, may be nil) names recipients and an SMTP
// server, mail goes there as keepalived would send it (EmailFromKeepalived).
// Sink names are made unique by appending "#2", "#3"… to repeats.
func SinksFromConfig(a config.Alerts, g *keepalived.Global, getenv func(string) string) ([]Sink, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var sinks []Sink
	var errs []error
	names := map[string]int{}
	unique := func(name string) string {
		names[name]++
		if n := names[name]; n > 1 {
			return name + "#" + strconv.Itoa(n)
		}
		return name
	}
	for i, w := range a.Webhooks {
		o := WebhookOptions{URL: w.URL, Headers: w.Headers, Timeout: w.Timeout}
		if w.SecretFile != "" {
			s, err := readSecret(w.SecretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("alerts.webhooks[%d].secret_file: %w", i, err))
				continue
			}
			o.Secret = []byte(s)
		}
		o.Name = unique("webhook:" + redactURL(w.URL))
		n, err := NewWebhook(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts.webhooks[%d]: %w", i, err))
			continue
		}
		sinks = append(sinks, Sink{Notifier: n, Route: route(w.MinSeverity, w.Kinds)})
	}
	for i, m := range a.Alertmanagers {
		n, err := NewAlertmanager(AlertmanagerOptions{URL: m.URL, Timeout: m.Timeout, Name: unique("alertmanager:" + redactURL(m.URL))})
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts.alertmanagers[%d]: %w", i, err))
			continue
		}
		sinks = append(sinks, Sink{Notifier: n, Route: route(m.MinSeverity, m.Kinds)})
	}
	switch {
	case a.Email != nil:
		o, err := emailFromConfig(*a.Email, getenv)
		if err == nil {
			o.Name = unique("email:" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
			var n *Email
			if n, err = NewEmail(o); err == nil {
				sinks = append(sinks, Sink{Notifier: n, Route: route(a.Email.MinSeverity, a.Email.Kinds), RateLimit: EmailRateLimit})
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts.email: %w", err))
		}
	case g != nil:
		if o := EmailFromKeepalived(*g); o != nil {
			o.Name = unique("email:" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
			n, err := NewEmail(*o)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: global_defs notification_email: %w", location(g), err))
			} else {
				sinks = append(sinks, Sink{Notifier: n, Route: Route{MinSeverity: rules.Warning}, RateLimit: EmailRateLimit})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sinks, nil
}

func location(g *keepalived.Global) string {
	if g.File == "" {
		return "keepalived.conf"
	}
	return g.File + ":" + strconv.Itoa(g.Line)
}

func route(minSeverity string, kinds []string) Route {
	if minSeverity == "" {
		minSeverity = string(rules.Warning)
	}
	return Route{MinSeverity: rules.Severity(minSeverity), Kinds: kinds}
}

func emailFromConfig(m config.Email, getenv func(string) string) (EmailOptions, error) {
	host, portStr, err := net.SplitHostPort(m.SMTP)
	if err != nil {
		return EmailOptions{}, fmt.Errorf("smtp: expected host:port, got %q", m.SMTP)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return EmailOptions{}, fmt.Errorf("smtp: invalid port in %q", m.SMTP)
	}
	o := EmailOptions{
		Host: host, Port: port, StartTLS: m.StartTLS, Username: m.Username,
		From: m.From, To: m.To, Timeout: m.Timeout,
	}
	switch {
	case m.PasswordFile != "":
		if o.Password, err = readSecret(m.PasswordFile); err != nil {
			return EmailOptions{}, fmt.Errorf("password_file: %w", err)
		}
	case m.PasswordEnv != "":
		o.Password = strings.TrimRight(getenv(m.PasswordEnv), "\r\n")
		if o.Password == "" {
			return EmailOptions{}, fmt.Errorf("password_env: environment variable %s is empty or not set", m.PasswordEnv)
		}
	}
	return o, nil
}

// readSecret reads a secret file: its content without a final line break.
// An empty secret is an error. The content never appears in errors.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// EmailFromKeepalived returns email options equivalent to keepalived's own
// SMTP alerts from global_defs (notification_email, notification_email_from,
// smtp_server, smtp_helo_name, smtp_connect_timeout), or nil when it names
// no recipient or no server. Like keepalived the sender defaults to
// keepalived@<host name>; unlike keepalived, STARTTLS is used when the
// server offers it (opportunistically: see StartTLSAuto).
func EmailFromKeepalived(g keepalived.Global) *EmailOptions {
	if len(g.NotificationEmail) == 0 || g.SMTPServer == "" {
		return nil
	}
	o := &EmailOptions{
		Host:     g.SMTPServer,
		Port:     g.SMTPPort,
		StartTLS: StartTLSAuto,
		HeloName: g.SMTPHeloName,
		From:     g.NotificationEmailFrom,
		To:       append([]string(nil), g.NotificationEmail...),
		Timeout:  g.SMTPConnectTimeout,
	}
	if o.Port == 0 {
		o.Port = 25
	}
	if o.From == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "localhost"
		}
		o.From = "keepalived@" + host
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultEmailTimeout
	}
	return o
}
