package output

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/rules"
)

// FindingJSON is the JSON form of a raised or resolved finding.
type FindingJSON struct {
	Type        string   `json:"type"`
	Time        string   `json:"time"`
	Kind        string   `json:"kind"`
	State       string   `json:"state"`
	Severity    string   `json:"severity"`
	Interface   string   `json:"interface"`
	Family      string   `json:"family"`
	VRID        uint8    `json:"vrid"`
	Sources     []string `json:"sources"`
	MACs        []string `json:"macs"`
	VIPs        []string `json:"vips"`
	FirstSeen   string   `json:"first_seen"`
	LastSeen    string   `json:"last_seen"`
	Message     string   `json:"message"`
	Fingerprint string   `json:"fingerprint"`
}

// EventJSON is the JSON form of an event.
type EventJSON struct {
	Type      string `json:"type"`
	Event     string `json:"event"`
	Time      string `json:"time"`
	Interface string `json:"interface"`
	Family    string `json:"family"`
	VRID      uint8  `json:"vrid"`
	Old       string `json:"old,omitempty"`
	OldMAC    string `json:"old_mac,omitempty"`
	New       string `json:"new"`
	NewMAC    string `json:"new_mac"`
	Priority  uint8  `json:"priority"`
	Reason    string `json:"reason"`
}

func addrStrings(a []netip.Addr) []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = x.String()
	}
	return out
}

func macStrings(m []obs.MAC) []string {
	out := make([]string, len(m))
	for i, x := range m {
		out[i] = x.String()
	}
	return out
}

// ToFindingJSON converts a finding.
func ToFindingJSON(f *rules.Finding) FindingJSON {
	return FindingJSON{Type: "finding", Time: TimeJSON(f.At), Kind: string(f.Kind), State: string(f.State), Severity: string(f.Severity),
		Interface: f.Interface, Family: f.Family.String(), VRID: f.VRID, Sources: addrStrings(f.Sources), MACs: macStrings(f.MACs),
		VIPs: addrStrings(f.VIPs), FirstSeen: TimeJSON(f.FirstSeen), LastSeen: TimeJSON(f.LastSeen), Message: f.Message, Fingerprint: f.Fingerprint}
}

// Finding prints a raised or resolved finding.
func (p *Printer) Finding(f *rules.Finding) {
	if p.format == JSON {
		p.json(ToFindingJSON(f))
		return
	}
	state := "RAISED  "
	if f.State == rules.Resolved {
		state = "RESOLVED"
	}
	vrid := ""
	if f.VRID != 0 {
		vrid = fmt.Sprintf(" vrid %d", f.VRID)
	}
	iface := f.Interface
	if iface == "" {
		iface = "-"
	}
	p.line(fmt.Sprintf("%s %-8s %s %-8s %s%s: %s [%s]", p.TimeText(f.At), iface, state, f.Severity, f.Kind, vrid, f.Message, f.Fingerprint))
}

// Event prints an event.
func (p *Printer) Event(e *rules.Event) {
	if p.format == JSON {
		j := EventJSON{Type: "event", Event: e.Type, Time: TimeJSON(e.Time), Interface: e.Interface, Family: e.Family.String(),
			VRID: e.VRID, New: e.New.String(), NewMAC: e.NewMAC.String(), Priority: e.Priority, Reason: e.Reason}
		if e.Old.IsValid() {
			j.Old, j.OldMAC = e.Old.String(), e.OldMAC.String()
		}
		p.json(j)
		return
	}
	old := "none"
	if e.Old.IsValid() {
		old = e.Old.String()
	}
	p.line(fmt.Sprintf("%s %-8s master   vrid %d: %s -> %s (%s) prio %d, %s", p.TimeText(e.Time), e.Interface, e.VRID, old,
		e.New, e.NewMAC, e.Priority, strings.ReplaceAll(e.Reason, "_", " ")))
}
