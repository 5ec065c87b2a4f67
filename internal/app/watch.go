package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("watch", "[flags]",
		"Captures VRRP, ARP and IPv6 neighbour advertisements live (AF_PACKET; needs root or\n"+
			"CAP_NET_RAW) and reports what it finds until SIGINT or SIGTERM, then exits 0.", stdout, stderr)
	var ifaces, configs stringList
	fs.Var(&ifaces, "interface", "interface to capture on (repeatable; default: watch.interfaces of the config, else every up, non-loopback interface)")
	fs.Var(&configs, "config", "expected configuration: a keepalived.conf (e.g. of each node) or a vrrpguard YAML file (repeatable); default: the built-in config")
	format := fs.String("format", "", "output format: text or json (default: watch.format of the config, text)")
	adverts := fs.Bool("adverts", false, "print every advertisement, ARP and ND observation and invalid packet")
	listen := fs.String("listen", "", "serve /metrics (Prometheus) and /healthz on this address (default: watch.listen of the config, 127.0.0.1:9812; \"off\" disables)")
	af := addAlertFlags(fs)
	noProbe := fs.Bool("no-probe", false, "do not send ARP probes / neighbour solicitations for virtual addresses (see watch.probe_interval)")
	noPromisc := fs.Bool("no-promisc", false, "do not put the interfaces in promiscuous mode (unicast ARP replies to other hosts are then missed)")
	if _, st, done := parseFlags(fs, args); done {
		return st
	}
	set, err := loadSettings(configs, prefixWriter{stderr, "vrrpguard watch: "})
	if err != nil {
		configError(stderr, "watch", err)
		return ExitError
	}
	w := set.file.Watch
	if *format == "" {
		*format = w.Format
	}
	if *listen == "" {
		*listen = w.Listen
	}
	if *listen == "off" {
		*listen = ""
	}
	if len(ifaces) == 0 {
		ifaces = w.Interfaces
	}
	promisc := w.Promiscuous && !*noPromisc
	f, err := output.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
		return ExitError
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if len(ifaces) == 0 {
		ifaces, err = sniffer.DefaultInterfaces()
		if err != nil {
			fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
			return ExitError
		}
	}
	live, err := sniffer.OpenLive(ifaces, sniffer.LiveOptions{Promiscuous: promisc})
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
		return ExitError
	}
	m := newMetrics()
	m.reg.MustRegister(newLiveCollector(live))
	if *listen != "" {
		addr, err := serveHTTP(ctx, *listen, m.reg, func() error { return nil })
		if err != nil {
			live.Close()
			fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
			return ExitError
		}
		log.Info("serving metrics", "addr", addr.String())
	}
	p := output.New(stdout, f, nil)
	p.AutoFlush = true
	if !*noProbe {
		set.params.ProbeInterval = w.ProbeInterval
	}
	engine, err := set.newEngine()
	if err != nil {
		live.Close()
		fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
		return ExitError
	}
	pl := &pipeline{engine: engine, printer: p, log: log, m: m, fm: newFindingMetrics(m.reg), adverts: *adverts}
	if set.params.ProbeInterval > 0 {
		pl.prober = sniffer.NewProber()
		defer pl.prober.Close()
	}
	actx, stopAlerts := context.WithCancel(ctx)
	waitAlerts, err := startAlerts(actx, set, af, m.reg, log, pl)
	if err != nil {
		stopAlerts()
		live.Close()
		fmt.Fprintf(stderr, "vrrpguard watch: alerts: %v\n", err)
		return ExitError
	}
	defer func() { stopAlerts(); waitAlerts() }()
	log.Info("watching", "interfaces", live.Interfaces())
	tctx, stopTicks := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-tctx.Done():
				return
			case now := <-t.C:
				pl.tick(now)
			}
		}
	}()
	err = live.Run(ctx, pl.observe)
	stopTicks()
	p.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard watch: %v\n", err)
		return ExitError
	}
	log.Info("stopped")
	return ExitOK
}
