// Package status is what `vrrpguard watch` and `vrrpguard run` say about the
// segments they watch, in the three forms a person or a program reads: the
// JSON document of GET /api/v1/status, a server-rendered HTML page (standard
// library templates, no JavaScript, refreshing itself, readable on a phone)
// and the terminal tables of `vrrpguard status`. The document is built from
// a rules.Snapshot (routers, masters, VRRP virtual addresses and who answers
// for them, RFC 5798 / RFC 3768) plus, for `run`, the participant's own
// instances. Nothing secret is in it: passwords appear only as digests.
package status

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vrrpguard/vrrpguard/demote"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/rules"
)

// Doc is the JSON document of GET /api/v1/status.
type Doc struct {
	Version string `json:"version"`
	// Command is "watch" or "run"; Node the name of this node in alerts.
	Command string    `json:"command"`
	Node    string    `json:"node"`
	Time    time.Time `json:"time"`
	// Segments are the VRRP segments seen (interface, family, VRID).
	Segments []Segment `json:"segments"`
	// VIPs are the virtual addresses and who answers for them.
	VIPs []VIP `json:"vips"`
	// Findings are the active findings.
	Findings []output.FindingJSON `json:"findings"`
	// Instances are the participant's own instances (run only).
	Instances []participant.Status `json:"instances,omitempty"`
	// Demotion is the self-demotion state of the own instances (run
	// --self-demote).
	Demotion []Demotion `json:"demotion,omitempty"`
	Engine   Engine     `json:"engine"`
}

// Segment is one virtual router on one interface.
type Segment struct {
	Interface string `json:"interface"`
	Family    string `json:"family"`
	VRID      uint8  `json:"vrid"`
	// Health is "ok" (one master), "split_brain" (two or more) or
	// "no_master".
	Health string `json:"health"`
	// Masters counts the routers acting as master now.
	Masters     int       `json:"masters"`
	Master      string    `json:"master,omitempty"`
	MasterMAC   string    `json:"master_mac,omitempty"`
	MasterSince time.Time `json:"master_since,omitzero"`
	IntervalMS  int64     `json:"interval_ms"`
	LastAdvert  time.Time `json:"last_advert,omitzero"`
	Routers     []Router  `json:"routers"`
}

// Router is one router advertising on a segment.
type Router struct {
	Address    string    `json:"address"`
	MAC        string    `json:"mac"`
	Priority   uint8     `json:"priority"`
	Version    uint8     `json:"version"`
	IntervalMS int64     `json:"interval_ms"`
	AuthType   string    `json:"auth_type,omitempty"`
	AuthDigest string    `json:"auth_digest,omitempty"`
	VIPs       []string  `json:"vips"`
	FirstAdv   time.Time `json:"first_advert"`
	LastAdv    time.Time `json:"last_advert"`
	Adverts    uint64    `json:"adverts"`
	// Role is "master", "master (rival)" for a second live master,
	// "resigned" or "backup".
	Role string `json:"role"`
}

// VIP is a virtual address and the hosts that answer for it.
type VIP struct {
	Interface    string   `json:"interface,omitempty"`
	Family       string   `json:"family"`
	Address      string   `json:"address"`
	VRIDs        []uint8  `json:"vrids"`
	Holders      []Holder `json:"holders"`
	Expected     bool     `json:"expected"`
	ExpectedVRID uint8    `json:"expected_vrid,omitempty"`
}

// Holder is a MAC that announced or answered for a virtual address.
type Holder struct {
	MAC              string    `json:"mac"`
	Router           string    `json:"router,omitempty"`
	LastClaim        time.Time `json:"last_claim"`
	LastAnnouncement time.Time `json:"last_announcement,omitzero"`
}

// Engine is the detection engine's table statistics.
type Engine struct {
	Segments        int    `json:"segments"`
	Routers         int    `json:"routers"`
	VIPs            int    `json:"vips"`
	ActiveFindings  int    `json:"active_findings"`
	Evictions       uint64 `json:"evictions"`
	FindingsDropped uint64 `json:"findings_dropped"`
	Ignored         uint64 `json:"ignored_observations"`
}

// Build makes the document from an engine snapshot; the caller sets
// Version, Command, Node and Instances.
func Build(s rules.Snapshot) Doc {
	d := Doc{Time: s.At, Segments: []Segment{}, VIPs: []VIP{}, Findings: []output.FindingJSON{}}
	for i := range s.Segments {
		d.Segments = append(d.Segments, segment(&s.Segments[i]))
	}
	for i := range s.VIPs {
		d.VIPs = append(d.VIPs, vip(&s.VIPs[i]))
	}
	for i := range s.Findings {
		d.Findings = append(d.Findings, output.ToFindingJSON(&s.Findings[i]))
	}
	st := s.Stats
	d.Engine = Engine{Segments: st.Segments, Routers: st.Routers, VIPs: st.VIPs, ActiveFindings: st.ActiveFindings,
		Evictions: st.Evictions, FindingsDropped: st.FindingsDropped, Ignored: st.Ignored}
	return d
}

