// Package output prints what vrrpguard sees and decides, one line per
// event: JSON objects with a "type" for machines, aligned text for people.
package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/vrrp"
)

// Format is an output format.
type Format string

// Output formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat accepts "text" or "json".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Text, JSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want text or json)", s)
}

// Printer writes lines to w. It is safe for concurrent use.
type Printer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	format Format
	loc    *time.Location
	// AutoFlush flushes after each line (live capture).
	AutoFlush bool
}

// New returns a printer. Text times are shown in loc (time.Local if nil).
func New(w io.Writer, f Format, loc *time.Location) *Printer {
	if loc == nil {
		loc = time.Local
	}
	return &Printer{w: bufio.NewWriterSize(w, 64<<10), format: f, loc: loc}
}

// Flush writes buffered lines.
func (p *Printer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Flush()
}

func (p *Printer) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w.WriteString(s)
	p.w.WriteByte('\n')
	if p.AutoFlush {
		p.w.Flush()
	}
}

func (p *Printer) json(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"type": "error", "message": err.Error()})
	}
	p.line(string(b))
}

// Advert is the JSON form of an advertisement.
type Advert struct {
	Type       string   `json:"type"`
	Time       string   `json:"time"`
	Interface  string   `json:"interface"`
	VLAN       uint16   `json:"vlan,omitempty"`
	SrcMAC     string   `json:"src_mac"`
	Family     string   `json:"family"`
	Src        string   `json:"src"`
	Dst        string   `json:"dst"`
	TTL        uint8    `json:"ttl"`
	Version    uint8    `json:"version"`
	VRID       uint8    `json:"vrid"`
	Priority   uint8    `json:"priority"`
	IntervalMS int64    `json:"interval_ms"`
	AuthType   string   `json:"auth_type,omitempty"`
	AuthDigest string   `json:"auth_digest,omitempty"`
	Addresses  []string `json:"addresses"`
	Checksum   string   `json:"checksum"`
}

// ARP is the JSON form of an ARP observation.
type ARP struct {
	Type       string `json:"type"`
	Time       string `json:"time"`
	Interface  string `json:"interface"`
	VLAN       uint16 `json:"vlan,omitempty"`
	SrcMAC     string `json:"src_mac"`
	Op         string `json:"op"`
	Gratuitous bool   `json:"gratuitous"`
	SenderIP   string `json:"sender_ip"`
	SenderMAC  string `json:"sender_mac"`
	TargetIP   string `json:"target_ip"`
}

