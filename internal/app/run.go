package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	rtdebug "runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/demote"
	"github.com/vrrpguard/vrrpguard/internal/exetrim"
	"github.com/vrrpguard/vrrpguard/internal/status"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/participant"
)

// defaultRunListen is where `run` serves /metrics, /healthz and /status,
// and where `status` asks (one port above watch's, so both can run).
const defaultRunListen = "127.0.0.1:9813"

// runMetrics are the Prometheus series of the participant.
type runMetrics struct {
	state       *prometheus.GaugeVec
	priority    *prometheus.GaugeVec
	transitions *prometheus.CounterVec
}

func newRunMetrics(reg *prometheus.Registry) *runMetrics {
	m := &runMetrics{}
	m.state = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vrrpguard_instance_state",
		Help: "State of a VRRP instance run by vrrpguard: 0 init, 1 backup, 2 master, 3 fault.",
	}, []string{"instance"})
	m.priority = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vrrpguard_instance_priority",
		Help: "Effective priority of a VRRP instance run by vrrpguard.",
	}, []string{"instance"})
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vrrpguard_instance_transitions_total",
		Help: "State transitions of a VRRP instance run by vrrpguard, by new state.",
	}, []string{"instance", "state"})
	reg.MustRegister(m.state, m.priority, m.transitions)
	return m
}

// stateValue is the value of vrrpguard_instance_state for a state name.
func stateValue(state string) float64 {
	switch state {
	case "BACKUP":
		return 1
	case "MASTER":
		return 2
	case "FAULT":
		return 3
	}
	return 0
}

func (m *runMetrics) change(st participant.Status, tr *election.Transition) {
	m.state.WithLabelValues(st.Instance).Set(stateValue(st.State))
	m.priority.WithLabelValues(st.Instance).Set(float64(st.Priority))
	if tr != nil {
		m.transitions.WithLabelValues(st.Instance, st.State).Inc()
	}
}

// defaultKeepalivedConf is what `run` runs when --config names no
// keepalived.conf.
const defaultKeepalivedConf = "/etc/keepalived/keepalived.conf"

// runRingMiB is run's default capture ring per interface (512 KiB): a
// node watches its own instances' interfaces, a few hundred packets per
// second, where each page-sized block holds one packet, so its 128 blocks
// hold as many packets through a stall of the reader as the 2 MiB ring of
// 16 KiB blocks did, at a quarter of the resident memory (BENCHMARKS.md).
const runRingMiB = 0.5

// Values of --own-adverts.
const (
	ownHandover = "handover"
	ownCapture  = "capture"
)

// runBlockTimeout is run's default block timeout of the capture ring: the
// kernel wakes the watcher once per block instead of once per advert
// (its own as master, the peer's as backup; at 10 ms adverts two or more
// adverts a block), which adds at most this to the time a finding is
// raised; packet times stay the kernel's.
const runBlockTimeout = 20 * time.Millisecond

