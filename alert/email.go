package alert

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	stdmail "net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	mail "gopkg.in/mail.v2"

	"github.com/vrrpguard/vrrpguard/rules"
)

// STARTTLS policies of EmailOptions.StartTLS.
const (
	// StartTLSAuto uses STARTTLS when the server offers it. Without a
	// username this is opportunistic encryption (RFC 7435): the server's
	// certificate is not verified, as between mail servers, so a relay
	// with a self-signed certificate (Debian's postfix default) works.
	// With a username the certificate is verified before credentials are
	// sent.
	StartTLSAuto = "auto"
	// StartTLSAlways requires STARTTLS and a verified certificate; a
	// server that does not offer STARTTLS is a permanent failure.
	StartTLSAlways = "always"
	// StartTLSNever never uses STARTTLS.
	StartTLSNever = "never"
)

func init() {
	// gopkg.in/mail.v2 (v2.3.1) sets its connection deadline only after it
	// has read the server's greeting, so a server that accepts TCP and
	// never greets blocks a delivery forever. Its dial hook (a function
	// variable, set once here before any goroutine runs) bounds the
	// greeting too; mail.v2 moves the deadline on at each later command.
	mail.NetDialTimeout = dialWithDeadline
}

// dialWithDeadline dials like net.DialTimeout and sets the connection's
// deadline to timeout from now.
func dialWithDeadline(network, address string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, timeout)
	if err == nil && timeout > 0 {
		err = c.SetDeadline(time.Now().Add(timeout))
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, err
}

// DefaultEmailTimeout is the default timeout of one SMTP delivery.
const DefaultEmailTimeout = 30 * time.Second

// EmailOptions configure an Email sink.
type EmailOptions struct {
	// Name of the sink (default "email:host:port").
	Name string
	// Host and Port of the SMTP server (port default 25; 465 means TLS
	// from the first byte, "SMTPS").
	Host string
	Port int
	// StartTLS is StartTLSAuto (default), StartTLSAlways or StartTLSNever.
	StartTLS string
	// TLSConfig, if set, is used for TLS (e.g. RootCAs for a private CA);
	// its ServerName defaults to Host. It replaces the policy's own
	// verification choice.
	TLSConfig *tls.Config
	// Username and Password authenticate (AUTH PLAIN, LOGIN or CRAM-MD5,
	// whichever the server offers). Go's PLAIN refuses to send a password
	// over an unencrypted connection except to localhost. The password is
	// never logged or shown by String.
	Username string
	Password string
	// HeloName is the name sent in EHLO (default "localhost").
	HeloName string
	// From is the sender; To the recipients (at least one).
	From string
	To   []string
	// Timeout of one delivery: connect, TLS, AUTH and sending (default
	// DefaultEmailTimeout).
	Timeout time.Duration
}

// String describes the options without the password.
func (o EmailOptions) String() string {
	auth := "no auth"
	if o.Username != "" {
		auth = "user " + o.Username
	}
	return fmt.Sprintf("smtp %s starttls=%s %s from %s to %s", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
		o.StartTLS, auth, o.From, strings.Join(o.To, ","))
}

// LogValue keeps the password out of structured logs.
func (o EmailOptions) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Email sends notifications as plain-text mail through an SMTP server.
type Email struct {
	o    EmailOptions
	from string
	to   []string
}

// NewEmail returns an email notifier.
func NewEmail(o EmailOptions) (*Email, error) {
	if o.Host == "" {
		return nil, errors.New("email: no SMTP host")
	}
	if o.Port == 0 {
		o.Port = 25
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("email: invalid SMTP port %d", o.Port)
	}
	switch o.StartTLS {
	case "":
		o.StartTLS = StartTLSAuto
	case StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		return nil, fmt.Errorf("email: starttls must be auto, always or never, not %q", o.StartTLS)
	}
	if o.Password != "" && o.Username == "" {
		return nil, errors.New("email: a password needs a username")
	}
	from, err := stdmail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %v", o.From, err)
	}
	if len(o.To) == 0 {
		return nil, errors.New("email: no recipients")
	}
	e := &Email{from: from.Address}
	for _, t := range o.To {
		a, err := stdmail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("email: to %q: %v", t, err)
		}
		e.to = append(e.to, a.Address)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultEmailTimeout
	}
	if o.Name == "" {
		o.Name = "email:" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	}
	e.o = o
	return e, nil
}

