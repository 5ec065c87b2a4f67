package app

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/alert"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// BenchmarkLabAlertLatency measures, with a real keepalived pair in the
// namespace lab, the time from the onset of a split brain on the wire (the
// first advertisement of the second master, after the bridge starts
// dropping the master's VRRP towards the backup) to a webhook receiving
// VRRPDuplicateMaster from `vrrpguard watch`. Two watchers run side by
// side on two hosts of the segment: one with the default grouping (the
// first notice of an incident at once) and one with alerts.hold_first
// (the first notice waits for group_wait, 200 ms, as before); a third
// watcher has the default grouping and run's capture block timeout
// (runBlockTimeout: the kernel hands packets over in batches). The onset is
// the kernel timestamp of a tcpdump recording; the webhook's time is taken
// when the request arrives (the same clock). Each iteration builds a fresh
// lab. Run with -benchtime=Nx.
func BenchmarkLabAlertLatency(b *testing.B) {
	for _, iv := range []time.Duration{100 * time.Millisecond, time.Second} {
		b.Run(iv.String(), func(b *testing.B) {
			var first, held, batched, detect []time.Duration
			for b.Loop() {
				r := alertLatencyOnce(b, iv)
				first, held, batched, detect = append(first, r.first), append(held, r.held), append(batched, r.batched), append(detect, r.detect)
			}
			b.Logf("interval %v: onset → webhook %v (hold_first: %v; block timeout %v: %v); onset → finding raised %v", iv, first, held, runBlockTimeout, batched, detect)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			for _, l := range [][]time.Duration{first, held, batched, detect} {
				slices.Sort(l)
			}
			b.ReportMetric(ms(first[len(first)/2]), "median-ms")
			b.ReportMetric(ms(first[len(first)-1]), "max-ms")
			b.ReportMetric(ms(held[len(held)/2]), "hold-first-median-ms")
			b.ReportMetric(ms(held[len(held)-1]), "hold-first-max-ms")
			b.ReportMetric(ms(batched[len(batched)/2]), "run-block-timeout-median-ms")
			b.ReportMetric(ms(batched[len(batched)-1]), "run-block-timeout-max-ms")
			b.ReportMetric(ms(detect[len(detect)/2]), "raised-median-ms")
		})
	}
}

// alertLatency is one lab's onset → webhook for the default watcher
// (first), the hold_first one (held) and the one with run's block timeout
// (batched), and onset → duplicate_master raised by the default watcher
// (its packet clock).
type alertLatency struct{ first, held, batched, detect time.Duration }

func alertLatencyOnce(b *testing.B, iv time.Duration) alertLatency {
	netlab.Require(b)
	bin := binary(b)
	lab := netlab.New(b)
	defer lab.Close()
	a := lab.AddHost("a", "10.67.0.1/24")
	bh := lab.AddHost("b", "10.67.0.2/24")
	mon := lab.AddHost("mon", "10.67.0.9/24")
	mon2 := lab.AddHost("mon2", "10.67.0.8/24")
	mon3 := lab.AddHost("mon3", "10.67.0.7/24")
	hold := filepath.Join(b.TempDir(), "hold.yaml")
	if err := os.WriteFile(hold, []byte("alerts:\n  hold_first: true\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	var hooks []*benchHook
	var procs []*netlab.Proc
	for _, w := range []struct {
		h    *netlab.Host
		args []string
	}{{mon, nil}, {mon2, []string{"--config", hold}}, {mon3, []string{"--capture-block-timeout", runBlockTimeout.String()}}} {
		hk := startBenchHook(b, w.h)
		hooks = append(hooks, hk)
		args := append([]string{"watch", "--interface", "eth0", "--format", "json", "--listen", "off",
			"--state-dir", b.TempDir(), "--webhook", hk.url}, w.args...)
		p := w.h.Start(b, bin, args...)
		p.WaitOutput(b, "watching", 10*time.Second)
		procs = append(procs, p)
	}
	capt := mon.StartCapture(b, "eth0", "ip proto 112")
	ver := 2
	if iv < time.Second {
		ver = 3
	}
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{VRID: 52, Priority: prio, Version: ver, AdvertInt: iv, VIPs: []string{"10.67.0.100/24"}})
	}
	a.StartKeepalived(b, conf(150))
	a.WaitAddr(b, "10.67.0.100", 15*time.Second)
	bh.StartKeepalived(b, conf(100)).WaitLog(b, "Entering BACKUP STATE", 10*time.Second)
	time.Sleep(5 * iv)
	cut := time.Now()
	lab.DropVRRPOnWire(b, a, bh)
	var got []time.Time
	for _, hk := range hooks {
		got = append(got, hk.wait(b, "VRRPDuplicateMaster", 30*time.Second))
	}
	raised := jsonTime(b, "finding time", waitJSONFinding(b, procs[0], "duplicate_master", "raised", 10*time.Second).Time)
	time.Sleep(100 * time.Millisecond)
	path := capt.Stop()
	var onset time.Time
	bAddr := netip.MustParseAddr("10.67.0.2")
	if _, err := sniffer.ReadFiles([]string{path}, func(o *obs.Observation) {
		if onset.IsZero() && o.Kind == obs.KindAdvert && o.Src == bAddr && o.Advert.Priority > 0 && o.Time.After(cut) {
			onset = o.Time
		}
	}); err != nil {
		b.Fatal(err)
	}
	if onset.IsZero() {
		b.Fatalf("no advert from the backup after the cut in %s", path)
	}
	return alertLatency{first: got[0].Sub(onset), held: got[1].Sub(onset), batched: got[2].Sub(onset), detect: raised.Sub(onset)}
}

// benchHook is a webhook receiver in a lab host's namespace that records
// when each alert name first arrived firing.
type benchHook struct {
	url   string
	mu    sync.Mutex
	first map[string]time.Time
}

func startBenchHook(b *testing.B, h *netlab.Host) *benchHook {
	var ln net.Listener
	if err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	hk := &benchHook{url: "http://" + ln.Addr().String() + "/hook", first: map[string]time.Time{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(req.Body)
		var m alert.WebhookMessage
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hk.mu.Lock()
		defer hk.mu.Unlock()
		for _, x := range m.Alerts {
			if n := x.Labels["alertname"]; x.Status == "firing" && hk.first[n].IsZero() {
				hk.first[n] = at
			}
		}
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return hk
}

// wait returns when the alert name first arrived firing.
func (hk *benchHook) wait(b *testing.B, name string, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		hk.mu.Lock()
		at := hk.first[name]
		hk.mu.Unlock()
		if !at.IsZero() {
			return at
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("webhook %s: no firing %s within %v", hk.url, name, timeout)
	return time.Time{}
}