// ND is the JSON form of a neighbour advertisement.
type ND struct {
	Type      string `json:"type"`
	Time      string `json:"time"`
	Interface string `json:"interface"`
	VLAN      uint16 `json:"vlan,omitempty"`
	SrcMAC    string `json:"src_mac"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	TTL       uint8  `json:"ttl"`
	Target    string `json:"target"`
	TargetMAC string `json:"target_mac"`
	Router    bool   `json:"router"`
	Solicited bool   `json:"solicited"`
	Override  bool   `json:"override"`
}

// Invalid is the JSON form of a VRRP packet that failed validation.
type Invalid struct {
	Type      string `json:"type"`
	Time      string `json:"time"`
	Interface string `json:"interface"`
	VLAN      uint16 `json:"vlan,omitempty"`
	SrcMAC    string `json:"src_mac"`
	Family    string `json:"family"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	TTL       uint8  `json:"ttl"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
}

// TimeJSON formats a packet timestamp for JSON output.
func TimeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func addrStr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// AdvertJSON converts an advert observation to its JSON form.
func AdvertJSON(o *obs.Observation) Advert {
	a := &o.Advert
	j := Advert{
		Type: "advert", Time: TimeJSON(o.Time), Interface: o.Interface, VLAN: o.VLAN,
		SrcMAC: o.SrcMAC.String(), Family: o.Family.String(), Src: addrStr(o.Src), Dst: addrStr(o.Dst), TTL: o.TTL,
		Version: a.Version, VRID: a.VRID, Priority: a.Priority, IntervalMS: a.Interval.Milliseconds(),
		Addresses: make([]string, len(a.Addresses)), Checksum: o.Checksum.String(),
	}
	for i, ad := range a.Addresses {
		j.Addresses[i] = ad.String()
	}
	if a.Version == 2 {
		j.AuthType = a.AuthType.String()
		if a.AuthType == vrrp.AuthSimple {
			j.AuthDigest = vrrp.AuthDigest(a.AuthData)
		}
	}
	return j
}

// Observation prints an advertisement, ARP, ND or invalid packet.
func (p *Printer) Observation(o *obs.Observation) {
	if p.format == JSON {
		switch o.Kind {
		case obs.KindAdvert:
			p.json(AdvertJSON(o))
		case obs.KindARP:
			p.json(ARP{Type: "arp", Time: TimeJSON(o.Time), Interface: o.Interface, VLAN: o.VLAN, SrcMAC: o.SrcMAC.String(),
				Op: o.ARP.Op.String(), Gratuitous: o.ARP.Gratuitous, SenderIP: addrStr(o.ARP.SenderIP),
				SenderMAC: o.ARP.SenderMAC.String(), TargetIP: addrStr(o.ARP.TargetIP)})
		case obs.KindND:
			p.json(ND{Type: "nd", Time: TimeJSON(o.Time), Interface: o.Interface, VLAN: o.VLAN, SrcMAC: o.SrcMAC.String(),
				Src: addrStr(o.Src), Dst: addrStr(o.Dst), TTL: o.TTL, Target: addrStr(o.ND.Target), TargetMAC: o.ND.TargetMAC.String(),
				Router: o.ND.Router, Solicited: o.ND.Solicited, Override: o.ND.Override})
		case obs.KindInvalid:
			p.json(Invalid{Type: "invalid", Time: TimeJSON(o.Time), Interface: o.Interface, VLAN: o.VLAN, SrcMAC: o.SrcMAC.String(),
				Family: o.Family.String(), Src: addrStr(o.Src), Dst: addrStr(o.Dst), TTL: o.TTL,
				Reason: o.Reason.Code(), Message: strings.TrimPrefix(o.Reason.Error(), "vrrp: ")})
		}
		return
	}
	p.line(p.observationText(o))
}

// TimeText formats a timestamp for people: local clock with milliseconds.
func (p *Printer) TimeText(t time.Time) string { return t.In(p.loc).Format("15:04:05.000") }

func (p *Printer) observationText(o *obs.Observation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-8s ", p.TimeText(o.Time), o.Interface)
	switch o.Kind {
	case obs.KindAdvert:
		a := &o.Advert
		fmt.Fprintf(&b, "v%d vrid %-3d prio %-3d %s (%s)", a.Version, a.VRID, a.Priority, addrStr(o.Src), o.SrcMAC)
		b.WriteString(" vips ")
		for i, ad := range a.Addresses {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ad.String())
		}
		fmt.Fprintf(&b, " int %s", fmtInterval(a.Interval))
		if a.Version == 2 {
			fmt.Fprintf(&b, " auth %s", a.AuthType)
			if a.AuthType == vrrp.AuthSimple {
				fmt.Fprintf(&b, " (%s)", vrrp.AuthDigest(a.AuthData))
			}
		}
		if o.TTL != vrrp.TTL {
			fmt.Fprintf(&b, " TTL %d!", o.TTL)
		}
		switch o.Checksum {
		case vrrp.ChecksumInvalid:
			b.WriteString(" BAD CHECKSUM")
		case vrrp.ChecksumValidWithoutPseudoHeader:
			b.WriteString(" (checksum without pseudo-header)")
		}
	case obs.KindARP:
		what := "arp " + o.ARP.Op.String()
		if o.ARP.Gratuitous {
			what = "garp"
		}
		fmt.Fprintf(&b, "%-4s %s is-at %s", what, o.ARP.SenderIP, o.ARP.SenderMAC)
		if !o.ARP.Gratuitous {
			fmt.Fprintf(&b, " (target %s)", o.ARP.TargetIP)
		}
	case obs.KindND:
		fmt.Fprintf(&b, "na   %s is-at %s", o.ND.Target, o.ND.TargetMAC)
		var fl []string
		if o.ND.Router {
			fl = append(fl, "router")
		}
		if o.ND.Solicited {
			fl = append(fl, "solicited")
		}
		if o.ND.Override {
			fl = append(fl, "override")
		}
		if len(fl) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(fl, ","))
		}
	case obs.KindInvalid:
		fmt.Fprintf(&b, "INVALID VRRP from %s (%s): %s", addrStr(o.Src), o.SrcMAC, strings.TrimPrefix(o.Reason.Error(), "vrrp: "))
		if o.TTL != vrrp.TTL {
			fmt.Fprintf(&b, " TTL %d", o.TTL)
		}
	}
	return b.String()
}

func fmtInterval(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
