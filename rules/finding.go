package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Kind names a finding. The names are part of vrrpguard's public interface
// (JSON output, alert labels, metrics): never rename one.
type Kind string

// Finding kinds.
const (
	DuplicateMaster  Kind = "duplicate_master"
	VIPOnBackup      Kind = "vip_on_backup"
	AuthMismatch     Kind = "auth_mismatch"
	VRIDMismatch     Kind = "vrid_mismatch"
	VRIDConflict     Kind = "vrid_conflict"
	VersionMismatch  Kind = "version_mismatch"
	IntervalMismatch Kind = "interval_mismatch"
	OwnerConflict    Kind = "owner_conflict"
	MasterFlapping   Kind = "master_flapping"
	NoMaster         Kind = "no_master"
	TTLInvalid       Kind = "ttl_invalid"
	ChecksumInvalid  Kind = "checksum_invalid"
	MalformedPacket  Kind = "malformed_packet"
	UnexpectedRouter Kind = "unexpected_router"
	TableFull        Kind = "table_full"
	// AlertsDropped is raised by package alert, not by the engine: a
	// sink's outbox overflowed and undelivered notifications were dropped.
	AlertsDropped Kind = "alerts_dropped"
	// OutboxUnwritable is raised by package alert, not by the engine: the
	// alert state directory cannot be written (disk full, read-only), so
	// notifications are kept in memory only and would not survive a
	// restart.
	OutboxUnwritable Kind = "outbox_unwritable"
	// CaptureDown is raised by the live watcher, not by the engine: the
	// capture on an interface has been down (the interface is missing,
	// down, or was deleted) for a while, so its segments are unwatched.
	CaptureDown Kind = "capture_down"
)

// Finding kinds about the aftermath of a split brain and about the local
// participant.
const (
	// StaleAnnouncement: after a split brain ended, the last ARP/ND
	// announcement of a VIP came from a MAC that is not the master's.
	StaleAnnouncement Kind = "stale_announcement"
	// SelfDemoted: the local participant (vrrpguard run) stepped down
	// because a rival it cannot validate is master and outranks it.
	SelfDemoted Kind = "self_demoted"
)

// Kinds lists every finding kind.
func Kinds() []Kind {
	return []Kind{DuplicateMaster, VIPOnBackup, AuthMismatch, VRIDMismatch, VRIDConflict, VersionMismatch,
		IntervalMismatch, OwnerConflict, MasterFlapping, NoMaster, TTLInvalid, ChecksumInvalid, MalformedPacket,
		UnexpectedRouter, TableFull, StaleAnnouncement, SelfDemoted, AlertsDropped, OutboxUnwritable, CaptureDown}
}

// Severity of a finding.
type Severity string

// Severities, most severe first.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Rank orders severities: critical 3, warning 2, info 1.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// SeverityOf is the severity of each kind.
func SeverityOf(k Kind) Severity {
	switch k {
	case DuplicateMaster, VIPOnBackup, NoMaster:
		return Critical
	}
	return Warning
}

// State of a finding notice.
type State string

// Finding states.
const (
	Raised   State = "raised"
	Resolved State = "resolved"
)

// Finding is a problem raised or resolved.
type Finding struct {
	Kind      Kind
	State     State
	Severity  Severity
	Interface string
	Family    vrrp.Family
	VRID      uint8
	Sources   []netip.Addr
	MACs      []obs.MAC
	VIPs      []netip.Addr
	FirstSeen time.Time // when the problem began (as the engine's clock saw it)
	LastSeen  time.Time // last evidence of it
	// At is when this notice was issued: raise or resolve time.
	At      time.Time
	Message string
	// Fingerprint identifies the problem: the same for the same problem
	// across restarts and across watchers on the same segment (it omits
	// the local interface name).
	Fingerprint string
}

// Event is a normal-life occurrence worth a line, not a finding.
type Event struct {
	Type      string // "master_change"
	Time      time.Time
	Interface string
	Family    vrrp.Family
	VRID      uint8
	Old, New  netip.Addr // old is invalid when there was none
	OldMAC    obs.MAC
	NewMAC    obs.MAC
	Priority  uint8
	// Reason: "election" (first master seen), "preemption", "handover"
	// (old master resigned with priority 0), "takeover" (old master went
	// silent).
	Reason string
}

