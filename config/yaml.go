package config

import (
	_ "embed"
	"errors"
	"io"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/rules"
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
	// Rules are the detection engine's thresholds and table caps, under
	// the keys of rules.Params' yaml tags (ProbeInterval is
	// watch.probe_interval and stays zero here).
	Rules rules.Params `yaml:"rules"`
	// Expect lists VRRP segments as they should be, like keepalived
	// vrrp_instance blocks; traffic that contradicts them is reported.
	// Each entry is written as an expectEntry and read into a
	// rules.Expected whose Sources is the entry's file:line.
	Expect []rules.Expected `yaml:"expect"`
	// Keepalived lists keepalived.conf files (for example those of both
	// nodes of a pair) whose vrrp_instances are expected too.
	Keepalived []string `yaml:"keepalived"`
	// Alerts configures notifications.
	Alerts Alerts `yaml:"alerts"`
	// SelfDemote configures self-demotion of `vrrpguard run`.
	SelfDemote SelfDemote `yaml:"self_demote"`
}

// SelfDemote configures self-demotion (`vrrpguard run` only; README
// "Self-demotion"): an own instance that is master next to another live
// master it cannot hear properly steps aside when outranked, or after Hold
// when it outranks a rival that does not yield.
type SelfDemote struct {
	// Enabled turns it on (the --self-demote flag does too).
	Enabled bool `yaml:"enabled"`
	// Hold is how long an outranking master keeps its addresses against a
	// rival, so that a vrrpguard rival can yield first.
	Hold time.Duration `yaml:"hold"`
	// Guard removes (and reports) an own virtual address found on the
	// interface while the instance is not master; on with Enabled.
	Guard bool `yaml:"guard"`
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

// expectEntry is an expect entry as written in YAML: one expected VRRP
// segment, read into a rules.Expected. Keys left out are not checked.
type expectEntry struct {
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

// family is the entry's address family: explicit, else from its addresses,
// else IPv4.
func (e *expectEntry) family() vrrp.Family {
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

// expected is what the (valid) entry expects: VIPs are known when the entry
// lists them, even none; auth_pass is kept only as its digest.
func (e *expectEntry) expected() rules.Expected {
	x := rules.Expected{
		Interface: e.Interface,
		VRID:      uint8(e.VRID),
		Family:    e.family(),
		Version:   uint8(e.Version),
		Interval:  e.AdvertInt,
		VIPsKnown: e.VIPs != nil,
		Peers:     slices.Clone(e.Peers),
		Sources:   []string{e.File + ":" + strconv.Itoa(e.Line)},
	}
	if e.Name != "" {
		x.Names = []string{e.Name}
	}
	for _, v := range e.VIPs {
		x.VIPs = append(x.VIPs, v.Addr())
	}
	switch {
	case e.AuthPass != "":
		x.HasAuth, x.AuthType = true, vrrp.AuthSimple
		x.AuthDigest = vrrp.AuthDigest(vrrp.PasswordAuthData(e.AuthPass))
	case e.AuthDigest != "":
		x.HasAuth, x.AuthType, x.AuthDigest = true, vrrp.AuthSimple, e.AuthDigest
	case e.AuthType == "none":
		x.HasAuth = true
	case e.AuthType == "ah":
		x.HasAuth, x.AuthType = true, vrrp.AuthAH
		x.AuthDigest = vrrp.AuthDigest([vrrp.AuthDataLen]byte{})
	}
	normalize(&x)
	return x
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
	// GroupWait batches findings: those raised within this time of a
	// notification go out together when it ends (default 200ms). The
	// first findings after a quiet moment go out at once unless HoldFirst.
	GroupWait time.Duration `yaml:"group_wait"`
	// HoldFirst makes the first findings after a quiet moment wait for
	// GroupWait too (one notification per group, later first notice).
	HoldFirst bool `yaml:"hold_first"`
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
	d := &decoder{file: name, lines: map[string]int{}, expects: map[string]*expectEntry{}}
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
