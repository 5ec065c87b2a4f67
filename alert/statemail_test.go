package alert

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVRRPStateMail(t *testing.T) {
	tests := []struct {
		state, subject, body string
		ok                   bool
	}{
		{"MASTER", "[lb1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <=", true},
		{"BACKUP", "[lb1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <=", true},
		{"FAULT", "[lb1] VRRP Instance VI_1 - Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <=", true},
		{"STOP", "", "", false},
		{"INIT", "", "", false},
	}
	for _, tc := range tests {
		s, b, ok := VRRPStateMail("lb1", "VI_1", tc.state)
		if s != tc.subject || b != tc.body || ok != tc.ok {
			t.Errorf("%s: got (%q, %q, %v), want (%q, %q, %v)", tc.state, s, b, ok, tc.subject, tc.body, tc.ok)
		}
	}
}

// TestMailerSendsInOrder: queued mails arrive in mailpit in order, with
// their subject and body.
func TestMailerSendsInOrder(t *testing.T) {
	mp := startMailpit(t)
	m := NewMailer(mustEmail(t, EmailOptions{Port: mp.smtpPort}), 4, nil)
	for _, st := range []string{"BACKUP", "MASTER", "BACKUP"} {
		s, b, _ := VRRPStateMail("lb1", "VI_1", st)
		if !m.Queue(Mail{Subject: s, Body: b}) {
			t.Fatalf("queue %s refused", st)
		}
	}
	m.Close(10 * time.Second)
	msgs := mp.messages(t)
	var got []string
	for n := len(msgs) - 1; n >= 0; n-- { // mailpit lists newest first
		got = append(got, msgs[n].Subject)
		if want := "VRRP VIPs <="; !strings.Contains(msgs[n].Text, want) {
			t.Errorf("body %q lacks %q", msgs[n].Text, want)
		}
	}
	want := []string{"[lb1] VRRP Instance VI_1 - Entering BACKUP state", "[lb1] VRRP Instance VI_1 - Entering MASTER state",
		"[lb1] VRRP Instance VI_1 - Entering BACKUP state"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("subjects (-want +got):\n-%s\n+%s", strings.Join(want, "\n-"), strings.Join(got, "\n+"))
	}
	if m.Queue(Mail{Subject: "late"}) {
		t.Error("a closed mailer took a mail")
	}
}

// TestMailerNeverBlocks: with an SMTP server that accepts connections and
// never answers, Queue returns at once, drops what does not fit, and Close
// gives up after its drain time.
func TestMailerNeverBlocks(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	e := mustEmail(t, EmailOptions{Port: l.Addr().(*net.TCPAddr).Port, Timeout: time.Minute})
	m := NewMailer(e, 2, slog.New(slog.DiscardHandler))
	start := time.Now()
	var taken int
	for range 10 {
		if m.Queue(Mail{Subject: "s", Body: "b"}) {
			taken++
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("queueing took %v", d)
	}
	// One mail is with the stuck server, two wait; the rest is dropped.
	if taken < 2 || taken > 3 {
		t.Errorf("%d of 10 mails taken with a queue of 2", taken)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { m.Close(200 * time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close did not give up on the stuck server")
	}
}