func runRun(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet("run", "[--config keepalived.conf] [--config vrrpguard.yaml] [flags]",
		"Runs the VRRP instances of a keepalived.conf as a VRRP router (RFC 5798 / RFC 3768),\n"+
			"interoperating with keepalived; needs CAP_NET_RAW and CAP_NET_ADMIN. It also watches\n"+
			"the segments of its instances exactly as `watch` does (findings, metrics, alerts).\n"+
			"On SIGINT or SIGTERM masters resign (priority-0 advertisement) and remove their\n"+
			"addresses. SIGHUP reloads the configuration: unchanged instances keep their state,\n"+
			"changed ones restart, and the watcher takes the new expectations.", c.stdout, c.stderr)
	sf := addSegmentFlags(fs,
		"the keepalived.conf to run (default "+defaultKeepalivedConf+"), and optionally one vrrpguard YAML file (repeatable; recognised by content)",
		"serve /metrics, /healthz and /status on this address (default "+defaultRunListen+"; \"off\" disables)",
		runRingMiB, runBlockTimeout)
	debug := fs.Bool("debug", false, "log every dropped advertisement")
	selfDemote := fs.Bool("self-demote", false, "step aside when another live master of an instance's addresses is seen that this node rejects or never hears (see README: Self-demotion; YAML self_demote)")
	dropExe := fs.Bool("drop-exe-pages", true, "10 s after start-up (and after each reload), drop this process's mappings of the executable's read-only pages (code and constants): those touched only by initialisation leave its resident memory; they stay in the page cache, and what the process still uses is mapped again on use (see BENCHMARKS.md)")
	watch := fs.Bool("watch", true, "also watch the instances' segments (capture, findings, alerts); --watch=false runs the VRRP router alone (no findings, no alerts, no self-demotion)")
	own := fs.String("own-adverts", ownHandover, "how the watcher gets this node's own adverts: \""+ownHandover+"\" (the participant hands over each advert it sent, and the capture filter leaves them out, so they do not wake the capture) or \""+ownCapture+"\" (captured off the interface like any other packet)")
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	if *own != ownHandover && *own != ownCapture {
		fmt.Fprintf(c.stderr, "vrrpguard run: --own-adverts %q: want %s or %s\n", *own, ownHandover, ownCapture)
		return ExitError
	}
	set, err := loadRunSettings(sf.configs, prefixWriter{c.stderr, "vrrpguard run: "})
	if err != nil {
		configError(c.stderr, "run", err)
		return ExitError
	}
	if *selfDemote {
		set.file.SelfDemote.Enabled = true
	}
	if !*watch && set.file.SelfDemote.Enabled {
		fmt.Fprintf(c.stderr, "vrrpguard run: self-demotion needs the segment watcher: drop --watch=false, or --self-demote and self_demote.enabled\n")
		return ExitError
	}
	// SIGHUP reloads the configuration; registered before anything runs,
	// since an unhandled SIGHUP would kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
	n, err := newNode(c, set, sf, log, *watch, *own == ownHandover)
	if n != nil {
		n.selfDemoteFlag = *selfDemote
		n.dropExe = *dropExe
	}
	if err == nil {
		err = n.serve(ctx, sf.listenAddr(defaultRunListen), *sf.remote)
	}
	if err == nil {
		err = n.run(ctx, hup)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "vrrpguard run: %v\n", err)
		return ExitError
	}
	log.Info("stopped")
	return ExitOK
}

// node is `vrrpguard run`: the participant, the watcher of its segments
// and, with self-demotion, what connects them.
type node struct {
	c    *cli
	set  *settings
	flag *segmentFlags
	log  *slog.Logger
	reg  *prometheus.Registry
	m    *runMetrics
	r    *participant.Router
	w    *watcher      // nil with --watch=false
	sd   *selfDemotion // nil without self-demotion
	mail *smtpAlerts   // nil without notification_email and smtp_server
	name string        // of this node in alerts
	// selfDemoteFlag: --self-demote was given (it overrides the YAML's
	// self_demote.enabled, also on reload).
	selfDemoteFlag bool
	// dropExe: --drop-exe-pages (see settle).
	dropExe bool
}

