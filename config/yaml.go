package config

import (
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// ifNameMax is the longest interface name Linux allows (IFNAMSIZ-1).
const ifNameMax = 15

// File is a vrrpguard YAML configuration. Every section and key is
// optional; LoadYAML fills what a file leaves out from Default(). Unknown
// keys are errors. Relative file paths are relative to the directory of the
// YAML file.
type File struct {
	// Path is the file the configuration was read from ("" for Default).
	Path string `yaml:"-"`
	// Watch configures capture and output of `vrrpguard watch`.
	Watch Watch `yaml:"watch"`
	// Rules are the detection engine's thresholds and table caps.
	Rules Rules `yaml:"rules"`
	// Expect lists VRRP segments as they should be, like keepalived
	// vrrp_instance blocks; traffic that contradicts them is reported.
	Expect []Expect `yaml:"expect"`
	// Keepalived lists keepalived.conf files (for example those of both
	// nodes of a pair) whose vrrp_instances are expected too.
	Keepalived []string `yaml:"keepalived"`
	// Alerts configures notifications.
	Alerts Alerts `yaml:"alerts"`
}

// Watch configures capture and output.
type Watch struct {
	// Interfaces to capture on; empty means every up, non-loopback
	// interface.
	Interfaces []string `yaml:"interfaces"`
	// Listen is the address of the HTTP server for /metrics and /healthz
	// (host:port); empty disables it. Default 127.0.0.1:9812.
	Listen string `yaml:"listen"`
	// Format of findings on standard output: "text" (default) or "json".
	Format string `yaml:"format"`
	// Promiscuous puts the interfaces in promiscuous mode, so ARP replies
	// unicast to other hosts are seen (default true).
	Promiscuous bool `yaml:"promiscuous"`
	// ProbeInterval: how often the watcher sends an ARP probe / neighbour
	// solicitation for each virtual address with a live master, to find
	// every host that holds it (more often while a non-master claims it).
	// 0 disables active probing. Default 10s; at least 1s.
	ProbeInterval time.Duration `yaml:"probe_interval"`
}

// Rules are the detection engine's parameters (see rules.Params).
type Rules struct {
	// FlapWindow and FlapThreshold: master_flapping is raised when the
	// master of a VRID changed FlapThreshold times (at least 2) within
	// FlapWindow. Default 4 changes in 60s.
	FlapWindow    time.Duration `yaml:"flap_window"`
	FlapThreshold int           `yaml:"flap_threshold"`
	// NoMasterMargin is added to the Master_Down_Interval before a silent
	// VRID raises no_master (default 1s).
	NoMasterMargin time.Duration `yaml:"no_master_margin"`
	// ResolveHold is how long a condition must stay false before its
	// finding resolves (default 5s).
	ResolveHold time.Duration `yaml:"resolve_hold"`
	// QuietPeriod: packet-level findings and VIP claims seen in ARP/ND
	// resolve after this long without new evidence (default 60s).
	QuietPeriod time.Duration `yaml:"quiet_period"`
	// RouterTimeout: a router that stopped advertising still counts for
	// configuration comparisons this long (default 60s).
	RouterTimeout time.Duration `yaml:"router_timeout"`
	// MaxSegments caps tracked (interface, family, VRID) segments
	// (default 4096).
	MaxSegments int `yaml:"max_segments"`
	// MaxRouters caps tracked routers over all segments (default 16384).
	MaxRouters int `yaml:"max_routers"`
	// MaxRoutersPerSegment caps routers per segment (default 64).
	MaxRoutersPerSegment int `yaml:"max_routers_per_segment"`
	// MaxVIPs caps tracked virtual addresses (default 16384).
	MaxVIPs int `yaml:"max_vips"`
}

// Expect is one expected VRRP segment. Fields left out are not checked.
type Expect struct {
	// File and Line locate the entry.
	File string `yaml:"-"`
	Line int    `yaml:"-"`
	// Name labels the entry in messages.
	Name string `yaml:"name"`
	// Interface the segment is on; empty matches any interface.
	Interface string `yaml:"interface"`
	// VRID is the virtual router id, 1-255 (required).
	VRID int `yaml:"vrid"`
	// Family is "ipv4" or "ipv6"; by default that of the VIPs or peers,
	// else ipv4.
	Family string `yaml:"family"`
	// Version is the VRRP version, 2 or 3.
	Version int `yaml:"version"`
	// AdvertInt is the advertisement interval: whole seconds (1s-255s) for
	// version 2, multiples of 10ms up to 40.95s for version 3.
	AdvertInt time.Duration `yaml:"advert_int"`
	// VIPs are the advertised virtual addresses (ADDRESS or
	// ADDRESS/PREFIXLEN), all of one family.
	VIPs []netip.Prefix `yaml:"vips"`
	// AuthType is "none", "pass" or "ah" (version 2 only); auth_pass or
	// auth_digest imply "pass".
	AuthType string `yaml:"auth_type"`
	// AuthPass is the password (only its first 8 bytes are sent).
	AuthPass string `yaml:"auth_pass"`
	// AuthDigest is the password's digest as vrrpguard prints it: 8 hex
	// digits of SHA-256 over the 8-byte authentication field.
	AuthDigest string `yaml:"auth_digest"`
	// Peers are the addresses of the routers expected on the segment.
	Peers []netip.Addr `yaml:"peers"`
}

// Alerts configures notifications of findings.
type Alerts struct {
	// StateDir holds the outbox of notifications not yet delivered
	// (default /var/lib/vrrpguard).
	StateDir string `yaml:"state_dir"`
	// Webhooks receive findings as JSON POSTs.
	Webhooks []Webhook `yaml:"webhooks"`
	// Alertmanagers receive findings through the Alertmanager v2 API.
	Alertmanagers []Alertmanager `yaml:"alertmanagers"`
	// Email, if set, sends findings by mail.
	Email *Email `yaml:"email"`
	// RepeatInterval re-sends a finding that is still active after this
	// long (default 4h; 0 never repeats).
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// GroupWait batches findings raised within this time into one
	// notification (default 200ms).
	GroupWait time.Duration `yaml:"group_wait"`
}

// Webhook is an HTTP endpoint receiving findings.
type Webhook struct {
	// URL to POST to (http or https; required).
	URL string `yaml:"url"`
	// SecretFile holds a secret: each request then carries an HMAC-SHA256
	// signature of its body.
	SecretFile string `yaml:"secret_file"`
	// Headers are added to each request.
	Headers map[string]string `yaml:"headers"`
	// Timeout of one request (default 5s).
	Timeout time.Duration `yaml:"timeout"`
	// MinSeverity is the least severe finding sent: "info", "warning"
	// (default) or "critical".
	MinSeverity string `yaml:"min_severity"`
	// Kinds, if not empty, restricts the finding kinds sent.
	Kinds []string `yaml:"kinds"`
}

// Alertmanager is a Prometheus Alertmanager receiving findings as alerts.
type Alertmanager struct {
	// URL of the Alertmanager (http or https; required), e.g.
	// http://alertmanager:9093.
	URL string `yaml:"url"`
	// Timeout of one request (default 5s).
	Timeout time.Duration `yaml:"timeout"`
	// MinSeverity and Kinds filter findings, as for Webhook.
	MinSeverity string   `yaml:"min_severity"`
	Kinds       []string `yaml:"kinds"`
}

// Email sends findings by mail.
type Email struct {
	// SMTP is the server as host:port (required).
	SMTP string `yaml:"smtp"`
	// From is the sender address (required).
	From string `yaml:"from"`
	// To are the recipients (at least one).
	To []string `yaml:"to"`
	// StartTLS is "auto" (default: use STARTTLS if offered), "always"
	// (fail without it) or "never".
	StartTLS string `yaml:"starttls"`
	// Username, with the password from PasswordFile or the environment
	// variable PasswordEnv (at most one), authenticates to the server.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// Timeout of one delivery (default 30s).
	Timeout time.Duration `yaml:"timeout"`
	// MinSeverity and Kinds filter findings, as for Webhook.
	MinSeverity string   `yaml:"min_severity"`
	Kinds       []string `yaml:"kinds"`
}

// Severities accepted by min_severity, least severe first.
var severities = []string{"info", "warning", "critical"}

// FindingKinds are the finding kinds accepted in "kinds" lists (the kinds
// of package rules).
var FindingKinds = []string{"duplicate_master", "vip_on_backup", "auth_mismatch", "vrid_mismatch",
	"vrid_conflict", "version_mismatch", "interval_mismatch", "owner_conflict", "master_flapping",
	"no_master", "ttl_invalid", "checksum_invalid", "malformed_packet", "unexpected_router", "table_full"}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the built-in configuration (default.yaml): every
// interface, text output, metrics on 127.0.0.1:9812 and the rule defaults.
// Each call returns a new value.
func Default() *File {
	f, err := parseYAML("default.yaml", defaultYAML, &File{})
	if err != nil {
		panic("config: invalid embedded default.yaml: " + err.Error())
	}
	f.Path = ""
	return f
}

// LoadYAML reads a vrrpguard YAML file. Settings it leaves out are those of
// Default(). Errors carry the file and line (*Error, several joined with
// errors.Join).
func LoadYAML(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseYAML(path, src)
}

// ParseYAML parses vrrpguard YAML; name is used in messages and as the base
// of relative paths.
func ParseYAML(name string, src []byte) (*File, error) {
	return parseYAML(name, src, Default())
}

func parseYAML(name string, src []byte, base *File) (*File, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		base.Path = name
		return base, nil
	}
	if err != nil {
		return nil, yamlSyntaxError(name, err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		line := second.Line
		if err != nil {
			return nil, yamlSyntaxError(name, err)
		}
		return nil, &Error{File: name, Line: line, Message: "more than one YAML document"}
	}
	d := &decoder{file: name, lines: map[string]int{}}
	f := base
	f.Path = name
	d.decode(&doc, reflect.ValueOf(f).Elem(), "", 0)
	if len(d.errs) == 0 {
		d.validate(f)
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return f, nil
}

// yamlSyntaxError turns a yaml.v3 error ("yaml: line 3: ...") into *Error.
func yamlSyntaxError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: name, Line: line, Message: "invalid YAML: " + msg, Err: err}
}

