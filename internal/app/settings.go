package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// settings is the configuration a command runs with: the embedded default
// overlaid by at most one vrrpguard YAML file, plus expectations from
// keepalived.conf files and the YAML's expect entries.
type settings struct {
	file *config.File
	// keepalived are the keepalived.conf files given with --config, then
	// those the YAML names.
	keepalived []*keepalived.Config
	// given is how many of them came from --config.
	given    int
	expected []rules.Expected
	params   rules.Params
	// own is the keepalived.conf `run` runs (nil for watch): the
	// interfaces it names are this node's, so its expectations keep them.
	own *keepalived.Config
}

// loadSettings reads the --config files (keepalived.conf or vrrpguard YAML,
// recognised by content). Warnings (unknown keepalived keywords, merged
// files that disagree) go to warn with file:line; errors are fatal.
func loadSettings(paths []string, warn io.Writer) (*settings, error) {
	s := &settings{file: config.Default()}
	yamlSeen := ""
	var kfiles []*keepalived.Config
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
			k, err := loadKeepalived(p, warn)
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
		k, err := loadKeepalived(p, warn)
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
	s.params = s.file.Rules
	if err := s.params.Validate(); err != nil {
		where := yamlSeen
		if where == "" {
			where = "built-in defaults"
		}
		return nil, fmt.Errorf("%s: rules: %w", where, err)
	}
	return s, nil
}

// loadKeepalived reads a keepalived.conf; its warnings go to warn.
func loadKeepalived(path string, warn io.Writer) (*keepalived.Config, error) {
	k, ws, err := keepalived.Load(path)
	for _, w := range ws {
		fmt.Fprintf(warn, "warning: %s\n", w)
	}
	return k, err
}

// rulesExpected is what the engine expects: a keepalived.conf names the
// node's interface, which is not the watcher's (nor a capture file's), so
// only YAML expect entries, written for the watcher, and the keepalived.conf
// that `run` runs (this node's own) pin one.
func (s *settings) rulesExpected() []rules.Expected {
	return s.file.ForWatcher(s.expected, s.own)
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
	capture, err := sniffer.ParseCaptureMode(*f.capture)
	if err != nil {
		return watcherOptions{}, fmt.Errorf("--capture: %w", err)
	}
	ring, err := ringConfig(*f.ringMiB)
	if err != nil {
		return watcherOptions{}, fmt.Errorf("--capture-ring-mib %g: %w", *f.ringMiB, err)
	}
	bt := *f.blockTimeout
	if bt < time.Millisecond || bt > time.Second || bt%time.Millisecond != 0 {
		return watcherOptions{}, fmt.Errorf("--capture-block-timeout %v: want whole milliseconds from 1ms to 1s", bt)
	}
	ring.BlockTimeout = bt
	return watcherOptions{
		Interfaces: ifaces, Promiscuous: s.file.Watch.Promiscuous && !*f.noPromisc, Capture: capture, Ring: ring,
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
	remote    *bool
	noProbe   *bool
	noPromisc *bool
	capture   *string
	ringMiB   *float64
	// blockTimeout is the ring's block timeout (RingConfig.BlockTimeout).
	blockTimeout *time.Duration
	alerts       *alertFlags
}

// Limits of --capture-ring-mib.
const (
	minRingMiB = 1.0 / 16 // 64 KiB: 16 page-sized blocks
	maxRingMiB = 1024
)

// ringConfig is the capture ring of --capture-ring-mib: blocks of sniffer's
// default size (16 KiB) from 1 MiB up, page-sized blocks below, so that a
// small ring still has many blocks. The kernel hands a block over about
// 1 ms after its first packet, so at a node's rates (a few hundred packets
// per second) every block holds one packet and the number of blocks is how
// many packets wait out a stall of the reader before drops.
func ringConfig(mib float64) (sniffer.RingConfig, error) {
	if !(mib >= minRingMiB && mib <= maxRingMiB) { // also NaN
		return sniffer.RingConfig{}, fmt.Errorf("want %g to %d", minRingMiB, maxRingMiB)
	}
	size := int(mib * (1 << 20))
	block := sniffer.DefaultRingBlockSize
	if size < 1<<20 {
		block = os.Getpagesize()
	}
	return sniffer.RingConfig{BlockSize: block, Blocks: size / block}, nil
}

// addSegmentFlags adds the shared flags; ringMiB is the default size of
// each interface's capture ring (watch on a busy segment wants more than a
// node watching its own instances' interfaces, whose ring is resident
// memory), blockTimeout the default block timeout of the ring (how long
// the kernel may hold captured packets before it wakes vrrpguard: watch
// hands packets over at once, run batches its own segments' adverts).
func addSegmentFlags(fs *cmdFlags, configHelp, listenHelp string, ringMiB float64, blockTimeout time.Duration) *segmentFlags {
	f := &segmentFlags{}
	fs.Var(&f.configs, "config", configHelp)
	f.format = fs.String("format", "", "output format: text or json (default: watch.format of the config, text)")
	f.adverts = fs.Bool("adverts", false, "print every advertisement, ARP and ND observation and invalid packet")
	f.listen = fs.String("listen", "", listenHelp)
	f.remote = fs.Bool("listen-allow-remote", false, "the --listen address may be reachable from other hosts (without it, a non-loopback address is served with a warning: the listener has no authentication)")
	f.noProbe = fs.Bool("no-probe", false, "do not send ARP probes / neighbour solicitations for virtual addresses (see watch.probe_interval)")
	f.noPromisc = fs.Bool("no-promisc", false, "do not put the interfaces in promiscuous mode (unicast ARP replies to other hosts are then missed)")
	f.capture = fs.String("capture", "ring", "how to read packets: ring (memory-mapped TPACKET_V3 ring; falls back to socket where unavailable) or socket (one system call per packet)")
	f.ringMiB = fs.Float64("capture-ring-mib", ringMiB, "size of the capture ring of each interface in MiB, 0.0625 to 1024 (kernel memory mapped into the process, so resident; from 1 MiB about 7,500 small packets per MiB, below 1 MiB one packet per 4 KiB at low rates)")
	f.blockTimeout = fs.Duration("capture-block-timeout", blockTimeout, "longest the kernel holds captured packets in a block of the ring before handing it over, whole milliseconds from 1ms to 1s (packet times are the kernel's either way; more batches wake-ups, less hands a lone packet over sooner)")
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
