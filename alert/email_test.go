package alert

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mail "gopkg.in/mail.v2"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/rules"
)

// selfSignedCert writes a self-signed certificate for 127.0.0.1 and
// localhost and returns the file names and a pool trusting it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vrrpguard test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// mailpit is a running mailpit (SMTP + HTTP API on 127.0.0.1).
type mailpit struct {
	smtpPort int
	api      string
}

// startMailpit runs mailpit with extra flags until the test ends.
func startMailpit(t *testing.T, flags ...string) *mailpit {
	t.Helper()
	testenv.RequireTools(t, "mailpit")
	var out syncBuffer
	for attempt := 0; ; attempt++ {
		m := &mailpit{smtpPort: freePort(t)}
		httpPort := freePort(t)
		m.api = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		args := append([]string{
			"--smtp", "127.0.0.1:" + strconv.Itoa(m.smtpPort),
			"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
			"--database", filepath.Join(t.TempDir(), "mailpit.db"),
			"--disable-version-check", "--smtp-disable-rdns",
		}, flags...)
		cmd := exec.Command("mailpit", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("mailpit output:\n%s", out.String())
			}
		})
		deadline := time.Now().Add(30 * time.Second)
		for {
			select {
			case <-exited:
				if attempt < 3 && strings.Contains(out.String(), "address already in use") {
					goto retry
				}
				t.Fatalf("mailpit exited:\n%s", out.String())
			default:
			}
			if resp, err := http.Get(m.api + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(m.smtpPort)); err == nil {
						c.Close()
						return m
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("mailpit not ready:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	retry:
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mailpitMessage is what mailpit's API tells about a message.
type mailpitMessage struct {
	ID       string
	Subject  string
	From     struct{ Address string }
	To       []struct{ Address string }
	Username string
	Text     string
}

func (m *mailpit) messages(t *testing.T) []mailpitMessage {
	t.Helper()
	var list struct{ Messages []mailpitMessage }
	m.getJSON(t, "/api/v1/messages", &list)
	out := make([]mailpitMessage, 0, len(list.Messages))
	for _, s := range list.Messages {
		var full mailpitMessage
		m.getJSON(t, "/api/v1/message/"+s.ID, &full)
		out = append(out, full)
	}
	return out
}

func (m *mailpit) headers(t *testing.T, id string) map[string][]string {
	var h map[string][]string
	m.getJSON(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

func (m *mailpit) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// chaos sets mailpit's failure triggers (needs --enable-chaos).
func (m *mailpit) chaos(t *testing.T, trigger string, code, probability int) {
	t.Helper()
	body := fmt.Sprintf(`{%q:{"ErrorCode":%d,"Probability":%d}}`, trigger, code, probability)
	req, _ := http.NewRequest(http.MethodPut, m.api+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT chaos: %s", resp.Status)
	}
}

func mustEmail(t *testing.T, o EmailOptions) *Email {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.From == "" {
		o.From = "vrrpguard@watcher-a.example"
	}
	if o.To == nil {
		o.To = []string{"netops@example.com", "Oncall <oncall@example.com>"}
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	e, err := NewEmail(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmailMailpitPlain(t *testing.T) {
	mp := startMailpit(t)
	e := mustEmail(t, EmailOptions{Port: mp.smtpPort})
	alerts := testAlerts()
	if retry, err := e.Notify(context.Background(), alerts); err != nil {
		t.Fatalf("Notify: retry=%v %v", retry, err)
	}
	msgs := mp.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if want := "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0 (+1 more)"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if m.From.Address != "vrrpguard@watcher-a.example" || len(m.To) != 2 || m.To[1].Address != "oncall@example.com" {
		t.Errorf("from %v to %v", m.From, m.To)
	}
	for _, s := range []string{
		"FIRING: CRITICAL duplicate_master VRID 51 on eth0",
		"duplicate_master on VRID 51",
		"Routers:      10.0.0.1, 10.0.0.2",
		"MACs:         02:00:00:00:de:01, 02:00:00:00:de:02",
		"VIPs:         10.0.0.100",
		"First seen:   2026-11-23T22:13:11.783Z",
		"Reported by:  watcher-a",
		"Fingerprint:  fp-duplicate_master-51",
		"What to check:",
		"IP protocol 112",
		"RESOLVED: WARNING auth_mismatch VRID 51 on eth0",
		"Resolved at:  2026-11-23T22:14:12.783Z",
	} {
		if !strings.Contains(m.Text, s) {
			t.Errorf("body lacks %q:\n%s", s, m.Text)
		}
	}
	h := mp.headers(t, m.ID)
	if got := h["X-Vrrpguard-Fingerprint"]; len(got) != 1 || got[0] != "fp-duplicate_master-51, fp-auth_mismatch-51" {
		t.Errorf("fingerprint header %v", got)
	}
	if got := h["Auto-Submitted"]; len(got) != 1 || got[0] != "auto-generated" {
		t.Errorf("Auto-Submitted %v", got)
	}
}

func TestEmailMailpitStartTLSRequiredAndOffered(t *testing.T) {
	cert, key, pool := selfSignedCert(t)
	// The server refuses MAIL without STARTTLS, so a delivered message
	// proves the session was encrypted.
	mp := startMailpit(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
	e := mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways, TLSConfig: &tls.Config{RootCAs: pool}})
	if retry, err := e.Notify(context.Background(), testAlerts()[:1]); err != nil {
		t.Fatalf("Notify: retry=%v %v", retry, err)
	}
	if msgs := mp.messages(t); len(msgs) != 1 || msgs[0].Subject != "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0" {
		t.Fatalf("messages %+v", msgs)
	}

	// "always" with a certificate it cannot verify: permanent failure.
	e = mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways})
	retry, err := e.Notify(context.Background(), testAlerts()[:1])
	var cv *tls.CertificateVerificationError
	if err == nil || retry || !errors.As(err, &cv) {
		t.Errorf("untrusted certificate: retry=%v err=%v", retry, err)
	}

	// "auto" without credentials is opportunistic: encrypted, but the
	// self-signed certificate is accepted.
	e = mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAuto})
	if retry, err := e.Notify(context.Background(), testAlerts()[:1]); err != nil {
		t.Fatalf("auto with a self-signed certificate: retry=%v %v", retry, err)
	}

	// "never" against a server that requires STARTTLS: 530, permanent.
	e = mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSNever})
	retry, err = e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || retry || !strings.Contains(err.Error(), "530") {
		t.Errorf("never vs required STARTTLS: retry=%v err=%v", retry, err)
	}
	if n := len(mp.messages(t)); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestEmailMailpitStartTLSRequiredNotOffered(t *testing.T) {
	mp := startMailpit(t)
	e := mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways})
	retry, err := e.Notify(context.Background(), testAlerts()[:1])
	var su mail.StartTLSUnsupportedError
	if err == nil || retry || !errors.As(err, &su) {
		t.Fatalf("STARTTLS required but not offered: retry=%v err=%v", retry, err)
	}
	if n := len(mp.messages(t)); n != 0 {
		t.Errorf("a message went out in clear text: %d", n)
	}
}

