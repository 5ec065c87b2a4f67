package app

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/internal/jsondiff"
	"github.com/vrrpguard/vrrpguard/participant"
)

// TestSMTPAlertsTransitions: which transitions are mailed, as keepalived's
// vrrp_smtp_notifier decides.
func TestSMTPAlertsTransitions(t *testing.T) {
	const insts = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n smtp_alert\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n" +
		"vrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.2\n }\n}\n"
	const (
		I = election.Initialize
		B = election.Backup
		M = election.Master
		F = election.Fault
	)
	type step struct {
		inst     string
		from, to election.State
	}
	tests := []struct {
		name   string
		global string
		steps  []step
		want   []string
	}{
		{"each transition of an instance with smtp_alert", "", []step{
			{"A", I, B}, {"B", I, B}, {"A", B, M}, {"B", B, M}, {"A", M, B}, {"A", B, F}, {"A", F, B}, {"A", B, I}, {"A", I, B},
		}, []string{"[lb1] VRRP Instance A - Entering BACKUP state", "[lb1] VRRP Instance A - Entering MASTER state",
			"[lb1] VRRP Instance A - Entering BACKUP state", "[lb1] VRRP Instance A - Entering FAULT state",
			"[lb1] VRRP Instance A - Entering BACKUP state"}},
		{"no_email_faults: no FAULT mail, and no second mail of the same state", " no_email_faults\n", []step{
			{"A", I, B}, {"A", B, F}, {"A", F, B}, {"A", B, M},
		}, []string{"[lb1] VRRP Instance A - Entering BACKUP state", "[lb1] VRRP Instance A - Entering MASTER state"}},
		{"global smtp_alert reaches B", " smtp_alert\n", []step{{"B", I, B}},
			[]string{"[lb1] VRRP Instance B - Entering BACKUP state"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "global_defs {\n router_id lb1\n notification_email {\n  ops@example.com\n }\n smtp_server 127.0.0.1 1\n" + tc.global + "}\n" + insts
			k, _, err := keepalived.Parse("keepalived.conf", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			s := newSMTPAlerts(k, slog.New(slog.DiscardHandler))
			if s == nil {
				t.Fatal("newSMTPAlerts: nil")
			}
			defer s.close()
			var got []string
			s.send = func(m alert.Mail) bool {
				got = append(got, m.Subject)
				if !strings.HasPrefix(m.Body, "=> VRRP Instance ") {
					t.Errorf("body %q", m.Body)
				}
				return true
			}
			for _, st := range tc.steps {
				s.changed(participant.Status{Instance: st.inst, State: st.to.String()}, &election.Transition{From: st.from, To: st.to})
				s.changed(participant.Status{Instance: st.inst, State: st.to.String()}, nil) // a priority change: no mail
			}
			if d := jsondiff.Diff(tc.want, got); d != "" {
				t.Errorf("subjects (-want +got):\n%s", d)
			}
		})
	}
}

// TestSMTPAlertsNeedServer: without smtp_server keepalived sends no mail,
// and neither does run.
func TestSMTPAlertsNeedServer(t *testing.T) {
	k, _, err := keepalived.Parse("keepalived.conf", []byte("global_defs {\n smtp_alert\n notification_email {\n  ops@example.com\n }\n}\n"+
		"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if s := newSMTPAlerts(k, slog.New(slog.NewTextHandler(&log, nil))); s != nil {
		t.Fatalf("newSMTPAlerts: %v, want nil", s)
	}
	if !strings.Contains(log.String(), "no mail is sent") {
		t.Errorf("no warning:\n%s", log.String())
	}
}

// TestSMTPAlertsBadSettings: unusable mail settings are an error in the
// log, not a reason for run to refuse the instances.
func TestSMTPAlertsBadSettings(t *testing.T) {
	k, _, err := keepalived.Parse("keepalived.conf", []byte("global_defs {\n smtp_alert\n notification_email {\n  not-an-address\n }\n smtp_server 127.0.0.1\n}\n"+
		"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if s := newSMTPAlerts(k, slog.New(slog.NewTextHandler(&log, nil))); s != nil {
		t.Fatalf("newSMTPAlerts: %v, want nil", s)
	}
	if !strings.Contains(log.String(), "unusable") {
		t.Errorf("no error logged:\n%s", log.String())
	}
}