func segment(g *rules.SegmentSnapshot) Segment {
	out := Segment{Interface: g.Interface, Family: g.Family.String(), VRID: g.VRID, Masters: g.LiveMasters,
		IntervalMS: g.Interval.Milliseconds(), LastAdvert: g.LastAdvert, Routers: []Router{}}
	switch {
	case g.LiveMasters == 0:
		out.Health = "no_master"
	case g.LiveMasters > 1:
		out.Health = "split_brain"
	default:
		out.Health = "ok"
	}
	if g.Master.IsValid() {
		out.Master, out.MasterMAC, out.MasterSince = g.Master.String(), g.MasterMAC.String(), g.MasterSince
	}
	for _, r := range g.Routers {
		rt := Router{Address: r.Addr.String(), MAC: r.MAC.String(), Priority: r.Priority, Version: r.Version,
			IntervalMS: r.Interval.Milliseconds(), AuthDigest: r.AuthDigest, VIPs: addrs(r.VIPs),
			FirstAdv: r.FirstAdvert, LastAdv: r.LastAdvert, Adverts: r.Adverts, Role: role(&r)}
		if r.Version == 2 {
			rt.AuthType = r.AuthType.String()
		}
		out.Routers = append(out.Routers, rt)
	}
	return out
}

func role(r *rules.RouterSnapshot) string {
	switch {
	case r.Master:
		return "master"
	case r.LiveMaster:
		return "master (rival)"
	case r.Resigned:
		return "resigned"
	}
	return "backup"
}

func vip(v *rules.VIPSnapshot) VIP {
	out := VIP{Interface: v.Interface, Family: v.Family.String(), Address: v.Addr.String(), VRIDs: v.VRIDs,
		Holders: []Holder{}, Expected: v.Expected, ExpectedVRID: v.ExpectedVRID}
	if out.VRIDs == nil {
		out.VRIDs = []uint8{}
	}
	for _, h := range v.Holders {
		hd := Holder{MAC: h.MAC.String(), LastClaim: h.LastClaim, LastAnnouncement: h.LastAnnouncement}
		if h.Router.IsValid() {
			hd.Router = h.Router.String()
		}
		out.Holders = append(out.Holders, hd)
	}
	return out
}

func addrs(a []netip.Addr) []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = x.String()
	}
	return out
}

// Demotion is the self-demotion state of an own instance (`run
// --self-demote`).
type Demotion struct {
	Instance string `json:"instance"`
	// Mode is normal, suspect (a rival is seen, not yet confirmed),
	// holding (outranking a live rival, waiting for it to yield) or
	// demoted.
	Mode      string    `json:"mode"`
	Since     time.Time `json:"since"`
	HoldUntil time.Time `json:"hold_until,omitzero"`
	// Reason is the last demotion's while demoted (outranked,
	// hold_expired, rival_returned).
	Reason string  `json:"reason,omitempty"`
	Rivals []Rival `json:"rivals"`
}

// Rival is a router that claims an own instance's addresses.
type Rival struct {
	Address    string    `json:"address"`
	MAC        string    `json:"mac"`
	VRID       uint8     `json:"vrid"`
	Priority   uint8     `json:"priority"`
	Claim      string    `json:"claim"`
	Live       bool      `json:"live"`
	Outranks   bool      `json:"outranks"`
	LastAdvert time.Time `json:"last_advert,omitzero"`
	LastAnswer time.Time `json:"last_answer,omitzero"`
}

// Demotions converts the self-demotion policies' snapshots, by instance.
func Demotions(snaps map[string]demote.Snapshot) []Demotion {
	out := []Demotion{}
	for _, s := range snaps {
		d := Demotion{Instance: s.Instance, Mode: s.Mode.String(), Since: s.Since, HoldUntil: s.HoldUntil,
			Reason: string(s.Reason), Rivals: []Rival{}}
		for _, r := range s.Rivals {
			d.Rivals = append(d.Rivals, Rival{Address: r.Addr.String(), MAC: r.MAC.String(), VRID: r.VRID, Priority: r.Priority,
				Claim: string(r.Claim), Live: r.Live, Outranks: r.Outranks, LastAdvert: r.LastAdvert, LastAnswer: r.LastAnswer})
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Demotion) int { return strings.Compare(a.Instance, b.Instance) })
	return out
}
