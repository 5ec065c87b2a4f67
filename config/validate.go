package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// validate checks values and fills per-entry defaults, section by
// section.
func (d *decoder) validate(f *File) {
	resolve := resolver(f.Path)
	d.validateWatchAndRules(f)
	d.validateExpects(f)
	for i, k := range f.Keepalived {
		d.check(k != "", "keepalived["+strconv.Itoa(i)+"]", "empty file name")
		f.Keepalived[i] = resolve(k)
	}
	a := &f.Alerts
	a.StateDir = resolve(a.StateDir)
	for i := range a.Webhooks {
		d.validateWebhook(&a.Webhooks[i], "alerts.webhooks["+strconv.Itoa(i)+"]", resolve)
	}
	for i := range a.Alertmanagers {
		m := &a.Alertmanagers[i]
		p := "alerts.alertmanagers[" + strconv.Itoa(i) + "]"
		d.checkURL(m.URL, p+".url")
		m.Timeout = d.defaultPositive(m.Timeout, 5*time.Second, p+".timeout")
		m.MinSeverity = d.severity(m.MinSeverity, p+".min_severity")
		d.kinds(m.Kinds, p+".kinds")
	}
	if a.Email != nil {
		d.validateEmail(a.Email, "alerts.email", resolve)
	}
	d.check(f.SelfDemote.Hold > 0, "self_demote.hold", "must be positive")
}

// resolver makes paths relative to the directory of the YAML file.
func resolver(yamlPath string) func(string) string {
	base := filepath.Dir(yamlPath)
	return func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
}

// validInterfaceName reports whether s can name a network interface ("":
// none).
func validInterfaceName(s string) bool {
	return len(s) <= ifNameMax && !strings.ContainsAny(s, "/ \t")
}

func (d *decoder) validateWatchAndRules(f *File) {
	w := &f.Watch
	d.check(w.Format == "text" || w.Format == "json", "watch.format", "expected text or json, got %q", w.Format)
	if w.Listen != "" {
		d.check(validHostPort(w.Listen), "watch.listen", "expected host:port (e.g. 127.0.0.1:9812), got %q", w.Listen)
	}
	for i, name := range w.Interfaces {
		p := "watch.interfaces[" + strconv.Itoa(i) + "]"
		d.check(name != "" && validInterfaceName(name), p, "invalid interface name %q", name)
		d.check(!slices.Contains(w.Interfaces[:i], name), p, "interface %q listed twice", name)
	}

	r := &f.Rules
	d.check(r.FlapWindow > 0, "rules.flap_window", "must be positive")
	d.check(r.FlapThreshold >= 2, "rules.flap_threshold", "must be at least 2, got %d", r.FlapThreshold)
	d.check(r.QuietPeriod > 0, "rules.quiet_period", "must be positive")
	d.check(r.RouterTimeout > 0, "rules.router_timeout", "must be positive")
	d.check(w.ProbeInterval == 0 || w.ProbeInterval >= time.Second, "watch.probe_interval", "must be 0 (off) or at least 1s, got %v", w.ProbeInterval)
	d.check(r.MaxSegments >= 1, "rules.max_segments", "must be at least 1, got %d", r.MaxSegments)
	d.check(r.MaxRouters >= 2, "rules.max_routers", "must be at least 2, got %d", r.MaxRouters)
	d.check(r.MaxRoutersPerSegment >= 2, "rules.max_routers_per_segment", "must be at least 2, got %d", r.MaxRoutersPerSegment)
	d.check(r.MaxVIPs >= 1, "rules.max_vips", "must be at least 1, got %d", r.MaxVIPs)
}

// expectEntry records an expect entry as written; validateExpects checks
// it and turns it into the rules.Expected.
func (d *decoder) expectEntry(n *yaml.Node, _ reflect.Value, path string, _ int) {
	e := &expectEntry{File: d.file, Line: n.Line}
	d.decodeStruct(n, reflect.ValueOf(e).Elem(), path)
	d.expects[path] = e
}