// newNode builds the participant and, if watch, the watcher (capture is
// open when it returns; run or close it). Self-demotion needs the watcher.
func newNode(c *cli, set *settings, sf *segmentFlags, log *slog.Logger, watch, handOver bool) (*node, error) {
	n := &node{c: c, set: set, flag: sf, log: log, reg: newRegistry(c.version)}
	n.m = newRunMetrics(n.reg)
	sdc := set.file.SelfDemote
	popts := participant.Options{Logger: log, OnChange: n.changed}
	if watch && handOver {
		popts.OnSent = n.sent
	}
	if sdc.Enabled && sdc.Guard {
		popts.GuardVIPs, popts.OnGuard = true, n.guarded
	}
	var err error
	if n.r, err = participant.New(set.own, popts); err != nil {
		return nil, err
	}
	n.mail = newSMTPAlerts(set.own, log)
	for _, st := range n.r.Status() {
		n.m.change(st, nil)
	}
	// An instance's interface must exist, as for keepalived without
	// dynamic_interfaces (the watcher alone would wait for it).
	for _, in := range set.own.Instances {
		if _, err := net.InterfaceByName(in.Interface); err != nil {
			return nil, fmt.Errorf("instance %s: interface %s: %w", in.Name, in.Interface, err)
		}
	}
	if !watch {
		if sdc.Enabled {
			return nil, errors.New("self-demotion needs the segment watcher (--watch=false)")
		}
		ao, _, err := set.alertOptions(sf.alerts)
		if err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		if len(ao.Sinks) > 0 {
			log.Warn("--watch=false: the alert sinks get no findings (they come from the segment watcher); smtp_alert state mail still goes out")
		}
		n.name = ao.Instance
		return n, nil
	}
	opts, err := set.watcherOptions(sf, ownInterfaces(set.own), c.stdout, log, n.reg)
	if err != nil {
		return nil, err
	}
	n.name = opts.Alerts.Instance
	if sdc.Enabled {
		opts.OnObservation = n.observed
	}
	if handOver {
		opts.Own, opts.OwnConfig = newOwnSet(set.own, opts.Interfaces, nil, interfaceMAC), set.own
	}
	if n.w, err = newWatcher(opts); err != nil {
		return nil, fmt.Errorf("watch own segments: %w", err)
	}
	if sdc.Enabled {
		p := demote.DefaultParams()
		p.Hold = sdc.Hold
		n.sd = newSelfDemotion(set.own, n.r, n.w, n.reg, p, log)
		log.Info("self-demotion on", "hold", sdc.Hold, "guard", sdc.Guard)
	}
	return n, nil
}

// changed is the participant's OnChange.
func (n *node) changed(st participant.Status, tr *election.Transition) {
	n.m.change(st, tr)
	if n.mail != nil {
		n.mail.changed(st, tr)
	}
	if n.sd != nil {
		n.sd.changed(st, tr)
	}
}

// sent is the participant's OnSent: the watcher takes the node's own
// adverts from the participant (--own-adverts handover).
func (n *node) sent(s *participant.Sent) { n.w.sent(s) }

// observed is the watcher's OnObservation (self-demotion only).
func (n *node) observed(o *obs.Observation) {
	if n.sd != nil {
		n.sd.observe(o)
	}
}

// guarded is the participant's OnGuard: an own VIP found on the interface
// of a non-master instance is a vip_on_backup of this node.
func (n *node) guarded(ev participant.GuardEvent) {
	if ev.Err != nil {
		n.log.Error("VIP guard could not remove an address", "instance", ev.Instance, "address", ev.Address.String(), "err", ev.Err)
	} else {
		n.log.Warn("VIP guard removed an address this node must not hold", "instance", ev.Instance, "interface", ev.Interface,
			"address", ev.Address.String(), "state", ev.State)
	}
	f := rules.LocalVIPOnBackup{Instance: ev.Instance, Interface: ev.Interface, VRID: ev.VRID, VIP: ev.Address.Addr(), Removed: ev.Removed}
	if ifi, err := net.InterfaceByName(ev.Interface); err == nil {
		copy(f.MAC[:], ifi.HardwareAddr)
	}
	if err := n.w.pl.local(ev.At, f); err != nil {
		n.log.Error("VIP guard finding", "err", err)
	}
}

