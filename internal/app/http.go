package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vrrpguard/vrrpguard/internal/status"
)

// statusPath is where both commands serve the status document.
const statusPath = "/api/v1/status"

// maxHeaderBytes bounds a request's header on the listener.
const maxHeaderBytes = 64 << 10

// newMux returns the handlers both commands serve: /metrics from reg,
// /healthz (ok unless healthy returns an error), the status document at
// /api/v1/status and the status page at /. Commands add their own (run:
// /status, its instances alone, kept for older clients).
func newMux(reg *prometheus.Registry, healthy func() error, doc func() status.Doc, log *slog.Logger) (*http.ServeMux, error) {
	page, err := status.NewPage(2 * time.Second)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET "+statusPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, doc())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		d := doc()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Write(w, &d); err != nil {
			log.Warn("status page", "err", err)
		}
	})
	return mux, nil
}

// writeJSON answers with v as indented JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// serveHTTP serves h on addr until ctx is done. The listener is bound
// before it returns, so a bad address fails at start. A listener reachable
// from other hosts is logged as a warning unless allowRemote
// (--listen-allow-remote) says it is meant to be.
func serveHTTP(ctx context.Context, addr string, allowRemote bool, h http.Handler, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if remote := remoteListener(ln.Addr()); remote && !allowRemote {
		log.Warn("the HTTP listener is reachable from other hosts and has no authentication: anyone who can reach it "+
			"reads the status of every watched segment (addresses, MACs, findings) and the metrics; bind it to 127.0.0.1, "+
			"restrict it with a firewall, or pass --listen-allow-remote to say this is meant",
			"addr", ln.Addr().String())
	}
	// Requests are small GETs: bound what a client may hold (slow or idle
	// connections, big headers) on a listener that may be reachable.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: maxHeaderBytes}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// remoteListener reports whether a bound listener address can be reached
// from other hosts: any address but a loopback one (0.0.0.0 and :: are
// every address).
func remoteListener(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return true
	}
	return !tcp.IP.IsLoopback()
}
