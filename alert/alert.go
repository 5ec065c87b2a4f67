package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Alert statuses, as in Alertmanager.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Label and annotation names.
const (
	LabelAlertName   = "alertname"
	LabelKind        = "kind"
	LabelSeverity    = "severity"
	LabelFamily      = "family"
	LabelVRID        = "vrid"
	LabelFingerprint = "fingerprint"

	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationInterface   = "interface"
	AnnotationReportedBy  = "reported_by"
)

// TestAlertName is the alertname of the notification sent by SendTest.
const TestAlertName = "VRRPGuardTest"

// Alert is one item of a notification: a finding as Alertmanager and
// webhook receivers see it, plus the finding's own fields for email.
//
// Labels are the alert's identity and are the same on every watcher that
// sees the problem: alertname, kind, severity, family, vrid (omitted when
// 0) and fingerprint. The watcher's name (reported_by) and the capture
// interface are annotations, because both differ between the hosts
// watching one segment and Alertmanager identifies an alert by its label
// set: two watchers posting one problem to one Alertmanager must make one
// alert there, not two.
type Alert struct {
	// Fingerprint is the finding's fingerprint: the same for one problem
	// across restarts and across watchers on a segment.
	Fingerprint string `json:"fingerprint"`
	// Status is "firing" or "resolved".
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// StartsAt is when the problem began; EndsAt when it ended (zero while
	// firing).
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
	// GeneratorURL links back to the watcher (Options.ExternalURL).
	GeneratorURL string `json:"generatorURL,omitempty"`

	// The finding, for email bodies and receivers that want it raw.
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	Interface string    `json:"interface,omitempty"`
	Family    string    `json:"family,omitempty"`
	VRID      uint8     `json:"vrid,omitempty"`
	Sources   []string  `json:"sources,omitempty"`
	MACs      []string  `json:"macs,omitempty"`
	VIPs      []string  `json:"vips,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	// At is when the notice was issued (raise or resolve time).
	At      time.Time `json:"at"`
	Message string    `json:"message,omitempty"`
	// Instance is the name of the watcher that reported the finding.
	Instance string `json:"instance,omitempty"`
	// Repeat marks a reminder of an alert still firing (RepeatInterval).
	Repeat bool `json:"repeat,omitempty"`
}

// Firing reports whether the alert is firing.
func (a *Alert) Firing() bool { return a.Status != StatusResolved }

// AlertName is "VRRP" followed by the kind in CamelCase, with the usual
// initialisms upper case: duplicate_master → VRRPDuplicateMaster,
// vip_on_backup → VRRPVIPOnBackup.
func AlertName(kind rules.Kind) string {
	var b strings.Builder
	b.WriteString("VRRP")
	for w := range strings.SplitSeq(string(kind), "_") {
		if w == "" {
			continue
		}
		switch w {
		case "vip", "vrid", "ttl", "mac", "arp", "ip":
			b.WriteString(strings.ToUpper(w))
		default:
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// FromFinding converts a finding into an alert. instance names the watcher
// (it goes into the reported_by annotation, not into the labels).
func FromFinding(f rules.Finding, instance string) Alert {
	a := Alert{
		Fingerprint: f.Fingerprint,
		Status:      StatusFiring,
		Kind:        string(f.Kind),
		Severity:    string(f.Severity),
		Interface:   f.Interface,
		VRID:        f.VRID,
		FirstSeen:   f.FirstSeen.UTC(),
		LastSeen:    f.LastSeen.UTC(),
		At:          f.At.UTC(),
		Message:     f.Message,
		Instance:    instance,
	}
	if a.Severity == "" {
		a.Severity = string(rules.SeverityOf(f.Kind))
	}
	if f.Family != vrrp.FamilyUnknown {
		a.Family = f.Family.String()
	}
	for _, s := range f.Sources {
		a.Sources = append(a.Sources, s.String())
	}
	for _, m := range f.MACs {
		a.MACs = append(a.MACs, m.String())
	}
	for _, v := range f.VIPs {
		a.VIPs = append(a.VIPs, v.String())
	}
	a.StartsAt = a.FirstSeen
	if a.StartsAt.IsZero() {
		a.StartsAt = a.At
	}
	if f.State == rules.Resolved {
		a.Status = StatusResolved
		a.EndsAt = a.At
		if a.EndsAt.IsZero() {
			a.EndsAt = a.LastSeen
		}
	}
	if a.Fingerprint == "" {
		// Findings always carry one; a hand-made finding without one
		// still needs a stable identity.
		a.Fingerprint = fmt.Sprintf("%s-%s-%d", a.Kind, a.Family, a.VRID)
	}
	a.Labels = map[string]string{
		LabelAlertName:   AlertName(f.Kind),
		LabelKind:        a.Kind,
		LabelSeverity:    a.Severity,
		LabelFingerprint: a.Fingerprint,
	}
	if a.Family != "" {
		a.Labels[LabelFamily] = a.Family
	}
	if a.VRID != 0 {
		a.Labels[LabelVRID] = strconv.Itoa(int(a.VRID))
	}
	a.Annotations = map[string]string{
		AnnotationSummary:     a.Summary(),
		AnnotationDescription: a.Description(),
	}
	if a.Interface != "" {
		a.Annotations[AnnotationInterface] = a.Interface
	}
	if instance != "" {
		a.Annotations[AnnotationReportedBy] = instance
	}
	return a
}

// where is " VRID 51 on eth0", with the parts that are known.
func (a *Alert) where() string {
	s := ""
	if a.VRID != 0 {
		s += " VRID " + strconv.Itoa(int(a.VRID))
	}
	if a.Family != "" && a.Family != "ipv4" {
		s += " (" + a.Family + ")"
	}
	if a.Interface != "" {
		s += " on " + a.Interface
	}
	return s
}

// Summary is a one-line description: "duplicate_master VRID 51 on eth0".
func (a *Alert) Summary() string {
	if a.Labels[LabelAlertName] == TestAlertName {
		return a.Annotations[AnnotationSummary]
	}
	return a.Kind + a.where()
}

// Description is the finding's message followed by its evidence.
func (a *Alert) Description() string {
	var b strings.Builder
	b.WriteString(a.Message)
	if a.Message == "" {
		b.WriteString(a.Summary())
	}
	line := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "\n%s: %s", name, v)
		}
	}
	line("sources", strings.Join(a.Sources, ", "))
	line("MACs", strings.Join(a.MACs, ", "))
	line("VIPs", strings.Join(a.VIPs, ", "))
	line("first seen", timeString(a.FirstSeen))
	line("last seen", timeString(a.LastSeen))
	return b.String()
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// clone returns a deep copy of a.
func (a Alert) clone() Alert {
	a.Labels = cloneMap(a.Labels)
	a.Annotations = cloneMap(a.Annotations)
	a.Sources = append([]string(nil), a.Sources...)
	a.MACs = append([]string(nil), a.MACs...)
	a.VIPs = append([]string(nil), a.VIPs...)
	return a
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// isTest reports whether a is the SendTest alert.
func (a *Alert) isTest() bool { return a.Labels[LabelAlertName] == TestAlertName }