// serve starts the HTTP server on addr ("" = none); allowRemote is
// --listen-allow-remote.
func (n *node) serve(ctx context.Context, addr string, allowRemote bool) error {
	if addr == "" {
		return nil
	}
	doc := func() status.Doc {
		var d status.Doc
		if n.w != nil {
			d = n.w.Status()
		}
		d.Version, d.Command, d.Node, d.Instances = n.c.version, "run", n.name, n.r.Status()
		if n.sd != nil {
			d.Demotion = status.Demotions(n.sd.snapshots())
		}
		return d
	}
	mux, err := newMux(n.reg, func() error { return nil }, doc, n.log)
	if err == nil {
		mux.HandleFunc("GET /status", func(rw http.ResponseWriter, _ *http.Request) {
			writeJSON(rw, statusDoc{Version: n.c.version, Instances: n.r.Status()})
		})
		var bound net.Addr
		if bound, err = serveHTTP(ctx, addr, allowRemote, mux, n.log); err == nil {
			n.log.Info("serving metrics and status", "addr", bound.String())
			return nil
		}
	}
	if n.w != nil {
		n.w.Close()
	}
	return err
}

// run runs the participant, the watcher and self-demotion until ctx is
// done; hup reloads.
func (n *node) run(ctx context.Context, hup <-chan os.Signal) error {
	var wg sync.WaitGroup
	if n.w != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.log.Info("watching own segments", "interfaces", n.w.Interfaces())
			if err := n.w.Run(ctx); err != nil {
				n.log.Error("capture stopped", "err", err)
			}
		}()
	} else {
		n.log.Info("not watching own segments (--watch=false)")
	}
	if n.sd != nil {
		wg.Add(1)
		go func() { defer wg.Done(); n.sd.run(ctx) }()
	}
	n.log.Info("running", "config", n.set.own.Files[0], "instances", len(n.set.own.Instances))
	go func() {
		settle := time.NewTimer(settleAfter)
		defer settle.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				n.reload()
				settle.Reset(settleAfter)
			case <-settle.C:
				n.settle()
			}
		}
	}()
	err := n.r.Run(ctx)
	wg.Wait()
	if n.mail != nil {
		n.mail.close()
	}
	return err
}

// runGCPercent is run's GOGC once start-up is over, unless the
// environment sets GOGC. A node's heap is small (about 1 MiB live) and
// grows slowly (~15 KiB/s at 10 ms adverts), but GOGC also counts the
// globals, 5 MiB of them (gopacket's tables of pointers), so at the
// default of 100 the heap grew to ~6 MiB before its first collection,
// minutes after start; at 10 it collects about every half MiB, every
// ~30 s, for a few milliseconds of CPU each (BENCHMARKS.md).
const runGCPercent = 10

// settleAfter is how long after start-up or a reload the node settles
// (settle): past the start of every instance, the watcher and the second
// gratuitous ARP burst (5 s after becoming master).
const settleAfter = 10 * time.Second

// settle runs once start-up or a reload is over: it sets run's GOGC,
// returns the free heap to the system and, with --drop-exe-pages, drops
// the process's mappings of the executable's read-only pages, most of
// them touched only by initialisation (package exetrim).
func (n *node) settle() {
	if os.Getenv("GOGC") == "" {
		rtdebug.SetGCPercent(runGCPercent)
	}
	rtdebug.FreeOSMemory()
	if !n.dropExe {
		return
	}
	res, err := exetrim.Drop()
	if errors.Is(err, exetrim.ErrNotExec) {
		n.log.Info("the executable's read-only pages are kept", "reason", err)
		return
	}
	if err != nil {
		n.log.Warn("could not drop the executable's read-only pages", "err", err)
		return
	}
	n.log.Debug("dropped the executable's read-only pages", "mappings", res.Mappings, "resident_kib", res.RSSKiB)
}