// decoder decodes a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys and values of the wrong type are errors with line numbers.
type decoder struct {
	file  string
	errs  []error
	lines map[string]int // path of each value decoded -> its line
}

func (d *decoder) errorf(line int, format string, args ...any) {
	if len(d.errs) < 20 {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	addrType     = reflect.TypeOf(netip.Addr{})
	prefixType   = reflect.TypeOf(netip.Prefix{})
)

func describe(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode decodes n into v; line is the line of n's key, where messages
// about n point (0: n's own line).
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, line int) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path, line)
		}
		return
	case yaml.AliasNode:
		if n.Alias != nil {
			d.decode(n.Alias, v, path, line)
		}
		return
	}
	if line == 0 {
		line = n.Line
	}
	if path != "" {
		d.lines[path] = line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An empty value leaves the default in place.
		return
	}
	switch v.Type() {
	case durationType:
		s, ok := d.scalar(n, path, "a duration like 1s or 100ms")
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			d.errorf(n.Line, "%s: expected a duration like 1s or 100ms, got %q", path, s)
			return
		}
		v.Set(reflect.ValueOf(dur))
		return
	case addrType:
		s, ok := d.scalar(n, path, "an IP address")
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			d.errorf(n.Line, "%s: expected an IP address, got %q", path, s)
			return
		}
		v.Set(reflect.ValueOf(a.Unmap()))
		return
	case prefixType:
		s, ok := d.scalar(n, path, "an address or address/prefixlen")
		if !ok {
			return
		}
		p, err := keepalived.ParseVIP(s)
		if err != nil {
			d.errorf(n.Line, "%s: expected an address or address/prefixlen, got %q", path, s)
			return
		}
		v.Set(reflect.ValueOf(p))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path, line)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, "%s: expected a list, got %s", path, kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), path+"["+strconv.Itoa(i)+"]", 0)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, "%s: expected a mapping, got %s", path, kindName(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key, ok := d.scalar(k, path, "a key")
			if !ok {
				continue
			}
			if first, dup := seen[key]; dup {
				d.errorf(k.Line, "%s: duplicate key %q (first at line %d)", path, key, first)
				continue
			}
			seen[key] = k.Line
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, join(path, key), k.Line)
			m.SetMapIndex(reflect.ValueOf(key), e)
		}
		v.Set(m)
	case reflect.String:
		s, ok := d.scalar(n, path, "a string")
		if ok {
			v.SetString(s)
		}
	case reflect.Bool:
		s, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		switch b, err := strconv.ParseBool(strings.ToLower(s)); {
		case err == nil && n.Tag == "!!bool":
			v.SetBool(b)
		default:
			d.errorf(n.Line, "%s: expected true or false, got %q", path, s)
		}
	case reflect.Int:
		s, ok := d.scalar(n, path, "a whole number")
		if !ok {
			return
		}
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n.Tag != "!!int" {
			d.errorf(n.Line, "%s: expected a whole number, got %q", path, s)
			return
		}
		v.SetInt(i)
	default:
		d.errorf(n.Line, "%s: cannot decode into %s", path, v.Type())
	}
}