// Name is the sink's name.
func (e *Email) Name() string { return e.o.Name }

// Notify sends one mail with the alerts. Network errors, timeouts and 4xx
// SMTP replies are retryable; 5xx replies, a missing STARTTLS under
// "always" and TLS certificate errors are not.
func (e *Email) Notify(ctx context.Context, alerts []Alert) (bool, error) {
	if len(alerts) == 0 {
		return false, nil
	}
	return e.deliver(ctx, e.message(alerts))
}

// Send sends one plain-text mail with the given subject and body to the
// sink's recipients, classifying errors as Notify does. It is for mail
// that is not a notification of alerts, such as keepalived's smtp_alert.
func (e *Email) Send(ctx context.Context, subject, body string) (bool, error) {
	m := e.header(subject)
	m.SetBody("text/plain", body)
	return e.deliver(ctx, m)
}

// deliver sends msg within the sink's timeout and ctx.
func (e *Email) deliver(ctx context.Context, msg *mail.Message) (bool, error) {
	timeout := e.o.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	d := &mail.Dialer{
		Host:      e.o.Host,
		Port:      e.o.Port,
		Username:  e.o.Username,
		Password:  e.o.Password,
		SSL:       e.o.Port == 465,
		TLSConfig: e.tlsConfig(),
		LocalName: e.o.HeloName,
		Timeout:   timeout,
	}
	switch e.o.StartTLS {
	case StartTLSAlways:
		d.StartTLSPolicy = mail.MandatoryStartTLS
	case StartTLSNever:
		d.StartTLSPolicy = mail.NoStartTLS
	default:
		d.StartTLSPolicy = mail.OpportunisticStartTLS
	}
	done := make(chan error, 1)
	go func() { done <- e.send(d, msg) }()
	// A safety net: every network operation is bounded by the timeout
	// (dialWithDeadline, mail.v2's own deadlines), so a session needs at
	// most a few of them; the sink's worker never waits longer.
	backstop := time.NewTimer(3 * timeout)
	defer backstop.Stop()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// The SMTP session ends by itself within the timeout.
		return true, fmt.Errorf("%s: %w", e.o.Name, ctx.Err())
	case <-backstop.C:
		return true, fmt.Errorf("%s: smtp session still running after %v: %w", e.o.Name, 3*timeout, os.ErrDeadlineExceeded)
	}
	if err == nil {
		return false, nil
	}
	return retryableSMTP(err), fmt.Errorf("%s: %w", e.o.Name, err)
}

func (e *Email) send(d *mail.Dialer, msg *mail.Message) error {
	s, err := d.Dial()
	if err != nil {
		return err
	}
	if err := s.Send(e.from, e.to, msg); err != nil {
		s.Close()
		return err
	}
	// The message was accepted at the end of DATA; a failing QUIT does not
	// change that.
	_ = s.Close()
	return nil
}

func (e *Email) tlsConfig() *tls.Config {
	if e.o.TLSConfig != nil {
		c := e.o.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = e.o.Host
		}
		return c
	}
	c := &tls.Config{ServerName: e.o.Host, MinVersion: tls.VersionTLS12}
	if e.o.StartTLS == StartTLSAuto && e.o.Username == "" && e.o.Port != 465 {
		// Opportunistic encryption: better than clear text, and no worse
		// when the certificate cannot be verified.
		c.InsecureSkipVerify = true
	}
	return c
}

// retryableSMTP classifies an SMTP delivery error.
func retryableSMTP(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	var (
		su  mail.StartTLSUnsupportedError
		cv  *tls.CertificateVerificationError
		rh  tls.RecordHeaderError
		ae  tls.AlertError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		ne  net.Error
		pe  textproto.ProtocolError
		eno syscall.Errno
	)
	switch {
	case errors.As(err, &su), errors.As(err, &cv), errors.As(err, &rh), errors.As(err, &ae),
		errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return false
	case errors.As(err, &ne), errors.As(err, &pe), errors.As(err, &eno),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, os.ErrDeadlineExceeded):
		return true
	}
	// Anything else is a local refusal, such as net/smtp declining to send
	// a password in clear text: retrying cannot help.
	return false
}

