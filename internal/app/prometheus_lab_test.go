package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/dashboards"
	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// promServer is a real Prometheus (Debian's) running in a lab host's
// namespace, reached through its HTTP API.
type promServer struct {
	url    string
	client *http.Client
}

// startPrometheus runs prometheus in h's namespace on addr, scraping target
// (job vrrpguard) every second and evaluating ruleFiles every second, with
// its storage in a temporary directory. It returns once Prometheus is
// ready.
func startPrometheus(t *testing.T, h *netlab.Host, addr, target string, ruleFiles ...string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"global": map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"scrape_configs": []any{map[string]any{
			"job_name":       "vrrpguard",
			"static_configs": []any{map[string]any{"targets": []string{target}}},
		}},
		"rule_files": ruleFiles,
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	proc := h.Start(t, "prometheus", "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	p := &promServer{url: "http://" + addr, client: nsClient(h)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := p.client.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if !proc.Running() || time.Now().After(deadline) {
			t.Fatalf("prometheus not ready: %v\n%s", err, proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// api calls a Prometheus HTTP API endpoint (GET without form, else POST)
// and decodes the "data" of a successful answer into out. Any other answer
// (HTTP status, "status": "error", warnings) is an error.
func (p *promServer) api(path string, form url.Values, out any) error {
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = p.client.Get(p.url + path)
	} else {
		resp, err = p.client.PostForm(p.url+path, form)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: HTTP %d, not JSON: %w: %.300s", path, resp.StatusCode, err, body)
	}
	if resp.StatusCode != http.StatusOK || env.Status != "success" {
		return fmt.Errorf("%s: HTTP %d, status %q: %s: %s", path, resp.StatusCode, env.Status, env.ErrorType, env.Error)
	}
	if len(env.Warnings) > 0 {
		return fmt.Errorf("%s: warnings: %s", path, strings.Join(env.Warnings, "; "))
	}
	return json.Unmarshal(env.Data, out)
}

// promSample is a [time, "value"] pair of the HTTP API.
type promSample [2]any

func (s promSample) value() float64 {
	str, _ := s[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// promSeries is one series of an instant (Value) or range (Values) result.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  promSample        `json:"value"`
	Values []promSample      `json:"values"`
}

// query runs an instant query now; the result must be a vector.
func (p *promServer) query(expr string) ([]promSeries, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSeries `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", expr, data.ResultType)
	}
	return data.Result, nil
}

// queryRange runs a range query from start to end at step.
func (p *promServer) queryRange(expr string, start, end time.Time, step time.Duration) ([]promSeries, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSeries `json:"result"`
	}
	form := url.Values{
		"query": {expr},
		"start": {strconv.FormatFloat(float64(start.UnixMilli())/1e3, 'f', 3, 64)},
		"end":   {strconv.FormatFloat(float64(end.UnixMilli())/1e3, 'f', 3, 64)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	if err := p.api("/api/v1/query_range", form, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("query_range %s: result type %s, want matrix", expr, data.ResultType)
	}
	return data.Result, nil
}

// waitValue polls the instant query expr until it returns exactly one
// series with value want, and fails the test after timeout.
func (p *promServer) waitValue(t *testing.T, expr string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		res, err := p.query(expr)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 1 && res[0].Value.value() == want {
			return
		}
		last = fmt.Sprint(res)
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus: %s is not %v after %v; last result %s", expr, want, timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// promAlert is an alert of /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"` // pending or firing
}

func (p *promServer) alerts() ([]promAlert, error) {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := p.api("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// alertStates returns the states of the alerts named name.
func (p *promServer) alertStates(t *testing.T, name string) []string {
	t.Helper()
	as, err := p.alerts()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if a.Labels["alertname"] == name {
			out = append(out, a.State)
		}
	}
	return out
}

// sendOddVRRP sends, from h's namespace to 224.0.0.18, count VRRPv2
// adverts for vrid with a TTL of 64 instead of 255 and count packets of
// VRRP version 7: what a router forwarding VRRP from another segment and a
// broken sender put on the wire.
func sendOddVRRP(h *netlab.Host, src netip.Addr, vrid uint8, vip netip.Addr, count int) error {
	ad := vrrp.Advertisement{Version: 2, VRID: vrid, Priority: 200, Interval: time.Second, Addresses: []netip.Addr{vip}}
	advert, err := ad.Marshal(vrrp.EncodeOptions{})
	if err != nil {
		return err
	}
	bad := slices.Clone(advert)
	bad[0] = 7<<4 | vrrp.TypeAdvertisement
	return h.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err := net.ListenPacket("ip4:112", src.String())
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		if err := errors.Join(p.SetMulticastInterface(ifi), p.SetMulticastTTL(64), p.SetMulticastLoopback(false)); err != nil {
			return err
		}
		dst := &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)}
		for range count {
			for _, pkt := range [][]byte{advert, bad} {
				if _, err := p.WriteTo(pkt, nil, dst); err != nil {
					return err
				}
			}
			time.Sleep(300 * time.Millisecond)
		}
		return nil
	})
}

