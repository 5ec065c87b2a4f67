package alert

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
)

func TestSinksFromConfig(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(secret, []byte("hmac-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
alerts:
  state_dir: ` + dir + `/state
  repeat_interval: 0s
  group_wait: 1s
  webhooks:
    - url: https://hooks.example.com/vrrp?token=abc
      secret_file: ` + secret + `
      headers: {X-Team: netops}
      min_severity: critical
    - url: https://hooks.example.com/vrrp?token=other
      kinds: [duplicate_master]
  alertmanagers:
    - url: http://am1:9093
      timeout: 2s
  email:
    smtp: mail.example.com:587
    from: vrrpguard@example.com
    to: [ops@example.com]
    starttls: always
    username: alerts
    password_env: TEST_SMTP_PASSWORD
`
	f, err := config.ParseYAML(filepath.Join(dir, "vrrpguard.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "TEST_SMTP_PASSWORD" {
			return "pw-from-env"
		}
		return ""
	}
	o, err := OptionsFromConfig(f.Alerts, nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if o.StateDir != dir+"/state" || o.RepeatInterval != -1 || o.GroupWait != time.Second {
		t.Errorf("options %+v", o)
	}
	var names []string
	for _, s := range o.Sinks {
		names = append(names, s.Name())
	}
	want := []string{"webhook:" + redactURL("https://hooks.example.com/vrrp?token=abc"), "webhook:" + redactURL("https://hooks.example.com/vrrp?token=other"),
		"alertmanager:http://am1:9093", "email:mail.example.com:587"}
	if !slices.Equal(names, want) {
		t.Fatalf("sinks %v, want %v", names, want)
	}
	wh := o.Sinks[0].Notifier.(*Webhook)
	if string(wh.o.Secret) != "hmac-key" || wh.o.Headers["X-Team"] != "netops" || o.Sinks[0].Route.MinSeverity != rules.Critical {
		t.Errorf("webhook 0: %+v route %+v", wh.o, o.Sinks[0].Route)
	}
	if r := o.Sinks[1].Route; r.MinSeverity != rules.Warning || !slices.Equal(r.Kinds, []string{"duplicate_master"}) {
		t.Errorf("webhook 1 route %+v", r)
	}
	if _, ok := o.Sinks[2].Notifier.(Refresher); !ok {
		t.Error("alertmanager sink is not a Refresher")
	}
	em := o.Sinks[3].Notifier.(*Email)
	if em.o.Password != "pw-from-env" || em.o.Username != "alerts" || em.o.StartTLS != StartTLSAlways || em.o.Host != "mail.example.com" || em.o.Port != 587 {
		t.Errorf("email %v", em.o)
	}
	if o.Sinks[3].RateLimit != EmailRateLimit {
		t.Errorf("email rate limit %+v", o.Sinks[3].RateLimit)
	}
	if strings.Contains(em.o.String(), "pw-from-env") {
		t.Error("EmailOptions.String shows the password")
	}

	// A missing password variable and an unreadable secret are errors.
	if _, err := SinksFromConfig(f.Alerts, nil, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "TEST_SMTP_PASSWORD") {
		t.Errorf("empty password variable: %v", err)
	}
	f.Alerts.Webhooks[0].SecretFile = filepath.Join(dir, "missing")
	if _, err := SinksFromConfig(f.Alerts, nil, env); err == nil || !strings.Contains(err.Error(), "secret_file") {
		t.Errorf("missing secret file: %v", err)
	}
}

func TestSinksFromConfigPasswordFileAndKeepalived(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp.pw")
	if err := os.WriteFile(pw, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := config.Alerts{StateDir: dir, Email: &config.Email{SMTP: "[::1]:25", From: "a@b.example", To: []string{"c@d.example"}, Username: "u", PasswordFile: pw}}
	sinks, err := SinksFromConfig(a, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if em := sinks[0].Notifier.(*Email); em.o.Password != "from-file" || em.o.Host != "::1" || em.Name() != "email:[::1]:25" {
		t.Errorf("email %v name %s", em.o, em.Name())
	}

	// Without an email section, keepalived's global_defs are used.
	g := &keepalived.Global{File: "/etc/keepalived/keepalived.conf", Line: 3, NotificationEmail: []string{"root@localhost"},
		SMTPServer: "127.0.0.1", SMTPPort: 2525}
	sinks, err = SinksFromConfig(config.Alerts{StateDir: dir}, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sinks) != 1 || sinks[0].Name() != "email:127.0.0.1:2525" || sinks[0].Route.MinSeverity != rules.Warning {
		t.Fatalf("sinks from global_defs: %+v", sinks)
	}
	em := sinks[0].Notifier.(*Email)
	if !strings.HasPrefix(em.o.From, "keepalived@") || em.o.Timeout != DefaultEmailTimeout {
		t.Errorf("keepalived defaults: %v timeout %v", em.o, em.o.Timeout)
	}
	// An email section wins over global_defs.
	sinks, err = SinksFromConfig(a, g, nil)
	if err != nil || len(sinks) != 1 || sinks[0].Name() != "email:[::1]:25" {
		t.Fatalf("email section and global_defs: %v %v", sinks, err)
	}
}

func TestDefaultConfigGivesAWorkingDispatcher(t *testing.T) {
	a := config.Default().Alerts
	a.StateDir = t.TempDir()
	o, err := OptionsFromConfig(a, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.RepeatInterval != 4*time.Hour || o.GroupWait != 200*time.Millisecond || len(o.Sinks) != 0 {
		t.Errorf("default options %+v", o)
	}
	if _, err := New(o); err != nil {
		t.Fatal(err)
	}
	if res := SendTest(context.Background(), o.Sinks, "x"); len(res) != 0 {
		t.Errorf("test results without sinks: %v", res)
	}
}

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ url, want, secret string }{
		{"http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook", ""},
		{"https://user:pw@am.example.com/", "https://am.example.com/#", "pw"},
		{"https://h.example.com/vrrp?token=abc", "https://h.example.com/vrrp#", "abc"},
		{"https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/T0/B0/…#", "XXXXXXXXXXXXXXXX"},
	} {
		got := redactURL(c.url)
		if !strings.HasPrefix(got, c.want) || c.secret != "" && strings.Contains(got, c.secret) {
			t.Errorf("redactURL(%q) = %q, want %q…", c.url, got, c.want)
		}
	}
	if redactURL("https://h.example.com/vrrp?token=a") == redactURL("https://h.example.com/vrrp?token=b") {
		t.Error("different URLs, same name")
	}
	// The same URL twice gets a numbered second name.
	sinks, err := SinksFromConfig(config.Alerts{Webhooks: []config.Webhook{{URL: "http://a/"}, {URL: "http://a/"}}}, nil, nil)
	if err != nil || sinks[0].Name() != "webhook:http://a/" || sinks[1].Name() != "webhook:http://a/#2" {
		t.Errorf("duplicate URLs: %v %v", sinks, err)
	}
}