// Subject returns the subject line for a notification of alerts:
// "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0", "[vrrpguard]
// RESOLVED ...", with " (still firing)" on reminders and " (+N more)"
// when several alerts go together.
func Subject(alerts []Alert) string {
	if len(alerts) == 0 {
		return "[vrrpguard] (empty)"
	}
	lead := alerts[leadIndex(alerts)]
	var s string
	switch {
	case lead.isTest():
		s = "[vrrpguard] TEST " + lead.Annotations[AnnotationSummary]
	case lead.Firing():
		s = "[vrrpguard] " + strings.ToUpper(lead.Severity) + " " + lead.Summary()
		if lead.Repeat {
			s += " (still firing)"
		}
	default:
		s = "[vrrpguard] RESOLVED " + lead.Summary()
	}
	if len(alerts) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(alerts)-1)
	}
	return s
}

// leadIndex picks the alert a subject names: firing before resolved, then
// the most severe, then the first.
func leadIndex(alerts []Alert) int {
	best := 0
	score := func(a *Alert) int {
		s := rules.Severity(a.Severity).Rank()
		if a.Firing() {
			s += 10
		}
		return s
	}
	for i := range alerts {
		if score(&alerts[i]) > score(&alerts[best]) {
			best = i
		}
	}
	return best
}

// Body returns the plain-text body for a notification of alerts.
func Body(alerts []Alert) string {
	var b strings.Builder
	order := make([]int, 0, len(alerts))
	lead := leadIndex(alerts)
	order = append(order, lead)
	for i := range alerts {
		if i != lead {
			order = append(order, i)
		}
	}
	for n, i := range order {
		a := &alerts[i]
		if n > 0 {
			b.WriteString("\n" + strings.Repeat("-", 72) + "\n\n")
		}
		writeAlertText(&b, a)
	}
	b.WriteString("\n-- \nvrrpguard, VRRP/keepalived split-brain detector\n")
	return b.String()
}

func writeAlertText(b *strings.Builder, a *Alert) {
	if a.isTest() {
		fmt.Fprintf(b, "%s\n\n%s\n", a.Annotations[AnnotationSummary], a.Annotations[AnnotationDescription])
		if a.Instance != "" {
			fmt.Fprintf(b, "\nSent by:      %s\n", a.Instance)
		}
		return
	}
	state := "FIRING"
	switch {
	case !a.Firing():
		state = "RESOLVED"
	case a.Repeat:
		state = "STILL FIRING"
	}
	fmt.Fprintf(b, "%s: %s %s\n\n", state, strings.ToUpper(a.Severity), a.Summary())
	if a.Message != "" {
		b.WriteString(a.Message + "\n\n")
	}
	field := func(name, v string) {
		if v != "" {
			fmt.Fprintf(b, "%-13s %s\n", name+":", v)
		}
	}
	field("Kind", a.Kind+" ("+a.Severity+")")
	field("Interface", a.Interface)
	field("Family", a.Family)
	if a.VRID != 0 {
		field("VRID", strconv.Itoa(int(a.VRID)))
	}
	field("Routers", strings.Join(a.Sources, ", "))
	field("MACs", strings.Join(a.MACs, ", "))
	field("VIPs", strings.Join(a.VIPs, ", "))
	field("First seen", timeString(a.FirstSeen))
	field("Last seen", timeString(a.LastSeen))
	if !a.Firing() {
		field("Resolved at", timeString(a.EndsAt))
	}
	field("Reported by", a.Instance)
	field("Fingerprint", a.Fingerprint)
	if a.Firing() {
		if c := checks[rules.Kind(a.Kind)]; c != "" {
			b.WriteString("\nWhat to check:\n" + c + "\n")
		}
	}
}