// loadRunSettings loads run's --config files: exactly one keepalived.conf
// (the default one when none is given) and at most one vrrpguard YAML.
func loadRunSettings(configs []string, warn io.Writer) (*settings, error) {
	set, err := loadSettings(configs, warn)
	if err != nil {
		return nil, err
	}
	switch set.given {
	case 0:
		set, err = loadSettings(append([]string{defaultKeepalivedConf}, configs...), warn)
		if err != nil {
			return nil, err
		}
	case 1:
	default:
		return nil, fmt.Errorf("run takes one keepalived.conf, got %d (%s and %s)", set.given, set.keepalived[0].Files[0], set.keepalived[1].Files[0])
	}
	set.own = set.keepalived[0]
	if len(set.own.Instances) == 0 {
		return nil, fmt.Errorf("%s: no vrrp_instance", set.own.Files[0])
	}
	return set, nil
}

// ownInterfaces are the interfaces the instances of k run on.
func ownInterfaces(k *keepalived.Config) []string {
	var ifaces []string
	for _, in := range k.Instances {
		if in.Interface != "" && !slices.Contains(ifaces, in.Interface) {
			ifaces = append(ifaces, in.Interface)
		}
	}
	return ifaces
}

// reload re-reads the configuration on SIGHUP and applies it to both
// halves: unchanged instances keep running, changed ones restart, removed
// ones stop, the watcher takes the new expectations and self-demotion the
// new instances. A configuration that does not load leaves everything as
// it is.
func (n *node) reload() {
	configs := []string(n.flag.configs)
	n.log.Info("reloading", "config", configs)
	set, err := loadRunSettings(configs, logWriter{n.log})
	if err != nil {
		n.log.Error("reload failed; keeping the running configuration", "config", configs, "err", err)
		return
	}
	set.file.SelfDemote.Enabled = set.file.SelfDemote.Enabled || n.selfDemoteFlag
	// smtp_alert takes the new instances' settings before they start.
	if n.mail != nil {
		n.mail.configure(set.own)
	} else if alert.EmailFromKeepalived(set.own.Global) != nil {
		n.log.Warn("the reloaded global_defs sets up smtp_alert mail; restart vrrpguard to send it")
	}
	res, err := n.r.Reload(set.own)
	if err != nil {
		n.log.Error("reload failed; keeping the running configuration", "config", configs, "err", err)
		return
	}
	for _, name := range res.Stopped {
		n.m.state.DeleteLabelValues(name)
		n.m.priority.DeleteLabelValues(name)
	}
	for _, st := range n.r.Status() {
		n.m.change(st, nil)
	}
	n.log.Info("reloaded", "config", set.own.Files[0], "kept", res.Kept, "stopped", res.Stopped, "started", res.Started)
	if n.w != nil {
		for _, iface := range ownInterfaces(set.own) {
			if !n.w.Captures(iface) {
				n.log.Warn("the reloaded configuration uses an interface the segment watcher does not capture; restart vrrpguard to watch it", "interface", iface)
			}
		}
		n.w.SetExpected(set.rulesExpected())
		if n.w.own != nil {
			if err := n.w.setOwn(set.own, newOwnSet(set.own, n.w.Interfaces(), n.w.own.set.Load(), interfaceMAC)); err != nil {
				n.log.Error("capture filter for the node's own adverts", "err", err)
			}
		}
	}
	if n.sd != nil {
		n.sd.configure(set.own, res.Kept...)
	}
	for _, part := range []struct {
		name      string
		old, next any
	}{{"alerts", n.set.file.Alerts, set.file.Alerts}, {"rules", n.set.file.Rules, set.file.Rules},
		{"self_demote", n.set.file.SelfDemote, set.file.SelfDemote}, {"watch", n.set.file.Watch, set.file.Watch}} {
		if !reflect.DeepEqual(part.old, part.next) {
			n.log.Warn("the reloaded YAML changes a section that needs a restart to apply; still using the running one", "section", part.name)
		}
	}
}

// logWriter logs each write (one warning line) as a configuration warning.
type logWriter struct{ log *slog.Logger }

