package demote

import (
	"strconv"
	"strings"
)

const stamp = "15:04:05.000"

// String formats the evidence as key=value pairs for a log line.
func (e Evidence) String() string {
	var b strings.Builder
	b.WriteString("rival=" + e.Rival.String() + " mac=" + e.MAC.String() +
		" vrid=" + strconv.Itoa(int(e.VRID)) + " priority=" + strconv.Itoa(int(e.Priority)) +
		" own_priority=" + strconv.Itoa(int(e.OwnPriority)) + " claim=" + string(e.Claim))
	if e.VIP.IsValid() {
		b.WriteString(" vip=" + e.VIP.String())
	}
	if e.Reject != "" {
		b.WriteString(" reject=" + strconv.Quote(e.Reject))
	}
	if !e.LastAdvert.IsZero() {
		b.WriteString(" last_advert=" + e.LastAdvert.Format(stamp))
	}
	if !e.LastAnswer.IsZero() {
		b.WriteString(" last_answer=" + e.LastAnswer.Format(stamp))
	}
	if e.Seen != "" {
		b.WriteString(" seen=" + strconv.Quote(e.Seen) + " at=" + e.SeenAt.Format(stamp))
	}
	return b.String()
}

// who names the rival.
func (e Evidence) who() string { return e.Rival.String() + " (" + e.MAC.String() + ")" }

// how says how the rival claims the addresses, and what to fix.
func (e Evidence) how() (how, fix string) {
	vip := e.VIP.String()
	switch e.Claim {
	case ClaimRejected:
		how = "advertises VRID " + strconv.Itoa(int(e.VRID)) + " with advertisements this node rejects"
		if e.Reject != "" {
			how += " (" + e.Reject + ")"
		}
		fix = "make the VRRP settings of " + e.Rival.String() + " and this node agree (password, version, interval, addresses)"
	case ClaimUnheard:
		how = "advertises VRID " + strconv.Itoa(int(e.VRID)) + " with valid advertisements that are captured here but never reach this node's VRRP socket"
		fix = "fix the firewall on this node (or on the path to it): it drops VRRP (IP protocol 112) from " + e.Rival.String()
	case ClaimOtherVRID:
		how = "advertises " + vip + " in VRID " + strconv.Itoa(int(e.VRID))
		fix = "remove " + vip + " from one of the two virtual routers (on " + e.Rival.String() + " or on this node)"
	case ClaimAnswers:
		how = "stopped advertising but still answers for " + vip +
			" (keepalived does so after rejecting a higher-priority advertisement, e.g. with the wrong password)"
		fix = "fix the VRRP settings of " + e.Rival.String() + " so it accepts this node's advertisements, or remove " + vip + " from it"
	default:
		how = "claims " + vip
		fix = "check the VRRP configuration of " + e.Rival.String()
	}
	return how, fix
}

// Message is a finding message: what the instance did, because of whom,
// and which node to fix.
func (d Demote) Message() string {
	e := d.Evidence
	how, fix := e.how()
	prio := "priority " + strconv.Itoa(int(e.Priority)) + ", ours " + strconv.Itoa(int(e.OwnPriority))
	var why string
	switch d.Reason {
	case ReasonOutranked:
		why = e.who() + " outranks this node (" + prio + ") and " + how
	case ReasonHoldExpired:
		why = e.who() + " (" + prio + ") " + how + ", and still held the addresses after this node kept them for the hold time: it does not yield"
	case ReasonRivalReturned:
		why = e.who() + " (" + prio + "), which did not yield before, " + how + " again"
	default:
		why = e.who() + " " + how
	}
	return "instance " + d.Instance + " gave up its virtual addresses to end a split brain: " + why + " — " + fix
}

// Message is a finding message for the end of a demotion.
func (r Resume) Message() string {
	e := r.Evidence
	if !e.Rival.IsValid() {
		return "instance " + r.Instance + " resumed: no rival left"
	}
	var why string
	switch r.Reason {
	case ReasonRivalResigned:
		why = e.who() + " resigned (priority-0 advertisement)"
	default:
		why = e.who() + " went silent"
		if !e.SeenAt.IsZero() {
			why += " (last seen " + e.SeenAt.Format(stamp) + ": " + e.Seen + ")"
		}
	}
	return "instance " + r.Instance + " resumed its election: " + why
}

// String formats the action for logs and test failures.
func (d Demote) String() string {
	return "Demote(" + d.Instance + ", " + string(d.Reason) + ", " + d.Evidence.String() + ")"
}

// String formats the action for logs and test failures.
func (r Resume) String() string {
	return "Resume(" + r.Instance + ", " + string(r.Reason) + ", " + r.Evidence.String() + ")"
}

// String formats the action for logs and test failures.
func (p Probe) String() string { return "Probe(" + p.Interface + ", " + p.VIP.String() + ")" }

// String formats the action for logs and test failures.
func (a Reannounce) String() string {
	return "Reannounce(" + a.Instance + ", " + a.Evidence.String() + ")"
}