// checks says what to look at for each kind (the README's table).
var checks = map[rules.Kind]string{
	rules.DuplicateMaster: "  Two routers act as master of one VRID: the pair no longer hears each other.\n" +
		"  - firewalls dropping IP protocol 112 (often in one direction): `nft list ruleset` / `iptables -S` on both nodes\n" +
		"  - multicast filtering on the switch (IGMP snooping) for 224.0.0.18 / ff02::12\n" +
		"  - VRID, VRRP version and auth_pass identical on all nodes\n" +
		"  - `ip addr` on both nodes: who holds the VIPs now",
	rules.VIPOnBackup: "  A host that is not the master announces or answers for a virtual address.\n" +
		"  - `ip addr` on the host with the MAC above; remove the address if it was left behind\n" +
		"  - an address conflict with another host",
	rules.AuthMismatch: "  The routers use different authentication, so each discards the other's adverts.\n" +
		"  - the authentication blocks (auth_type, auth_pass: only the first 8 characters count) on all nodes",
	rules.VRIDMismatch: "  The same VIP is advertised under different VRIDs.\n" +
		"  - virtual_router_id on all nodes",
	rules.VRIDConflict: "  One VRID is advertised with different VIP sets.\n" +
		"  - two clusters sharing a VRID on this segment (give each its own)\n" +
		"  - virtual_ipaddress identical on all nodes",
	rules.VersionMismatch:  "  - vrrp_version / version identical on all nodes",
	rules.IntervalMismatch: "  - advert_int identical on all nodes",
	rules.OwnerConflict:    "  - only the real address owner may use priority 255 (state MASTER without priority means 255)",
	rules.MasterFlapping:   "  - keepalived logs, track_script results, link errors and packet loss between the nodes",
	rules.NoMaster: "  Nobody advertises this VRID any more: the virtual addresses are probably unreachable.\n" +
		"  - is keepalived running on the nodes; `ip link` for the interface; the VRID in the configuration",
	rules.TTLInvalid:       "  - the sender: VRRP packets must come from this segment with TTL 255",
	rules.ChecksumInvalid:  "  - NIC error counters and cabling; the sender",
	rules.MalformedPacket:  "  - capture and inspect (`vrrpguard watch --adverts`); the sender",
	rules.UnexpectedRouter: "  - the source named above: a third node, a cloned VM or a forged sender",
	rules.TableFull:        "  - the sources (a flood of forged VRRP?); raise the rules.max_* caps if the traffic is legitimate",
	rules.StaleAnnouncement: "  After a split brain, hosts may still send to the MAC that announced the address last, not to the master.\n" +
		"  - send gratuitous ARPs / unsolicited neighbour advertisements from the master (`arping -U`), or restart keepalived there\n" +
		"  - `ip neigh` on the hosts that cannot reach the address",
	rules.SelfDemoted: "  This node stepped down because a master it cannot validate outranks it.\n" +
		"  - the rival named above: its authentication, VRID, version and addresses against this node's configuration",
	rules.AlertsDropped: "  - the sink named above: is it reachable, does it accept vrrpguard's notifications; the vrrpguard_alerts_* metrics",
	rules.OutboxUnwritable: "  - free space in the directory named above (`df`), its permissions and mount (read-only?);\n" +
		"    vrrpguard_alerts_outbox_write_errors_total",
	rules.CaptureDown: "  - the interface named above (`ip link show`): deleted, renamed or down; the vrrpguard_capture_up metric",
}

// message builds the mail.
func (e *Email) message(alerts []Alert) *mail.Message {
	m := e.header(Subject(alerts))
	fps := make([]string, 0, len(alerts))
	for _, a := range alerts {
		fps = append(fps, a.Fingerprint)
	}
	m.SetHeader("X-Vrrpguard-Fingerprint", strings.Join(fps, ", "))
	m.SetBody("text/plain", Body(alerts))
	return m
}

// header starts a mail with the sink's headers and subject.
func (e *Email) header(subject string) *mail.Message {
	m := mail.NewMessage()
	m.SetHeader("From", e.o.From)
	m.SetHeader("To", e.o.To...)
	m.SetHeader("Subject", subject)
	m.SetDateHeader("Date", time.Now())
	m.SetHeader("Message-ID", messageID(e.from))
	m.SetHeader("Auto-Submitted", "auto-generated")
	return m
}

func messageID(from string) string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	domain := "vrrpguard.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return "<" + hex.EncodeToString(r[:]) + ".vrrpguard@" + domain + ">"
}
