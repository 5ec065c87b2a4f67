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
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
	"github.com/vrrpguard/vrrpguard/participant"
)

// defaultRunListen is where `run` serves /metrics, /healthz and /status,
// and where `status` asks (one port above watch's, so both can run).
const defaultRunListen = "127.0.0.1:9813"

// runMetrics are the Prometheus series of the participant.
type runMetrics struct {
	reg         *prometheus.Registry
	state       *prometheus.GaugeVec
	priority    *prometheus.GaugeVec
	transitions *prometheus.CounterVec
}

func newRunMetrics() *runMetrics {
	m := &runMetrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vrrpguard_build_info", Help: "Build information; always 1."}, []string{"version"})
	build.WithLabelValues(version()).Set(1)
	m.reg.MustRegister(m.state, m.priority, m.transitions, build)
	return m
}

var stateValue = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}

func (m *runMetrics) change(st participant.Status, tr *election.Transition) {
	m.state.WithLabelValues(st.Instance).Set(stateValue[st.State])
	m.priority.WithLabelValues(st.Instance).Set(float64(st.Priority))
	if tr != nil {
		m.transitions.WithLabelValues(st.Instance, st.State).Inc()
	}
}

// runSegmentWatch is the hook for watching the participant's own segments
// (sniffer + rules, as `watch` does) alongside the election. It is called
// once the router is built and before it runs; it must return at once and
// stop its work when ctx is done. Nil: no watching yet.
var runSegmentWatch func(ctx context.Context, k *keepalived.Config, r *participant.Router, log *slog.Logger, reg *prometheus.Registry) error

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "--config keepalived.conf [flags]",
		"Runs the VRRP instances of a keepalived.conf as a VRRP router (RFC 5798 / RFC 3768),\n"+
			"interoperating with keepalived; needs CAP_NET_RAW and CAP_NET_ADMIN. On SIGINT or\n"+
			"SIGTERM masters resign (priority-0 advertisement) and remove their addresses. SIGHUP\n"+
			"reloads the configuration: unchanged instances keep their state, changed ones restart.", stdout, stderr)
	conf := fs.String("config", "/etc/keepalived/keepalived.conf", "keepalived configuration to run")
	listen := fs.String("listen", defaultRunListen, "serve /metrics, /healthz and /status on this address (\"off\" disables)")
	debug := fs.Bool("debug", false, "log every dropped advertisement")
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	k, warns, err := keepalived.Load(*conf)
	for _, w := range warns {
		fmt.Fprintf(stderr, "vrrpguard run: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard run: %v\n", err)
		return ExitError
	}
	if len(k.Instances) == 0 {
		fmt.Fprintf(stderr, "vrrpguard run: %s: no vrrp_instance\n", *conf)
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	m := newRunMetrics()
	r, err := participant.New(k, participant.Options{Logger: log, OnChange: m.change})
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard run: %v\n", err)
		return ExitError
	}
	for _, st := range r.Status() {
		m.change(st, nil)
	}
	if *listen != "" && *listen != "off" {
		addr, err := serveRunHTTP(ctx, *listen, m.reg, r)
		if err != nil {
			fmt.Fprintf(stderr, "vrrpguard run: %v\n", err)
			return ExitError
		}
		log.Info("serving metrics and status", "addr", addr.String())
	}
	if runSegmentWatch != nil {
		if err := runSegmentWatch(ctx, k, r, log, m.reg); err != nil {
			fmt.Fprintf(stderr, "vrrpguard run: %v\n", err)
			return ExitError
		}
	}
	log.Info("running", "config", *conf, "instances", len(k.Instances))
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reloadRun(*conf, r, m, log)
			}
		}
	}()
	if err := r.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "vrrpguard run: %v\n", err)
		return ExitError
	}
	log.Info("stopped")
	return ExitOK
}

// reloadRun re-reads the configuration on SIGHUP and applies it: unchanged
// instances keep running, changed ones restart, removed ones stop. A
// configuration that does not load leaves everything as it is.
func reloadRun(path string, r *participant.Router, m *runMetrics, log *slog.Logger) {
	log.Info("reloading", "config", path)
	k, warns, err := keepalived.Load(path)
	for _, w := range warns {
		log.Warn("configuration", "warning", w.String())
	}
	if err == nil {
		var res participant.ReloadResult
		res, err = r.Reload(k)
		if err == nil {
			for _, name := range res.Stopped {
				m.state.DeleteLabelValues(name)
				m.priority.DeleteLabelValues(name)
			}
			for _, st := range r.Status() {
				m.change(st, nil)
			}
			log.Info("reloaded", "config", path, "kept", res.Kept, "stopped", res.Stopped, "started", res.Started)
			if runSegmentReload != nil {
				runSegmentReload(k, log)
			}
			return
		}
	}
	log.Error("reload failed; keeping the running configuration", "config", path, "err", err)
}

// statusDoc is the JSON of /status.
type statusDoc struct {
	Version   string               `json:"version"`
	Instances []participant.Status `json:"instances"`
}

// serveRunHTTP serves /metrics, /healthz and /status until ctx is done.
func serveRunHTTP(ctx context.Context, addr string, reg *prometheus.Registry, r *participant.Router) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(statusDoc{Version: version(), Instances: r.Status()})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "[flags]",
		"Prints the state of the instances of a running `vrrpguard run`, read from its /status.", stdout, stderr)
	addr := fs.String("addr", defaultRunListen, "address `vrrpguard run` listens on (its --listen)")
	format := fs.String("format", "text", "output format: text or json")
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "vrrpguard status: unknown format %q (text or json)\n", *format)
		return ExitError
	}
	doc, raw, err := fetchStatus(ctx, *addr)
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard status: %v\n", err)
		return ExitError
	}
	if *format == "json" {
		_, _ = stdout.Write(raw)
		return ExitOK
	}
	sort.SliceStable(doc.Instances, func(i, j int) bool { return doc.Instances[i].Instance < doc.Instances[j].Instance })
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tINTERFACE\tVRID\tVERSION\tSTATE\tPRIORITY\tMASTER\tSINCE\tREASON")
	for _, s := range doc.Instances {
		master := s.Master
		if s.State == "MASTER" {
			master = "(self)"
		}
		if master == "" {
			master = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\tv%d/%s\t%s\t%d\t%s\t%s\t%s\n", s.Instance, s.Interface, s.VRID, s.Version, s.Family,
			s.State, s.Priority, master, s.Since.Format(time.RFC3339), s.Reason)
	}
	_ = tw.Flush()
	return ExitOK
}

func fetchStatus(ctx context.Context, addr string) (*statusDoc, []byte, error) {
	url := addr
	if !strings.Contains(url, "://") {
		url = "http://" + addr
	}
	url = strings.TrimSuffix(url, "/") + "/status"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("status request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("is vrrpguard run listening on %s? %w", addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("status: %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var doc statusDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("decode status: %w", err)
	}
	if doc.Instances == nil {
		return nil, nil, errors.New("decode status: no instances")
	}
	return &doc, raw, nil
}
