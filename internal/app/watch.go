package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vrrpguard/vrrpguard/internal/status"

	"github.com/vrrpguard/vrrpguard/sniffer"
)

func runWatch(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet("watch", "[flags]",
		"Captures VRRP, ARP and IPv6 neighbour advertisements live (AF_PACKET; needs root or\n"+
			"CAP_NET_RAW) and reports what it finds until SIGINT or SIGTERM, then exits 0.", c.stdout, c.stderr)
	var ifaces stringList
	fs.Var(&ifaces, "interface", "interface to capture on (repeatable; default: watch.interfaces of the config, else every up, non-loopback interface); one that does not exist yet is waited for, and a capture whose interface is deleted or set down resumes when it is back")
	sf := addSegmentFlags(fs,
		"expected configuration: a keepalived.conf (e.g. of each node) or a vrrpguard YAML file (repeatable); default: the built-in config",
		"serve /metrics (Prometheus) and /healthz on this address (default: watch.listen of the config, 127.0.0.1:9812; \"off\" disables)",
		float64(sniffer.DefaultRingBlocks*sniffer.DefaultRingBlockSize>>20), sniffer.DefaultRingBlockTimeout)
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	fail := func(err error) int {
		fmt.Fprintf(c.stderr, "vrrpguard watch: %v\n", err)
		return ExitError
	}
	set, err := loadSettings(sf.configs, prefixWriter{c.stderr, "vrrpguard watch: "})
	if err != nil {
		configError(c.stderr, "watch", err)
		return ExitError
	}
	if len(ifaces) == 0 {
		ifaces = set.file.Watch.Interfaces
	}
	if len(ifaces) == 0 {
		if ifaces, err = sniffer.DefaultInterfaces(); err != nil {
			return fail(err)
		}
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	reg := newRegistry(c.version)
	opts, err := set.watcherOptions(sf, ifaces, c.stdout, log, reg)
	if err != nil {
		return fail(err)
	}
	w, err := newWatcher(opts)
	if err != nil {
		return fail(err)
	}
	if addr := sf.listenAddr(set.file.Watch.Listen); addr != "" {
		doc := func() status.Doc {
			d := w.Status()
			d.Version, d.Command, d.Node = c.version, "watch", opts.Alerts.Instance
			return d
		}
		mux, err := newMux(reg, func() error { return nil }, doc, log)
		if err != nil {
			w.Close()
			return fail(err)
		}
		bound, err := serveHTTP(ctx, addr, *sf.remote, mux, log)
		if err != nil {
			w.Close()
			return fail(err)
		}
		log.Info("serving metrics and status", "addr", bound.String())
	}
	if err := w.Run(ctx); err != nil {
		return fail(err)
	}
	log.Info("stopped")
	return ExitOK
}
