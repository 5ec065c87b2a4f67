package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/rules"
)

// settings is the configuration a command runs with: the embedded default
// overlaid by at most one vrrpguard YAML file, plus expectations from
// keepalived.conf files and the YAML's expect entries.
type settings struct {
	file *config.File
	// keepalived are the keepalived.conf files given with --config, then
	// those the YAML names.
	keepalived []*config.Keepalived
	// given is how many of them came from --config.
	given    int
	expected []config.Expected
	params   rules.Params
	// own is the keepalived.conf `run` runs (nil for watch): the
	// interfaces it names are this node's, so its expectations keep them.
	own *config.Keepalived
}

// loadSettings reads the --config files (keepalived.conf or vrrpguard YAML,
// recognised by content). Warnings (unknown keepalived keywords, merged
// files that disagree) go to warn with file:line; errors are fatal.
func loadSettings(paths []string, warn io.Writer) (*settings, error) {
	s := &settings{file: config.Default()}
	yamlSeen := ""
	var kfiles []*config.Keepalived
	for _, p := range paths {
		kind, err := config.Detect(p)
		if err != nil {
			return nil, err
		}
		switch kind {
		case config.KindYAML:
			if yamlSeen != "" {
				return nil, fmt.Errorf("%s: only one vrrpguard YAML file may be given (already read %s)", p, yamlSeen)
			}
			yamlSeen = p
			f, err := config.LoadYAML(p)
			if err != nil {
				return nil, err
			}
			s.file = f
		case config.KindKeepalived:
			k, ws, err := config.LoadKeepalived(p)
			for _, w := range ws {
				fmt.Fprintf(warn, "warning: %s\n", w)
			}
			if err != nil {
				return nil, err
			}
			kfiles = append(kfiles, k)
		default:
			return nil, fmt.Errorf("%s: neither a keepalived.conf nor a vrrpguard YAML file", p)
		}
	}
	s.given = len(kfiles)
	for _, p := range s.file.Keepalived {
		k, ws, err := config.LoadKeepalived(p)
		for _, w := range ws {
			fmt.Fprintf(warn, "warning: %s\n", w)
		}
		if err != nil {
			return nil, err
		}
		kfiles = append(kfiles, k)
	}
	s.keepalived = kfiles
	exp, ws := config.Expectations(kfiles, s.file.Expect)
	for _, w := range ws {
		fmt.Fprintf(warn, "warning: %s\n", w)
	}
	s.expected = exp
	r := s.file.Rules
	s.params = rules.Params{
		FlapWindow: r.FlapWindow, FlapThreshold: r.FlapThreshold, NoMasterMargin: r.NoMasterMargin,
		ResolveHold: r.ResolveHold, QuietPeriod: r.QuietPeriod, RouterTimeout: r.RouterTimeout,
		MaxSegments: r.MaxSegments, MaxRouters: r.MaxRouters, MaxRoutersPerSegment: r.MaxRoutersPerSegment, MaxVIPs: r.MaxVIPs,
	}
	if err := s.params.Validate(); err != nil {
		where := yamlSeen
		if where == "" {
			where = "built-in defaults"
		}
		return nil, fmt.Errorf("%s: rules: %w", where, err)
	}
	return s, nil
}

// rulesExpected converts the expectations for the engine.
func (s *settings) rulesExpected() []rules.Expected {
	out := make([]rules.Expected, 0, len(s.expected))
	for _, x := range s.expected {
		// A keepalived.conf names the node's interface, which is not the
		// watcher's (nor a capture file's): only YAML expect entries, written
		// for the watcher, pin one.
		// `run`'s own keepalived.conf names this node's interfaces.
		iface := x.Interface
		for _, src := range x.Sources {
			if !s.namesOwnInterface(src) {
				iface = ""
			}
		}
		out = append(out, toRulesExpected(x, iface))
	}
	return out
}

// namesOwnInterface reports whether an expectation from src (file:line)
// names an interface of this node: YAML expect entries (written for the
// watcher), and the keepalived.conf that `run` runs.
func (s *settings) namesOwnInterface(src string) bool {
	if s.file.Path != "" && strings.HasPrefix(src, s.file.Path+":") {
		return true
	}
	return s.own != nil && slices.ContainsFunc(s.own.Files, func(f string) bool { return strings.HasPrefix(src, f+":") })
}