func TestEmailMailpitAuth(t *testing.T) {
	cert, key, pool := selfSignedCert(t)
	auth := filepath.Join(t.TempDir(), "smtp-users")
	if err := os.WriteFile(auth, []byte("alerts:s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := startMailpit(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-file", auth)
	tlsConf := &tls.Config{RootCAs: pool}

	e := mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways, TLSConfig: tlsConf, Username: "alerts", Password: "s3cret-pass"})
	if retry, err := e.Notify(context.Background(), testAlerts()[:1]); err != nil {
		t.Fatalf("Notify with AUTH: retry=%v %v", retry, err)
	}
	msgs := mp.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("messages %+v", msgs)
	}

	e = mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways, TLSConfig: tlsConf, Username: "alerts", Password: "wrong"})
	retry, err := e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || retry || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: retry=%v err=%v", retry, err)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(fmt.Sprint(e.o), "wrong") || strings.Contains(fmt.Sprintf("%+v", e.o), "wrong") {
		t.Errorf("the password shows in an error or in the options' string")
	}

	// Without credentials the server refuses the mail (530 authentication
	// required): permanent.
	e = mustEmail(t, EmailOptions{Port: mp.smtpPort, StartTLS: StartTLSAlways, TLSConfig: tlsConf})
	retry, err = e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || retry {
		t.Errorf("no credentials: retry=%v err=%v", retry, err)
	}
}

