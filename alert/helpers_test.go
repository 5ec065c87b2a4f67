package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vrrpguard/vrrpguard/alert/alertprom"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// finding returns a finding of kind on VRID vrid with a fingerprint that
// depends on both.
func finding(kind rules.Kind, vrid uint8, state rules.State, at time.Time) rules.Finding {
	mac1, _ := obs.ParseMAC("02:00:00:00:de:01")
	mac2, _ := obs.ParseMAC("02:00:00:00:de:02")
	return rules.Finding{
		Kind:        kind,
		State:       state,
		Severity:    rules.SeverityOf(kind),
		Interface:   "eth0",
		Family:      vrrp.IPv4,
		VRID:        vrid,
		Sources:     []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")},
		MACs:        []obs.MAC{mac1, mac2},
		VIPs:        []netip.Addr{netip.MustParseAddr("10.0.0.100")},
		FirstSeen:   at.Add(-time.Second),
		LastSeen:    at,
		At:          at,
		Message:     fmt.Sprintf("%s on VRID %d", kind, vrid),
		Fingerprint: fmt.Sprintf("fp-%s-%d", kind, vrid),
	}
}

// call is one Notify call seen by a fakeNotifier.
type call struct {
	at     time.Time
	alerts []Alert
}

// result is a scripted outcome of a fakeNotifier.
type result struct {
	retry bool
	err   error
}

// fakeNotifier records calls and returns scripted results (then success).
type fakeNotifier struct {
	name    string
	refresh bool

	mu      sync.Mutex
	calls   []call
	script  []result
	failing *result // when set, every call returns it (after the script)
}

func newFake(name string) *fakeNotifier { return &fakeNotifier{name: name} }

func (f *fakeNotifier) Name() string { return f.name }

func (f *fakeNotifier) Notify(ctx context.Context, alerts []Alert) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{at: time.Now(), alerts: alerts})
	if len(f.script) > 0 {
		r := f.script[0]
		f.script = f.script[1:]
		return r.retry, r.err
	}
	if f.failing != nil {
		return f.failing.retry, f.failing.err
	}
	return false, nil
}

func (f *fakeNotifier) setFailing(r *result) {
	f.mu.Lock()
	f.failing = r
	f.mu.Unlock()
}

func (f *fakeNotifier) getCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeRefresher is a fakeNotifier that asks for re-sends (like
// Alertmanager).
type fakeRefresher struct{ *fakeNotifier }

func (fakeRefresher) NeedsResend() bool { return true }

var errTemporary = errors.New("temporary failure")

// quietLogger discards logs unless -v.
func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// running is a dispatcher started by start.
type running struct {
	d      *Dispatcher
	reg    *prometheus.Registry
	m      *alertprom.Metrics
	cancel context.CancelFunc
	done   chan error
}

// start creates and runs a dispatcher; stop it with stop.
func start(t *testing.T, o Options) *running {
	t.Helper()
	r := &running{reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	if o.Metrics == nil {
		m, err := alertprom.New(r.reg)
		if err != nil {
			t.Fatal(err)
		}
		o.Metrics, r.m = m, m
	}
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	if o.Instance == "" {
		o.Instance = "test-watcher"
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- d.Run(ctx) }()
	return r
}

// stop cancels Run and waits for it.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func (r *running) counter(name string, labels ...string) float64 {
	return counter(r.m, name, labels...)
}

// counter reads one series of m.
func counter(m *alertprom.Metrics, name string, labels ...string) float64 {
	var c prometheus.Collector
	switch name {
	case "sent":
		c = m.SentTotal.WithLabelValues(labels...)
	case "resent":
		c = m.ResentTotal.WithLabelValues(labels...)
	case "failed":
		c = m.FailedTotal.WithLabelValues(labels...)
	case "retries":
		c = m.RetriesTotal.WithLabelValues(labels...)
	case "dropped":
		c = m.DroppedTotal.WithLabelValues(labels...)
	case "depth":
		c = m.Depth.WithLabelValues(labels...)
	default:
		panic(name)
	}
	return testutil.ToFloat64(c)
}

// outboxFiles lists the entry files of the sink's outbox.
func outboxFiles(t *testing.T, stateDir, sink string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(stateDir, outboxName, sinkDirName(sink), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// waitFor polls cond until it holds or the deadline passes (real time; a
// generous bound for a loaded machine, not a speed requirement).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fingerprints(alerts []Alert) []string {
	out := make([]string, len(alerts))
	for i, a := range alerts {
		out[i] = a.Fingerprint + "/" + a.Status
	}
	return out
}

// firingKind is the firing alert of kind k in d's firing set (nil: none).
func firingKind(d *Dispatcher, k rules.Kind) *Alert {
	for _, a := range *d.snapshot.Load() {
		if a.Kind == string(k) {
			return &a
		}
	}
	return nil
}