// scalar returns a scalar node's value, or reports what was expected.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, "%s: expected %s, got %s", describe(path), want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: expected a mapping, got %s", describe(path), kindName(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	if f, ok := t.FieldByName("Line"); ok && f.Tag.Get("yaml") == "-" {
		v.FieldByName("Line").SetInt(int64(n.Line))
		if ff, ok := t.FieldByName("File"); ok && ff.Tag.Get("yaml") == "-" {
			v.FieldByName("File").SetString(d.file)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.scalar(k, path, "a key")
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			d.errorf(k.Line, "duplicate key %q in %s (first at line %d)", key, describe(path), first)
			continue
		}
		seen[key] = k.Line
		idx, ok := fields[key]
		if !ok {
			d.errorf(k.Line, "unknown key %q in %s (expected one of %s)", key, describe(path), strings.Join(names, ", "))
			continue
		}
		d.decode(val, v.Field(idx), join(path, key), k.Line)
	}
}

// at returns the line of a decoded path, or of its closest decoded parent.
func (d *decoder) at(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
}

func (d *decoder) check(cond bool, path, format string, args ...any) {
	if !cond {
		d.errorf(d.at(path), "%s: %s", path, fmt.Sprintf(format, args...))
	}
}

// validate checks values and fills per-entry defaults.
func (d *decoder) validate(f *File) {
	base := filepath.Dir(f.Path)
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}

	w := &f.Watch
	d.check(w.Format == "text" || w.Format == "json", "watch.format", "expected text or json, got %q", w.Format)
	if w.Listen != "" {
		d.check(validHostPort(w.Listen), "watch.listen", "expected host:port (e.g. 127.0.0.1:9812), got %q", w.Listen)
	}
	for i, name := range w.Interfaces {
		p := "watch.interfaces[" + strconv.Itoa(i) + "]"
		d.check(name != "" && len(name) <= ifNameMax && !strings.ContainsAny(name, "/ \t"), p, "invalid interface name %q", name)
		d.check(!slices.Contains(w.Interfaces[:i], name), p, "interface %q listed twice", name)
	}

	r := &f.Rules
	d.check(r.FlapWindow > 0, "rules.flap_window", "must be positive")
	d.check(r.FlapThreshold >= 2, "rules.flap_threshold", "must be at least 2, got %d", r.FlapThreshold)
	d.check(r.QuietPeriod > 0, "rules.quiet_period", "must be positive")
	d.check(r.RouterTimeout > 0, "rules.router_timeout", "must be positive")
	d.check(f.Watch.ProbeInterval == 0 || f.Watch.ProbeInterval >= time.Second, "watch.probe_interval", "must be 0 (off) or at least 1s, got %v", f.Watch.ProbeInterval)
	d.check(r.MaxSegments >= 1, "rules.max_segments", "must be at least 1, got %d", r.MaxSegments)
	d.check(r.MaxRouters >= 2, "rules.max_routers", "must be at least 2, got %d", r.MaxRouters)
	d.check(r.MaxRoutersPerSegment >= 2, "rules.max_routers_per_segment", "must be at least 2, got %d", r.MaxRoutersPerSegment)
	d.check(r.MaxVIPs >= 1, "rules.max_vips", "must be at least 1, got %d", r.MaxVIPs)

	type segKey struct {
		ifname string
		vrid   int
		fam    vrrp.Family
	}
	seen := map[segKey]int{}
	for i := range f.Expect {
		e := &f.Expect[i]
		p := "expect[" + strconv.Itoa(i) + "]"
		d.validateExpect(e, p)
		k := segKey{e.Interface, e.VRID, e.family()}
		if first, dup := seen[k]; dup {
			d.errorf(e.Line, "%s: another entry (line %d) expects the same interface, vrid and family", p, first)
		} else {
			seen[k] = e.Line
		}
	}

	for i, k := range f.Keepalived {
		d.check(k != "", "keepalived["+strconv.Itoa(i)+"]", "empty file name")
		f.Keepalived[i] = resolve(k)
	}

	a := &f.Alerts
	a.StateDir = resolve(a.StateDir)
	for i := range a.Webhooks {
		h := &a.Webhooks[i]
		p := "alerts.webhooks[" + strconv.Itoa(i) + "]"
		d.checkURL(h.URL, p+".url")
		h.SecretFile = resolve(h.SecretFile)
		for k := range h.Headers {
			d.check(validHeaderName(k), p+".headers."+k, "invalid header name %q", k)
		}
		h.Timeout = d.defaultPositive(h.Timeout, 5*time.Second, p+".timeout")
		h.MinSeverity = d.severity(h.MinSeverity, p+".min_severity")
		d.kinds(h.Kinds, p+".kinds")
	}
	for i := range a.Alertmanagers {
		m := &a.Alertmanagers[i]
		p := "alerts.alertmanagers[" + strconv.Itoa(i) + "]"
		d.checkURL(m.URL, p+".url")
		m.Timeout = d.defaultPositive(m.Timeout, 5*time.Second, p+".timeout")
		m.MinSeverity = d.severity(m.MinSeverity, p+".min_severity")
		d.kinds(m.Kinds, p+".kinds")
	}
	if m := a.Email; m != nil {
		p := "alerts.email"
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
}