func TestEmailMailpitTransientAndPermanentReplies(t *testing.T) {
	mp := startMailpit(t, "--enable-chaos")
	e := mustEmail(t, EmailOptions{Port: mp.smtpPort})

	mp.chaos(t, "Recipient", 451, 100)
	retry, err := e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || !retry || !strings.Contains(err.Error(), "451") {
		t.Errorf("451: retry=%v err=%v", retry, err)
	}
	mp.chaos(t, "Sender", 550, 100)
	retry, err = e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || retry || !strings.Contains(err.Error(), "550") {
		t.Errorf("550: retry=%v err=%v", retry, err)
	}

	// Through the dispatcher: a 4xx keeps the mail in the outbox until the
	// server accepts it, then it is delivered exactly once.
	mp.chaos(t, "Recipient", 421, 100)
	r := start(t, Options{StateDir: t.TempDir(), Sinks: []Sink{{Notifier: e}}, GroupWait: -1, BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	defer r.stop(t)
	r.d.Submit(finding(rules.NoMaster, 9, rules.Raised, time.Now()))
	waitFor(t, 30*time.Second, "a failed attempt", func() bool { return r.counter("failed", e.Name(), "retryable") >= 2 })
	if n := len(mp.messages(t)); n != 0 {
		t.Fatalf("%d messages while the server refuses", n)
	}
	mp.chaos(t, "Recipient", 451, 0)
	waitFor(t, 30*time.Second, "delivery", func() bool { return r.counter("sent", e.Name()) == 1 })
	msgs := mp.messages(t)
	if len(msgs) != 1 || msgs[0].Subject != "[vrrpguard] CRITICAL no_master VRID 9 on eth0" {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestEmailKeepalivedGlobalDefs(t *testing.T) {
	mp := startMailpit(t)
	g := keepalived.Global{
		NotificationEmail:     []string{"sysadmin@example.com"},
		NotificationEmailFrom: "keepalived@lb1.example.com",
		SMTPServer:            "127.0.0.1",
		SMTPPort:              mp.smtpPort,
		SMTPHeloName:          "lb1.example.com",
		SMTPConnectTimeout:    5 * time.Second,
	}
	o := EmailFromKeepalived(g)
	if o == nil {
		t.Fatal("no email options from global_defs")
	}
	e, err := NewEmail(*o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Notify(context.Background(), testAlerts()[:1]); err != nil {
		t.Fatal(err)
	}
	msgs := mp.messages(t)
	if len(msgs) != 1 || msgs[0].From.Address != "keepalived@lb1.example.com" || msgs[0].To[0].Address != "sysadmin@example.com" {
		t.Fatalf("messages %+v", msgs)
	}
	if EmailFromKeepalived(keepalived.Global{SMTPServer: "x"}) != nil || EmailFromKeepalived(keepalived.Global{NotificationEmail: []string{"a@b"}}) != nil {
		t.Error("options without recipients or server")
	}
}

func TestEmailConnectionRefusedIsRetryable(t *testing.T) {
	e := mustEmail(t, EmailOptions{Port: freePort(t)})
	retry, err := e.Notify(context.Background(), testAlerts()[:1])
	if err == nil || !retry {
		t.Fatalf("connection refused: retry=%v err=%v", retry, err)
	}
}

// fakeSMTP is a scripted SMTP server for replies mailpit cannot produce:
// a failure after DATA, and a connection dropped mid-session.
func fakeSMTP(t *testing.T, dataReply string, dropAfterMail bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				fmt.Fprintf(c, "220 fake ESMTP\r\n")
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if inData {
						if line == ".\r\n" {
							inData = false
							fmt.Fprintf(c, "%s\r\n", dataReply)
						}
						continue
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"):
						fmt.Fprintf(c, "250-fake\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "MAIL"):
						if dropAfterMail {
							return
						}
						fmt.Fprintf(c, "250 ok\r\n")
					case strings.HasPrefix(cmd, "RCPT"):
						fmt.Fprintf(c, "250 ok\r\n")
					case cmd == "DATA":
						inData = true
						fmt.Fprintf(c, "354 go ahead\r\n")
					case cmd == "QUIT":
						fmt.Fprintf(c, "221 bye\r\n")
						return
					default:
						fmt.Fprintf(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestEmailFakeServerReplies(t *testing.T) {
	for _, c := range []struct {
		name  string
		port  int
		retry bool
		ok    bool
	}{
		{"accepted", fakeSMTP(t, "250 queued", false), false, true},
		{"452 after DATA", fakeSMTP(t, "452 4.3.1 insufficient storage", false), true, false},
		{"554 after DATA", fakeSMTP(t, "554 5.6.0 message rejected as spam", false), false, false},
		{"dropped connection", fakeSMTP(t, "", true), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := mustEmail(t, EmailOptions{Port: c.port, Timeout: 5 * time.Second})
			retry, err := e.Notify(context.Background(), testAlerts()[:1])
			if (err == nil) != c.ok || retry != c.retry {
				t.Errorf("retry=%v err=%v; want ok=%v retry=%v", retry, err, c.ok, c.retry)
			}
		})
	}
}

func TestSubjects(t *testing.T) {
	a := testAlerts()
	rep := a[0]
	rep.Repeat = true
	for _, c := range []struct {
		alerts []Alert
		want   string
	}{
		{a[:1], "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0"},
		{a[1:], "[vrrpguard] RESOLVED auth_mismatch VRID 51 on eth0"},
		{[]Alert{a[1], a[0]}, "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0 (+1 more)"},
		{[]Alert{rep}, "[vrrpguard] CRITICAL duplicate_master VRID 51 on eth0 (still firing)"},
		{[]Alert{testAlert("w", time.Now())}, "[vrrpguard] TEST vrrpguard test notification — ignore"},
	} {
		if got := Subject(c.alerts); got != c.want {
			t.Errorf("Subject = %q, want %q", got, c.want)
		}
	}
}

func TestNewEmailValidates(t *testing.T) {
	for _, o := range []EmailOptions{
		{From: "a@b", To: []string{"c@d"}},
		{Host: "h", From: "not an address", To: []string{"c@d"}},
		{Host: "h", From: "a@b"},
		{Host: "h", From: "a@b", To: []string{"c@d"}, StartTLS: "sometimes"},
		{Host: "h", From: "a@b", To: []string{"c@d"}, Password: "p"},
	} {
		if _, err := NewEmail(o); err == nil {
			t.Errorf("NewEmail(%v) accepted", o)
		}
	}
}