// validateExpects checks the expect entries, which must each describe a
// segment of their own, and makes them the configuration's rules.Expected.
func (d *decoder) validateExpects(f *File) {
	type segKey struct {
		ifname string
		vrid   int
		fam    vrrp.Family
	}
	seen := map[segKey]int{}
	for i := range f.Expect {
		p := "expect[" + strconv.Itoa(i) + "]"
		e := d.expects[p]
		if e == nil {
			e = &expectEntry{} // an empty entry
		}
		d.validateExpect(e, p)
		k := segKey{e.Interface, e.VRID, e.family()}
		if first, dup := seen[k]; dup {
			d.errorf(e.Line, "%s: another entry (line %d) expects the same interface, vrid and family", p, first)
		} else {
			seen[k] = e.Line
		}
		f.Expect[i] = e.expected()
	}
}

func (d *decoder) validateExpect(e *expectEntry, p string) {
	if _, set := d.lines[p+".vrid"]; !set {
		d.check(false, p, "vrid is required")
	} else {
		d.check(e.VRID >= 1 && e.VRID <= 255, p+".vrid", "expected a virtual router id 1-255, got %d", e.VRID)
	}
	d.check(validInterfaceName(e.Interface), p+".interface", "invalid interface name %q", e.Interface)
	d.check(e.Family == "" || e.Family == "ipv4" || e.Family == "ipv6", p+".family", "expected ipv4 or ipv6, got %q", e.Family)
	d.check(e.Version == 0 || e.Version == 2 || e.Version == 3, p+".version", "expected 2 or 3, got %d", e.Version)
	d.validateAdvertInt(e, p)
	fam := d.validateFamilies(e, p)
	d.validateAuth(e, p, fam)
}

// validateAdvertInt checks that the interval fits the version.
func (d *decoder) validateAdvertInt(e *expectEntry, p string) {
	if e.AdvertInt == 0 {
		return
	}
	switch e.Version {
	case 2:
		d.check(e.AdvertInt%time.Second == 0 && e.AdvertInt <= 255*time.Second, p+".advert_int", "VRRP version 2 needs whole seconds 1s-255s, got %s", e.AdvertInt)
	case 3:
		d.check(e.AdvertInt%(10*time.Millisecond) == 0 && e.AdvertInt <= 40950*time.Millisecond, p+".advert_int", "VRRP version 3 needs a multiple of 10ms up to 40.95s, got %s", e.AdvertInt)
	default:
		d.check(e.AdvertInt%(10*time.Millisecond) == 0 && e.AdvertInt <= 255*time.Second, p+".advert_int", "expected a multiple of 10ms, got %s", e.AdvertInt)
	}
}

// validateFamilies checks that the VIPs and peers are of one family, and
// returns it (FamilyUnknown if the entry names none).
func (d *decoder) validateFamilies(e *expectEntry, p string) vrrp.Family {
	fam := vrrp.FamilyUnknown
	switch e.Family {
	case "ipv4":
		fam = vrrp.IPv4
	case "ipv6":
		fam = vrrp.IPv6
	}
	one := func(af vrrp.Family, written fmt.Stringer, what string) {
		if fam == vrrp.FamilyUnknown {
			fam = af
		}
		d.check(af == fam, what, "%s is not %s like the entry's other addresses", written, fam)
	}
	for i, v := range e.VIPs {
		one(vrrp.FamilyOf(v.Addr()), v, p+".vips["+strconv.Itoa(i)+"]")
	}
	for i, a := range e.Peers {
		one(vrrp.FamilyOf(a), a, p+".peers["+strconv.Itoa(i)+"]")
	}
	return fam
}

