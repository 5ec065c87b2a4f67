package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/internal/status"
	"github.com/vrrpguard/vrrpguard/obs"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// fuzzMux is the mux `watch` serves, over a real watcher pipeline (engine,
// printer, metrics) fed the v2pass and v3v4 captures (moved in time to end
// now, so that their routers, VIPs and findings are live).
func fuzzMux(t testing.TB) http.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := newRegistry("fuzz")
	pl, err := newWatcherPipeline(watcherOptions{Params: rules.DefaultParams(), Out: io.Discard, Format: output.JSON, Log: log, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*obs.Observation
	caps := filepath.Join("..", "..", "testdata", "captures")
	if _, err := sniffer.ReadFiles([]string{filepath.Join(caps, "v2pass.pcap"), filepath.Join(caps, "v3v4.pcap")},
		func(o *obs.Observation) { c := o.Clone(); seen = append(seen, &c) }); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no observations in the captures")
	}
	shift := time.Now().Add(-time.Second).Sub(seen[len(seen)-1].Time)
	for _, o := range seen {
		o.Time = o.Time.Add(shift)
		pl.observe(o)
	}
	pl.tick(time.Now())
	w := &watcher{pl: pl, log: log}
	if d := w.Status(); len(d.Segments) == 0 {
		t.Fatalf("the watcher fed the captures sees no segment: %+v", d)
	}
	doc := func() status.Doc {
		d := w.Status()
		d.Version, d.Command, d.Node = "fuzz", "watch", "fuzz-node"
		return d
	}
	mux, err := newMux(reg, func() error { return nil }, doc, log)
	if err != nil {
		t.Fatal(err)
	}
	return mux
}

// FuzzHTTP sends arbitrary requests (method, target with path and query,
// one header, body) through the HTTP server's own request parser to the
// mux both commands serve: /metrics, /healthz, /api/v1/status and the
// status page. Nothing may panic or answer 5xx, and the status document,
// whenever served, is JSON.
func FuzzHTTP(f *testing.F) {
	for _, s := range []struct{ method, target, hk, hv, body string }{
		{"GET", "/", "Accept", "text/html", ""},
		{"GET", "/api/v1/status", "Accept", "application/json", ""},
		{"GET", "/api/v1/status?pretty=1&x=%00", "", "", ""},
		{"GET", "/metrics", "Accept", "application/openmetrics-text; version=1.0.0", ""},
		{"GET", "/metrics", "Accept-Encoding", "gzip", ""},
		{"HEAD", "/healthz", "", "", ""},
		{"POST", "/api/v1/status", "Content-Type", "application/json", `{"x":1}`},
		{"GET", "/../api/v1/status/", "", "", ""},
		{"DELETE", "/%2e%2e/metrics?name[]=vrrpguard_build_info", "X", strings.Repeat("a", 300), ""},
		{"GET", "http://evil.example/api/v1/status", "Host", "evil.example", ""},
		{"OPTIONS", "*", "", "", ""},
	} {
		f.Add(s.method, s.target, s.hk, s.hv, []byte(s.body))
	}
	mux := fuzzMux(f)
	f.Fuzz(func(t *testing.T, method, target, hk, hv string, body []byte) {
		var raw bytes.Buffer
		raw.WriteString(method + " " + target + " HTTP/1.1\r\nHost: vrrpguard\r\n")
		if hk != "" {
			raw.WriteString(hk + ": " + hv + "\r\n")
		}
		raw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		raw.Write(body)
		req, err := http.ReadRequest(bufio.NewReader(&raw))
		if err != nil {
			return // the server answers 400 before any handler runs
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", method, target, rec.Code, rec.Body.String())
		}
		if req.Method == http.MethodGet && req.URL.Path == statusPath && rec.Code == http.StatusOK {
			var d status.Doc
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
				t.Fatalf("status document is not JSON: %v", err)
			}
			if d.Node != "fuzz-node" {
				t.Fatalf("status document of node %q", d.Node)
			}
		}
	})
}
