package app

import (
	"log/slog"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/participant"
)

// smtpAlertDrain bounds how long `run` waits at exit for queued
// smtp_alert mails.
const smtpAlertDrain = 10 * time.Second

// smtpAlerts is keepalived's smtp_alert for `vrrpguard run`: a mail to
// global_defs' notification_email on each state transition of an instance
// with smtp_alert on, with keepalived's subject and body, queued so that
// the VRRP loop never waits for SMTP.
type smtpAlerts struct {
	m    *alert.Mailer
	send func(alert.Mail) bool // m.Queue
	opts alert.EmailOptions
	log  *slog.Logger

	mu       sync.Mutex
	routerID string
	noFaults bool
	on       map[string]bool   // instance → smtp_alert
	last     map[string]string // instance → state last mailed
}

// newSMTPAlerts returns the smtp_alert mailer of k, or nil when global_defs
// names no recipient or SMTP server (keepalived then sends nothing either;
// a warning if some instance wants mail) or when its mail settings are
// unusable (an error: the VRRP instances run all the same).
func newSMTPAlerts(k *keepalived.Config, log *slog.Logger) *smtpAlerts {
	o := alert.EmailFromKeepalived(k.Global)
	if o == nil {
		for _, in := range k.Instances {
			if in.SMTPAlert {
				log.Warn("smtp_alert is on but global_defs has no notification_email or smtp_server: no mail is sent (as by keepalived)", "instance", in.Name)
			}
		}
		return nil
	}
	o.Name = "smtp_alert"
	e, err := alert.NewEmail(*o)
	if err != nil {
		log.Error("smtp_alert: global_defs' mail settings are unusable; no mail is sent", "err", err)
		return nil
	}
	s := &smtpAlerts{opts: *o, log: log, m: alert.NewMailer(e, alert.DefaultMailQueue, log.With("component", "smtp_alert")),
		last: map[string]string{}}
	s.send = s.m.Queue
	s.configure(k)
	return s
}

// configure takes the settings of a (re)loaded configuration; a change of
// the SMTP settings needs a restart.
func (s *smtpAlerts) configure(k *keepalived.Config) {
	if o := alert.EmailFromKeepalived(k.Global); o == nil || !reflect.DeepEqual(o.To, s.opts.To) || o.Host != s.opts.Host ||
		o.Port != s.opts.Port || o.From != s.opts.From || o.HeloName != s.opts.HeloName || o.Timeout != s.opts.Timeout {
		s.log.Warn("the reloaded global_defs changes smtp_alert's mail settings; still using the running ones until restart")
	}
	routerID := k.Global.RouterID
	if routerID == "" {
		// keepalived's default router_id is the host name.
		routerID, _ = os.Hostname()
	}
	on := map[string]bool{}
	var names []string
	for _, in := range k.Instances {
		on[in.Name] = in.SMTPAlert
		if in.SMTPAlert {
			names = append(names, in.Name)
		}
	}
	for _, sg := range k.SyncGroups {
		if groupSMTPAlert(sg, &k.Global) {
			s.log.Warn("vrrp_sync_group has smtp_alert: keepalived mails its group transitions too; vrrpguard run does not run sync groups and sends only the instances' mails", "group", sg.Name)
		}
	}
	s.mu.Lock()
	s.routerID, s.noFaults, s.on = routerID, k.Global.NoEmailFaults, on
	s.mu.Unlock()
	if len(names) > 0 {
		s.log.Info("smtp_alert on", "instances", names, "email", s.opts)
	}
}

// groupSMTPAlert reports whether keepalived mails a sync group's
// transitions: its own smtp_alert, else the global smtp_alert_vrrp, else
// the global smtp_alert.
func groupSMTPAlert(sg *keepalived.SyncGroup, g *keepalived.Global) bool {
	if w, ok := sg.Other["smtp_alert"]; ok {
		return len(w) == 0 || w[0] == "on" || w[0] == "true" || w[0] == "yes"
	}
	if g.SMTPAlertVRRP != nil {
		return *g.SMTPAlertVRRP
	}
	return g.SMTPAlert != nil && *g.SMTPAlert
}

// changed is called with the participant's OnChange: a transition into
// MASTER, BACKUP or FAULT is mailed when the instance has smtp_alert, the
// new state differs from the one last mailed and, with no_email_faults, is
// not FAULT (keepalived's vrrp_smtp_notifier). Stopping (INIT) sends no
// mail: keepalived 2.2.7 sends none either (measured in the lab).
func (s *smtpAlerts) changed(st participant.Status, tr *election.Transition) {
	if tr == nil {
		return
	}
	state := tr.To.String()
	s.mu.Lock()
	if !s.on[st.Instance] || (s.noFaults && tr.To == election.Fault) || s.last[st.Instance] == state {
		s.mu.Unlock()
		return
	}
	subject, body, ok := alert.VRRPStateMail(s.routerID, st.Instance, state)
	if ok {
		s.last[st.Instance] = state
	}
	s.mu.Unlock()
	if ok {
		s.send(alert.Mail{Subject: subject, Body: body})
	}
}

// close sends what is queued (within smtpAlertDrain) and stops.
func (s *smtpAlerts) close() { s.m.Close(smtpAlertDrain) }
