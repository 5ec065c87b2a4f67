package app

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// TestRunSMTPAlert: `vrrpguard run` on b mails keepalived's smtp_alert on
// each transition, as keepalived on a does to the same mailpit (on host
// mon). b runs alone (BACKUP, then MASTER); keepalived on a with a higher
// priority preempts it (b: BACKUP). b's mails have keepalived's subject
// form with b's router_id, in order, and the body keepalived itself sends
// for the same state. Stopping sends no mail, from either (keepalived
// 2.2.7 has a "Stopping" mail but does not send it when it stops).
func TestRunSMTPAlert(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "mailpit")
	bin := binary(t)
	lab := netlab.New(t)
	const (
		vip     = "10.108.0.100"
		monAddr = "10.108.0.9"
	)
	a := lab.AddHost("a", "10.108.0.1/24")
	b := lab.AddHost("b", "10.108.0.2/24")
	mon := lab.AddHost("mon", monAddr+"/24")
	mailAPI := "http://" + monAddr + ":8025"
	mon.Start(t, "mailpit", "--smtp", monAddr+":1025", "--listen", monAddr+":8025")
	client := nsClient(mon)
	waitFor(t, "mailpit", 30*time.Second, func() bool {
		resp, err := client.Get(mailAPI + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	conf := func(routerID string, prio int) string {
		return fmt.Sprintf("global_defs {\n    router_id %s\n    notification_email {\n        ops@lab.example\n    }\n"+
			"    notification_email_from %s@lab.example\n    smtp_server %s 1025\n    smtp_connect_timeout 5\n    smtp_alert\n}\n",
			routerID, routerID, monAddr) +
			netlab.Conf(netlab.Instance{VRID: 108, Priority: prio, AdvertInt: time.Second, VIPs: []string{vip + "/24"}})
	}
	// from returns the mails from sender, oldest first.
	type mail struct {
		Subject string
		Text    string
		From    struct{ Address string }
		To      []struct{ Address string }
	}
	from := func(sender string) []mail {
		var out []mail
		list := mails(t, client, mailAPI)
		for n := len(list) - 1; n >= 0; n-- { // mailpit lists newest first
			var full mail
			getJSON(t, client, mailAPI+"/api/v1/message/"+list[n].ID, &full)
			if full.From.Address == sender {
				out = append(out, full)
			}
		}
		return out
	}
	waitMails := func(sender string, want ...string) []mail {
		t.Helper()
		var got []mail
		var subjects []string
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, subjects = from(sender), nil
			for _, m := range got {
				subjects = append(subjects, m.Subject)
			}
			if len(subjects) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !slices.Equal(subjects, want) {
			t.Fatalf("mails from %s (-want +got):\n-%s\n+%s", sender, strings.Join(want, "\n-"), strings.Join(subjects, "\n+"))
		}
		return got
	}
	const (
		bBackup = "[lab-b] VRRP Instance VI_1 - Entering BACKUP state"
		bMaster = "[lab-b] VRRP Instance VI_1 - Entering MASTER state"
	)

	r := b.Start(t, bin, "run", "--config", writeFile(t, "keepalived.conf", conf("lab-b", 100)), "--listen", "off")
	r.WaitOutput(t, "entering MASTER state", 15*time.Second)
	got := waitMails("lab-b@lab.example", bBackup, bMaster)
	if to := got[0].To; len(to) != 1 || to[0].Address != "ops@lab.example" {
		t.Errorf("mail to %+v, want ops@lab.example", to)
	}

	// keepalived on a, higher priority, preempts b.
	k := a.StartKeepalived(t, conf("lab-a", 150))
	a.WaitAddr(t, vip, 15*time.Second)
	waitMails("lab-b@lab.example", bBackup, bMaster, bBackup)
	// keepalived's own mails, for the body of each state.
	ka := waitMails("lab-a@lab.example", "[lab-a] VRRP Instance VI_1 - Entering BACKUP state", "[lab-a] VRRP Instance VI_1 - Entering MASTER state")

	r.Signal(syscall.SIGTERM)
	<-r.Done()
	if err := r.Err(); err != nil {
		t.Errorf("%v\n%s", err, r.Output())
	}
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // time for a late mail to arrive
	got = waitMails("lab-b@lab.example", bBackup, bMaster, bBackup)
	waitMails("lab-a@lab.example", ka[0].Subject, ka[1].Subject)
	for _, c := range []struct{ ours, theirs mail }{{got[0], ka[0]}, {got[1], ka[1]}} {
		if o, k := strings.TrimSpace(c.ours.Text), strings.TrimSpace(c.theirs.Text); o != k {
			t.Errorf("body of %q is %q; keepalived's for %q is %q", c.ours.Subject, o, c.theirs.Subject, k)
		}
	}
}