func (lw logWriter) Write(b []byte) (int, error) {
	lw.log.Warn("configuration", "warning", strings.TrimSpace(strings.TrimPrefix(string(b), "warning: ")))
	return len(b), nil
}

// statusDoc is the JSON of /status.
type statusDoc struct {
	Version   string               `json:"version"`
	Instances []participant.Status `json:"instances"`
}

// defaultWatchListen is watch's listener in the built-in configuration.
const defaultWatchListen = "127.0.0.1:9812"

func runStatus(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet("status", "[flags]",
		"Prints what a running `vrrpguard run` or `vrrpguard watch` sees: its own instances (run),\n"+
			"every segment with its routers and master, the virtual addresses and who answers for\n"+
			"them, and the active findings — read from its "+statusPath+".", c.stdout, c.stderr)
	addr := fs.String("addr", "", "address vrrpguard listens on (its --listen; default: run's "+defaultRunListen+", else watch's "+defaultWatchListen+")")
	format := fs.String("format", "text", "output format: text or json")
	watch := fs.Bool("watch", false, "redraw every second until interrupted")
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(c.stderr, "vrrpguard status: unknown format %q (text or json)\n", *format)
		return ExitError
	}
	addrs := []string{*addr}
	if *addr == "" {
		addrs = []string{defaultRunListen, defaultWatchListen}
	}
	for {
		doc, raw, err := fetchAnyStatus(ctx, addrs)
		if err != nil {
			fmt.Fprintf(c.stderr, "vrrpguard status: %v\n", err)
			return ExitError
		}
		if *watch {
			fmt.Fprint(c.stdout, "\033[H\033[2J") // home, clear
		}
		if *format == "json" {
			_, _ = c.stdout.Write(raw)
		} else {
			_ = status.WriteText(c.stdout, doc, time.Local)
		}
		if !*watch {
			return ExitOK
		}
		select {
		case <-ctx.Done():
			return ExitOK
		case <-time.After(time.Second):
		}
	}
}

// fetchAnyStatus asks each address in turn and returns the first answer.
func fetchAnyStatus(ctx context.Context, addrs []string) (*status.Doc, []byte, error) {
	var errs []error
	for _, a := range addrs {
		doc, raw, err := fetchStatus(ctx, a)
		if err == nil {
			return doc, raw, nil
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

// fetchStatus reads the status document from addr: /api/v1/status, or the
// instances of /status from a `vrrpguard run` that predates it.
func fetchStatus(ctx context.Context, addr string) (*status.Doc, []byte, error) {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + addr
	}
	base = strings.TrimSuffix(base, "/")
	raw, code, err := httpGet(ctx, base+statusPath)
	if err != nil {
		return nil, nil, fmt.Errorf("is vrrpguard listening on %s? %w", addr, err)
	}
	if code == http.StatusNotFound {
		raw, code, err = httpGet(ctx, base+"/status")
		if err != nil {
			return nil, nil, fmt.Errorf("is vrrpguard listening on %s? %w", addr, err)
		}
		if code != http.StatusOK {
			return nil, nil, fmt.Errorf("status: %d: %s", code, strings.TrimSpace(string(raw)))
		}
		var old statusDoc
		if err := json.Unmarshal(raw, &old); err != nil {
			return nil, nil, fmt.Errorf("decode status: %w", err)
		}
		if old.Instances == nil {
			return nil, nil, errors.New("decode status: no instances")
		}
		return &status.Doc{Version: old.Version, Command: "run", Instances: old.Instances}, raw, nil
	}
	if code != http.StatusOK {
		return nil, nil, fmt.Errorf("status: %d: %s", code, strings.TrimSpace(string(raw)))
	}
	var doc status.Doc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("decode status: %w", err)
	}
	return &doc, raw, nil
}

// httpGet fetches url (at most 16 MiB, within 5 s).
func httpGet(ctx context.Context, url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", url, err)
	}
	return raw, resp.StatusCode, nil
}