func (d *decoder) validateExpect(e *Expect, p string) {
	if _, set := d.lines[p+".vrid"]; !set {
		d.check(false, p, "vrid is required")
	} else {
		d.check(e.VRID >= 1 && e.VRID <= 255, p+".vrid", "expected a virtual router id 1-255, got %d", e.VRID)
	}
	d.check(len(e.Interface) <= ifNameMax && !strings.ContainsAny(e.Interface, "/ \t"), p+".interface", "invalid interface name %q", e.Interface)
	d.check(e.Family == "" || e.Family == "ipv4" || e.Family == "ipv6", p+".family", "expected ipv4 or ipv6, got %q", e.Family)
	d.check(e.Version == 0 || e.Version == 2 || e.Version == 3, p+".version", "expected 2 or 3, got %d", e.Version)
	if e.AdvertInt != 0 {
		switch e.Version {
		case 2:
			d.check(e.AdvertInt%time.Second == 0 && e.AdvertInt <= 255*time.Second, p+".advert_int", "VRRP version 2 needs whole seconds 1s-255s, got %s", e.AdvertInt)
		case 3:
			d.check(e.AdvertInt%(10*time.Millisecond) == 0 && e.AdvertInt <= 40950*time.Millisecond, p+".advert_int", "VRRP version 3 needs a multiple of 10ms up to 40.95s, got %s", e.AdvertInt)
		default:
			d.check(e.AdvertInt%(10*time.Millisecond) == 0 && e.AdvertInt <= 255*time.Second, p+".advert_int", "expected a multiple of 10ms, got %s", e.AdvertInt)
		}
	}
	fam := vrrp.FamilyUnknown
	switch e.Family {
	case "ipv4":
		fam = vrrp.IPv4
	case "ipv6":
		fam = vrrp.IPv6
	}
	for i, v := range e.VIPs {
		vf := vrrp.FamilyOf(v.Addr())
		if fam == vrrp.FamilyUnknown {
			fam = vf
		}
		d.check(vf == fam, p+".vips["+strconv.Itoa(i)+"]", "%s is not %s like the entry's other addresses", v, fam)
	}
	for i, a := range e.Peers {
		af := vrrp.FamilyOf(a)
		if fam == vrrp.FamilyUnknown {
			fam = af
		}
		d.check(af == fam, p+".peers["+strconv.Itoa(i)+"]", "%s is not %s like the entry's other addresses", a, fam)
	}
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

// family is the entry's address family: explicit, else from its addresses,
// else IPv4.
func (e *Expect) family() vrrp.Family {
	switch e.Family {
	case "ipv4":
		return vrrp.IPv4
	case "ipv6":
		return vrrp.IPv6
	}
	for _, v := range e.VIPs {
		return vrrp.FamilyOf(v.Addr())
	}
	for _, a := range e.Peers {
		return vrrp.FamilyOf(a)
	}
	return vrrp.IPv4
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

func (d *decoder) kinds(ks []string, path string) {
	for i, k := range ks {
		d.check(slices.Contains(FindingKinds, k), path+"["+strconv.Itoa(i)+"]", "unknown finding kind %q (expected one of %s)", k, strings.Join(FindingKinds, ", "))
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
