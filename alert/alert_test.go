package alert

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

func TestAlertNames(t *testing.T) {
	want := map[rules.Kind]string{
		rules.DuplicateMaster:  "VRRPDuplicateMaster",
		rules.VIPOnBackup:      "VRRPVIPOnBackup",
		rules.VRIDMismatch:     "VRRPVRIDMismatch",
		rules.TTLInvalid:       "VRRPTTLInvalid",
		rules.NoMaster:         "VRRPNoMaster",
		rules.UnexpectedRouter: "VRRPUnexpectedRouter",
	}
	for k, w := range want {
		if got := AlertName(k); got != w {
			t.Errorf("AlertName(%s) = %s, want %s", k, got, w)
		}
	}
	seen := map[string]bool{}
	for _, k := range rules.Kinds() {
		n := AlertName(k)
		if seen[n] || !strings.HasPrefix(n, "VRRP") || strings.ContainsAny(n, "_ ") {
			t.Errorf("alert name %q for %s", n, k)
		}
		seen[n] = true
		if checks[k] == "" {
			t.Errorf("no advice for %s in email bodies", k)
		}
	}
}

func TestFromFindingLabelsAreTheSameOnEveryWatcher(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := finding(rules.DuplicateMaster, 51, rules.Raised, at)
	a := FromFinding(f, "lb-a")
	g := f
	g.Interface = "ens192"
	b := FromFinding(g, "lb-b")
	if !mapsEqual(a.Labels, b.Labels) {
		t.Errorf("labels differ between watchers: %v vs %v", a.Labels, b.Labels)
	}
	for _, l := range []string{"instance", "interface", "reported_by"} {
		if _, ok := a.Labels[l]; ok {
			t.Errorf("per-host %s is a label", l)
		}
	}
	if a.Annotations[AnnotationReportedBy] != "lb-a" || b.Annotations[AnnotationInterface] != "ens192" {
		t.Errorf("annotations %v / %v", a.Annotations, b.Annotations)
	}
	if a.Status != StatusFiring || !a.EndsAt.IsZero() || !a.StartsAt.Equal(f.FirstSeen) {
		t.Errorf("firing alert %+v", a)
	}

	f.State = rules.Resolved
	f.At = at.Add(time.Minute)
	r := FromFinding(f, "lb-a")
	if r.Status != StatusResolved || !r.EndsAt.Equal(f.At) {
		t.Errorf("resolved alert status %s endsAt %v", r.Status, r.EndsAt)
	}

	// A finding without VRID or family (table_full) has neither label.
	tf := rules.Finding{Kind: rules.TableFull, State: rules.Raised, Severity: rules.Warning, At: at, Fingerprint: "x", Family: vrrp.FamilyUnknown}
	ta := FromFinding(tf, "")
	if _, ok := ta.Labels[LabelVRID]; ok {
		t.Errorf("labels %v", ta.Labels)
	}
	if _, ok := ta.Labels[LabelFamily]; ok {
		t.Errorf("labels %v", ta.Labels)
	}
	if ta.Annotations[AnnotationSummary] != "table_full" {
		t.Errorf("summary %q", ta.Annotations[AnnotationSummary])
	}
}

func TestAlertJSONRoundTrip(t *testing.T) {
	a := FromFinding(finding(rules.VIPOnBackup, 9, rules.Raised, time.Now()), "w")
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("round trip changed the alert:\n%s\n%s", b, b2)
	}
}
