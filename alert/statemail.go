package alert

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// VRRPStateMail returns the mail keepalived's smtp_alert sends when VRRP
// instance instance enters state (MASTER, BACKUP or FAULT): the subject
// "[<routerID>] VRRP Instance <instance> - Entering MASTER state" and a
// one-line body. ok is false for any other state: keepalived 2.2.7 has a
// "Stopping" mail too, but no stopping keepalived was seen to send it.
func VRRPStateMail(routerID, instance, state string) (subject, body string, ok bool) {
	var what string
	switch state {
	case "MASTER":
		what, body = "Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="
	case "BACKUP":
		what, body = "Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="
	case "FAULT":
		what, body = "Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="
	default:
		return "", "", false
	}
	return "[" + routerID + "] VRRP Instance " + instance + " - " + what, body, true
}

// Mail is one queued mail of a Mailer.
type Mail struct {
	Subject string
	Body    string
}

// DefaultMailQueue is the default capacity of a Mailer's queue.
const DefaultMailQueue = 64

// Mailer sends mails through an Email sink from a bounded queue, one at a
// time, in order, so that whoever queues (a VRRP loop) never waits for
// SMTP. A mail that does not fit the queue is dropped and a failed one is
// not retried (as keepalived's smtp_alert); both are logged.
type Mailer struct {
	e     *Email
	log   *slog.Logger
	q     chan Mail
	mu    sync.Mutex // guards shut: Queue against Close
	abort chan struct{}
	done  chan struct{}
	shut  bool
}

// NewMailer returns a mailer with a queue of size mails (default
// DefaultMailQueue) and starts its sender; stop it with Close.
func NewMailer(e *Email, size int, log *slog.Logger) *Mailer {
	if size <= 0 {
		size = DefaultMailQueue
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Mailer{e: e, log: log, q: make(chan Mail, size), abort: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// Queue queues a mail without blocking; it reports false (and logs) when
// the queue is full or the mailer closed.
func (m *Mailer) Queue(mail Mail) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut {
		m.log.Warn("mail not sent: mailer closed", "subject", mail.Subject)
		return false
	}
	select {
	case m.q <- mail:
		return true
	default:
		m.log.Error("mail dropped: queue full", "subject", mail.Subject, "queue", cap(m.q))
		return false
	}
}

// Close stops taking mails and waits until the queued ones are sent or
// drain has passed; those still queued then are dropped (and logged).
func (m *Mailer) Close(drain time.Duration) {
	m.mu.Lock()
	if m.shut {
		m.mu.Unlock()
		<-m.done
		return
	}
	m.shut = true
	close(m.q)
	m.mu.Unlock()
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-m.done:
	case <-t.C:
		close(m.abort)
		<-m.done
	}
}

func (m *Mailer) run() {
	defer close(m.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-m.abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	for mail := range m.q {
		if ctx.Err() != nil {
			m.log.Error("mail dropped: mailer closed before it was sent", "subject", mail.Subject)
			continue
		}
		if _, err := m.e.Send(ctx, mail.Subject, mail.Body); err != nil {
			m.log.Error("mail not sent", "subject", mail.Subject, "sink", m.e.Name(), "err", err)
			continue
		}
		m.log.Info("mail sent", "subject", mail.Subject, "sink", m.e.Name())
	}
}