// validateAuth checks the authentication keys of an entry of family fam,
// and writes a digest in lower case.
func (d *decoder) validateAuth(e *expectEntry, p string, fam vrrp.Family) {
	switch e.AuthType {
	case "", "none", "pass", "ah":
	default:
		d.check(false, p+".auth_type", "expected none, pass or ah, got %q", e.AuthType)
	}
	d.check(e.AuthPass == "" || e.AuthDigest == "", p+".auth_digest", "give auth_pass or auth_digest, not both")
	if e.AuthDigest != "" {
		_, err := hex.DecodeString(e.AuthDigest)
		d.check(len(e.AuthDigest) == 8 && err == nil, p+".auth_digest", "expected 8 hex digits, got %q", e.AuthDigest)
		e.AuthDigest = strings.ToLower(e.AuthDigest)
	}
	if e.AuthPass != "" || e.AuthDigest != "" {
		d.check(e.AuthType == "" || e.AuthType == "pass", p+".auth_type", "auth_pass and auth_digest need auth_type pass, got %q", e.AuthType)
	}
	if e.AuthType == "pass" {
		d.check(e.AuthPass != "" || e.AuthDigest != "", p+".auth_type", "auth_type pass needs auth_pass or auth_digest")
	}
	authKey := p + ".auth_type"
	switch {
	case e.AuthPass != "":
		authKey = p + ".auth_pass"
	case e.AuthDigest != "":
		authKey = p + ".auth_digest"
	}
	auth := e.AuthPass != "" || e.AuthDigest != "" || e.AuthType == "pass" || e.AuthType == "ah"
	d.check(!auth || (e.Version != 3 && fam != vrrp.IPv6), authKey, "authentication exists in VRRP version 2 over IPv4 only")
}

func (d *decoder) validateWebhook(h *Webhook, p string, resolve func(string) string) {
	d.checkURL(h.URL, p+".url")
	h.SecretFile = resolve(h.SecretFile)
	for k := range h.Headers {
		d.check(validHeaderName(k), p+".headers."+k, "invalid header name %q", k)
	}
	h.Timeout = d.defaultPositive(h.Timeout, 5*time.Second, p+".timeout")
	h.MinSeverity = d.severity(h.MinSeverity, p+".min_severity")
	d.kinds(h.Kinds, p+".kinds")
}

func (d *decoder) validateEmail(m *Email, p string, resolve func(string) string) {
	d.check(m.SMTP != "" && validHostPort(m.SMTP), p+".smtp", "expected host:port, got %q", m.SMTP)
	_, err := mail.ParseAddress(m.From)
	d.check(err == nil, p+".from", "expected an email address, got %q", m.From)
	d.check(len(m.To) > 0, p+".to", "at least one recipient is needed")
	for j, to := range m.To {
		_, err := mail.ParseAddress(to)
		d.check(err == nil, p+".to["+strconv.Itoa(j)+"]", "expected an email address, got %q", to)
	}
	if m.StartTLS == "" {
		m.StartTLS = "auto"
	}
	d.check(slices.Contains([]string{"auto", "always", "never"}, m.StartTLS), p+".starttls", "expected auto, always or never, got %q", m.StartTLS)
	d.check(m.PasswordFile == "" || m.PasswordEnv == "", p+".password_env", "give password_file or password_env, not both")
	d.check(m.Username != "" || (m.PasswordFile == "" && m.PasswordEnv == ""), p+".username", "a password needs a username")
	m.PasswordFile = resolve(m.PasswordFile)
	m.Timeout = d.defaultPositive(m.Timeout, 30*time.Second, p+".timeout")
	m.MinSeverity = d.severity(m.MinSeverity, p+".min_severity")
	d.kinds(m.Kinds, p+".kinds")
}
func (d *decoder) checkURL(s, path string) {
	u, err := url.Parse(s)
	d.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", path, "expected an http:// or https:// URL, got %q", s)
}

func (d *decoder) defaultPositive(v, def time.Duration, path string) time.Duration {
	if _, set := d.lines[path]; !set {
		return def
	}
	d.check(v > 0, path, "must be positive")
	return v
}

func (d *decoder) severity(s, path string) string {
	if s == "" {
		return "warning"
	}
	d.check(slices.Contains(severities, s), path, "expected one of %s, got %q", strings.Join(severities, ", "), s)
	return s
}

// kinds checks a list of finding kinds against rules.Kinds.
func (d *decoder) kinds(ks []string, path string) {
	if len(ks) == 0 {
		return
	}
	known := make([]string, 0, len(rules.Kinds()))
	for _, k := range rules.Kinds() {
		known = append(known, string(k))
	}
	for i, k := range ks {
		d.check(slices.Contains(known, k), path+"["+strconv.Itoa(i)+"]", "unknown finding kind %q (expected one of %s)", k, strings.Join(known, ", "))
	}
}

func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(host, " /") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