// TestLabPrometheusSegmentView runs a keepalived pair (a 150, b 100),
// `vrrpguard watch` on a third host with a webhook sink, and Debian's
// Prometheus scraping the watcher every second with vrrpguard's alerting
// rules loaded. A fourth host sends a forwarded (TTL 64) advert and an
// undecodable VRRP packet. Then the pair splits (b drops a's adverts) for
// as long as VRRPSegmentSplitBrain's `for:` and heals. Through Prometheus'
// HTTP API it checks that vrrpguard_segment_masters went 1 → 2 → 1, that
// the alerts went pending and firing and the rules evaluate without error,
// and that every PromQL expression of every dashboard is valid and returns
// data over the scenario, apart from those listed in noDataHere with the
// reason; expressions over what the scenario moves must show it (not 0).
func TestLabPrometheusSegmentView(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "prometheus")
	bin := binary(t)
	dashDir, err := filepath.Abs(filepath.Join("..", "..", "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	queries, err := dashboards.Queries(dashDir)
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dashDir, "vrrpguard-rules.yml")

	lab := netlab.New(t)
	a := lab.AddHost("a", "10.95.0.1/24")
	b := lab.AddHost("b", "10.95.0.2/24")
	x := lab.AddHost("x", "10.95.0.5/24")
	mon := lab.AddHost("mon", "10.95.0.9/24")
	const (
		vip    = "10.95.0.100"
		target = "127.0.0.1:9812" // the watcher, in mon's namespace
	)

	start := time.Now()
	prom := startPrometheus(t, mon, "127.0.0.1:9090", target, rulesFile)
	hook := startHook(t, mon, "127.0.0.1:0")
	w := mon.Start(t, bin, "watch", "--interface", "eth0", "--format", "json", "--listen", target, "--instance", "mon",
		"--state-dir", t.TempDir(), "--webhook", hook.url)
	w.WaitOutput(t, "watching", 10*time.Second)

	// a first, so that it is the only master from the start.
	a.StartKeepalived(t, pairConfOn(150, vip+"/24"))
	a.WaitAddr(t, vip, 15*time.Second)
	b.StartKeepalived(t, pairConfOn(100, vip+"/24")).WaitLog(t, "Entering BACKUP STATE", 10*time.Second)
	masters := fmt.Sprintf(`vrrpguard_segment_masters{instance=%q, interface="eth0", family="ipv4", vrid="51"}`, target)
	prom.waitValue(t, masters, 1, 15*time.Second)

	// A sender that keeps at it for 3 s, so that rates show it.
	// Another VRID than the pair's: keepalived restarts its advert timer
	// on every packet of its own VRID, valid or not, so 3 s of these on
	// VRID 51 could silence the master past Master_Down_Interval (a real
	// moment without master, which the 1 → 2 → 1 check would then see).
	if err := sendOddVRRP(x, netip.MustParseAddr("10.95.0.5"), 52, netip.MustParseAddr("10.95.0.152"), 10); err != nil {
		t.Fatal(err)
	}
	w.WaitOutput(t, `"kind":"ttl_invalid","state":"raised"`, 5*time.Second)
	w.WaitOutput(t, `"kind":"malformed_packet","state":"raised"`, 5*time.Second)

	// One-way loss: b no longer hears a and becomes master too.
	b.DropVRRPFrom(t, "10.95.0.1")
	split := time.Now()
	prom.waitValue(t, masters, 2, 15*time.Second)
	t.Logf("Prometheus saw 2 masters %v after the drop", time.Since(split).Round(time.Millisecond))
	hook.wait(t, "VRRPDuplicateMaster", "firing", 15*time.Second)
	// The rules: VRRPSplitBrain (from the finding) fires at once,
	// VRRPSegmentSplitBrain (masters > 1 for 30s) is pending, then fires.
	seen := map[string]bool{}
	deadline := time.Now().Add(75 * time.Second)
	for !seen["firing"] {
		for _, s := range prom.alertStates(t, "VRRPSegmentSplitBrain") {
			seen[s] = true
		}
		if time.Now().After(deadline) {
			as, err := prom.alerts()
			t.Fatalf("VRRPSegmentSplitBrain not firing 75 s after the split; states seen %v; alerts: %v %v", seen, as, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !seen["pending"] {
		t.Errorf("VRRPSegmentSplitBrain fired without being pending first (its for: 30s)")
	}
	if got := prom.alertStates(t, "VRRPSplitBrain"); !slices.Equal(got, []string{"firing"}) {
		t.Errorf("VRRPSplitBrain states %v during the split brain, want [firing]", got)
	}
	t.Logf("VRRPSegmentSplitBrain firing %v after the drop", time.Since(split).Round(time.Millisecond))

	// Heal.
	b.ClearDrops(t)
	prom.waitValue(t, masters, 1, 15*time.Second)
	hook.wait(t, "VRRPDuplicateMaster", "resolved", 15*time.Second)
	waitFor(t, "the split-brain alerts to end in Prometheus", 15*time.Second, func() bool {
		return len(prom.alertStates(t, "VRRPSegmentSplitBrain"))+len(prom.alertStates(t, "VRRPSplitBrain")) == 0
	})
	time.Sleep(3 * time.Second) // a few more scrapes and evaluations after the resolve
	end := time.Now()

	// vrrpguard_segment_masters over the whole test: 1 → 2 → 1.
	res, err := prom.queryRange(masters, start, end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%s: %d series over the test, want 1: %v", masters, len(res), res)
	}
	var steps []string
	for _, s := range res[0].Values {
		v := strconv.FormatFloat(s.value(), 'g', -1, 64)
		if len(steps) == 0 || steps[len(steps)-1] != v {
			steps = append(steps, v)
		}
	}
	if diff := testenv.DiffLines([]string{"1", "2", "1"}, steps); diff != "" {
		t.Errorf("%s over the test, repeats removed (-want +got):\n%s", masters, diff)
	}

	checkRulesHealthy(t, prom, rulesFile)
	// The metrics whose dashboard expressions cannot have data in this
	// scenario (watch, a keepalived pair, a webhook sink), with the reason.
	// Every other dashboard expression must return data here.
	noDataHere := map[string]string{
		"vrrpguard_instance_state":             "only `vrrpguard run` (the participant) exports its VRRP instances; the scenario runs `watch`",
		"vrrpguard_instance_priority":          "only `vrrpguard run` exports its VRRP instances",
		"vrrpguard_instance_transitions_total": "only `vrrpguard run` exports its VRRP instances",
		"vrrpguard_self_demotions_total":       "only `vrrpguard run --self-demote` exports it, when a foreign master outranks it",
		"vrrpguard_alerts_resent_total": "re-posts go only to Alertmanager sinks, every resend interval (1 min) while an alert fires; " +
			"the scenario has a webhook sink and a split brain of about 35 s",
	}
	// The metrics this scenario moves (an election, findings raised and
	// resolved, webhook deliveries, adverts, odd packets): expressions using
	// them must show a value other than 0 at some point, or the dashboard
	// hides what happened (as increase() did with counters that appear at 1).
	moved := []string{"vrrpguard_master_changes_total", "vrrpguard_findings_total", "vrrpguard_alerts_sent_total",
		"vrrpguard_alert_delivery_seconds", "vrrpguard_adverts_total", "vrrpguard_observations_total",
		"vrrpguard_capture_received_packets_total", "vrrpguard_invalid_packets_total", "vrrpguard_suspect_adverts_total"}
	checkDashboardQueries(t, prom, queries, noDataHere, moved, start, end, target)
}

// checkRulesHealthy wants every rule of file loaded in Prometheus and
// evaluated without error.
func checkRulesHealthy(t *testing.T, prom *promServer, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Groups []struct {
			Name  string
			Rules []map[string]any
		}
	}
	if err := yaml.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Groups []struct {
			Name  string `json:"name"`
			File  string `json:"file"`
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := prom.api("/api/v1/rules", nil, &got); err != nil {
		t.Fatal(err)
	}
	wantN := map[string]int{}
	for _, g := range want.Groups {
		wantN[g.Name] = len(g.Rules)
	}
	gotN := map[string]int{}
	for _, g := range got.Groups {
		gotN[g.Name] = len(g.Rules)
		for _, r := range g.Rules {
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s of group %s (%s): health %q, last error %q", r.Name, g.Name, g.File, r.Health, r.LastError)
			}
		}
	}
	if fmt.Sprint(wantN) != fmt.Sprint(gotN) {
		t.Errorf("rule groups loaded in Prometheus (name: rules) %v, want those of %s: %v", gotN, file, wantN)
	}
}

// checkDashboardQueries runs every dashboard expression as a range query
// over [start, end], with Grafana's variables set to the scenario's values:
// each must be valid and, unless it uses a metric of noDataHere (metric →
// why it has no data here), return at least one series with a number in
// it; those of noDataHere must return none (else the list is wrong). A
// variable's selector must offer the value the test gives the variable.
// Expressions using a metric of moved must return a number other than 0.
func checkDashboardQueries(t *testing.T, prom *promServer, queries []dashboards.Query, noDataHere map[string]string, moved []string,
	start, end time.Time, target string) {
	t.Helper()
	vars := map[string]string{
		"instance": target, "interface": "eth0", "family": "ipv4", "vrid": "51", "datasource": "prometheus",
		// Grafana's $__rate_interval for a 1 s scrape is 4 s; 10 s gives
		// rate() a few samples even when a scrape is late.
		"__rate_interval": "10s", "__interval": "1s",
		"__range": strconv.Itoa(int(end.Sub(start).Seconds())) + "s",
	}
	used := map[string]bool{}
	withData := 0
	for _, q := range queries {
		expr, err := q.PromQL(vars)
		if err != nil {
			t.Error(err)
			continue
		}
		res, err := prom.queryRange(expr, start, end, time.Second)
		if err != nil {
			t.Errorf("%s is not valid PromQL for Prometheus: %v\n%s", q, err, expr)
			continue
		}
		var excuse string
		for m, why := range noDataHere {
			if strings.Contains(q.Expr, m) {
				used[m], excuse = true, why
			}
		}
		has := hasNumbers(res, false)
		for _, m := range moved {
			if has && strings.Contains(q.Expr, m) && !hasNumbers(res, true) {
				t.Errorf("%s shows only 0 over the scenario, which moved %s\n%s", q, m, expr)
			}
		}
		switch {
		case excuse != "" && has:
			t.Errorf("%s returns data, though noDataHere says it cannot here (%s): remove it from the list\n%s", q, excuse, expr)
		case excuse == "" && !has:
			t.Errorf("%s returns no data over the scenario (%d series, all empty or NaN)\n%s", q, len(res), expr)
		case has:
			withData++
		}
		if q.Label != "" {
			if want := vars[strings.TrimPrefix(q.Panel, "variable ")]; !offers(res, q.Label, want) {
				t.Errorf("%s: label_values(%s, %s) does not offer %q, the value of the scenario", q, q.Expr, q.Label, want)
			}
		}
	}
	for m := range noDataHere {
		if !used[m] {
			t.Errorf("noDataHere lists %s, which no dashboard expression uses: remove it", m)
		}
	}
	t.Logf("%d dashboard expressions: %d with data over the scenario, %d without", len(queries), withData, len(queries)-withData)
}

// hasNumbers reports whether a range result has a sample that is a number
// (other than 0 if nonZero).
func hasNumbers(res []promSeries, nonZero bool) bool {
	for _, s := range res {
		for _, v := range s.Values {
			if x := v.value(); !math.IsNaN(x) && (x != 0 || !nonZero) {
				return true
			}
		}
	}
	return false
}

// offers reports whether some series of res has label = value.
func offers(res []promSeries, label, value string) bool {
	for _, s := range res {
		if s.Metric[label] == value {
			return true
		}
	}
	return false
}