// Probe asks the capture edge to find out who holds Addr on Interface: an
// ARP probe (RFC 5227) for IPv4, a neighbour solicitation from the
// unspecified address for IPv6. Holders answer; the answers come back as
// observations.
type Probe struct {
	Interface string
	Addr      netip.Addr
}

// Output is an Event, a Finding or a Probe.
type Output struct {
	Event   *Event
	Finding *Finding
	Probe   *Probe
}

// AlertsDroppedFinding returns the alerts_dropped finding, raised at now, of the
// alert sink named sink whose outbox overflowed: n undelivered
// notifications were dropped since the finding was raised. Its fingerprint
// depends on the sink only, so further overflows update one finding.
func AlertsDroppedFinding(now time.Time, n int, sink string) Finding {
	return Finding{
		Kind: AlertsDropped, State: Raised, Severity: SeverityOf(AlertsDropped),
		FirstSeen: now, LastSeen: now, At: now,
		Message: "the alert outbox of sink " + sink + " is full: " + strconv.Itoa(n) +
			" undelivered notifications were dropped — the sink has been unreachable for long; check it and the vrrpguard_alerts_* metrics",
		Fingerprint: fingerprint(AlertsDropped, vrrp.FamilyUnknown, 0, sink),
	}
}

// OutboxUnwritableFinding returns the outbox_unwritable finding, raised at
// now, of the alert state directory dir that cannot be written; cause is
// the write error. Its fingerprint depends on dir only.
func OutboxUnwritableFinding(now time.Time, dir, cause string) Finding {
	return Finding{
		Kind: OutboxUnwritable, State: Raised, Severity: SeverityOf(OutboxUnwritable),
		FirstSeen: now, LastSeen: now, At: now,
		Message: "the alert state directory " + dir + " cannot be written (" + cause +
			"): notifications are delivered from memory but would be lost on a restart; free space there or check its permissions",
		Fingerprint: fingerprint(OutboxUnwritable, vrrp.FamilyUnknown, 0, dir),
	}
}

// CaptureDownFinding returns the capture_down finding of iface, whose
// capture has been down since since for reason (raised), or is back
// (resolved), at now. Its fingerprint depends on the interface only.
func CaptureDownFinding(now, since time.Time, iface, reason string, resolved bool) Finding {
	f := Finding{
		Kind: CaptureDown, State: Raised, Severity: SeverityOf(CaptureDown), Interface: iface,
		FirstSeen: since, LastSeen: now, At: now,
		Message: "capture on " + iface + " has been down since " + since.Format(time.RFC3339) + " (" + reason +
			"): its segments are not watched — check the interface (ip link show " + iface + ")",
		Fingerprint: fingerprint(CaptureDown, vrrp.FamilyUnknown, 0, iface),
	}
	if resolved {
		f.State = Resolved
		f.Message = "capture on " + iface + " resumed after " + now.Sub(since).Round(time.Millisecond).String() + " down"
	}
	return f
}

// fingerprint hashes the identity of a problem.
func fingerprint(k Kind, fam vrrp.Family, vrid uint8, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(string(k) + "|" + fam.String() + "|" + strconv.Itoa(int(vrid))))
	for _, p := range parts {
		h.Write([]byte("|" + p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func addrsKey(a []netip.Addr) string {
	// Appended in one buffer: one allocation (a new router of a flood
	// computes its key on every packet).
	var buf [128]byte
	b := buf[:0]
	for i, x := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if !x.IsValid() {
			b = append(b, x.String()...) // "invalid IP"; AppendTo appends nothing
			continue
		}
		b = x.AppendTo(b)
	}
	return string(b)
}

func sortedAddrs(a []netip.Addr) []netip.Addr {
	out := slices.Clone(a)
	slices.SortFunc(out, func(x, y netip.Addr) int { return x.Compare(y) })
	return slices.Compact(out)
}

func addrList(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}