// newEngine builds the rules engine from the settings.
func (s *settings) newEngine() (*rules.Engine, error) {
	return rules.New(s.params, s.rulesExpected())
}

// configError prints a configuration error: each *config.Error on its own
// line, as file:line: message.
func configError(w io.Writer, cmd string, err error) {
	type multi interface{ Unwrap() []error }
	var m multi
	if errors.As(err, &m) {
		for _, e := range m.Unwrap() {
			fmt.Fprintf(w, "vrrpguard %s: %v\n", cmd, e)
		}
		return
	}
	fmt.Fprintf(w, "vrrpguard %s: %v\n", cmd, err)
}

// prefixWriter prefixes each write (one warning line) with p.
type prefixWriter struct {
	w io.Writer
	p string
}

func (pw prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(pw.w, pw.p); err != nil {
		return 0, err
	}
	return pw.w.Write(b)
}

func prefixAddrs(p []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, len(p))
	for i, x := range p {
		out[i] = x.Addr()
	}
	return out
}

// toRulesExpected converts one expectation for the engine, on iface ("" =
// any interface).
func toRulesExpected(x config.Expected, iface string) rules.Expected {
	return rules.Expected{
		Interface: iface, Family: x.Family, VRID: x.VRID, Version: uint8(x.Version), Interval: x.AdvertInt,
		VIPs: x.VIPAddrs(), ExcludedVIPs: prefixAddrs(x.ExcludedVIPs), AuthType: x.AuthType, HasAuth: x.AuthKnown,
		AuthDigest: x.AuthDigest, Peers: x.Peers, Source: strings.Join(x.Sources, ", "),
	}
}

// watcherOptions builds the segment watcher's options from the settings
// and the flags (flags win over the YAML's watch section).
func (s *settings) watcherOptions(f *segmentFlags, ifaces []string, out io.Writer, log *slog.Logger, reg *prometheus.Registry) (watcherOptions, error) {
	format := *f.format
	if format == "" {
		format = s.file.Watch.Format
	}
	ff, err := output.ParseFormat(format)
	if err != nil {
		return watcherOptions{}, err
	}
	params := s.params
	if !*f.noProbe {
		params.ProbeInterval = s.file.Watch.ProbeInterval
	}
	ao, _, err := s.alertOptions(f.alerts)
	if err != nil {
		return watcherOptions{}, fmt.Errorf("alerts: %w", err)
	}
	return watcherOptions{
		Interfaces: ifaces, Promiscuous: s.file.Watch.Promiscuous && !*f.noPromisc,
		Params: params, Expected: s.rulesExpected(),
		Out: out, Format: ff, Adverts: *f.adverts, Log: log, Registry: reg, Alerts: ao,
	}, nil
}

// segmentFlags are the flags watch and run share: configuration, output,
// listener, probing, capture and alert sinks.
type segmentFlags struct {
	configs   stringList
	format    *string
	adverts   *bool
	listen    *string
	noProbe   *bool
	noPromisc *bool
	alerts    *alertFlags
}

func addSegmentFlags(fs *cmdFlags, configHelp, listenHelp string) *segmentFlags {
	f := &segmentFlags{}
	fs.Var(&f.configs, "config", configHelp)
	f.format = fs.String("format", "", "output format: text or json (default: watch.format of the config, text)")
	f.adverts = fs.Bool("adverts", false, "print every advertisement, ARP and ND observation and invalid packet")
	f.listen = fs.String("listen", "", listenHelp)
	f.noProbe = fs.Bool("no-probe", false, "do not send ARP probes / neighbour solicitations for virtual addresses (see watch.probe_interval)")
	f.noPromisc = fs.Bool("no-promisc", false, "do not put the interfaces in promiscuous mode (unicast ARP replies to other hosts are then missed)")
	f.alerts = addAlertFlags(fs)
	return f
}

// listenAddr is the address to serve on: the flag, else def; "" when
// serving is off.
func (f *segmentFlags) listenAddr(def string) string {
	addr := *f.listen
	if addr == "" {
		addr = def
	}
	if addr == "off" {
		return ""
	}
	return addr
}
