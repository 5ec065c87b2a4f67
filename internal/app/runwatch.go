package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/participant"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

func init() {
	runSegmentWatch = watchOwnSegments
	runSegmentReload = reloadOwnSegments
}

// runSegmentReload, when set, gives the segment watcher the configuration
// reloaded on SIGHUP.
var runSegmentReload func(k *keepalived.Config, log *slog.Logger)

// ownWatch is the running segment watcher of `run` (one per process).
var ownWatch struct {
	sync.Mutex
	pl     *pipeline
	ifaces []string
}

// reloadOwnSegments replaces the expectations of the segment watcher.
// Interfaces added by the new file are not captured until a restart.
func reloadOwnSegments(k *keepalived.Config, log *slog.Logger) {
	ownWatch.Lock()
	defer ownWatch.Unlock()
	if ownWatch.pl == nil {
		return
	}
	for _, in := range k.Instances {
		if in.Interface != "" && !slices.Contains(ownWatch.ifaces, in.Interface) {
			log.Warn("the reloaded configuration uses an interface the segment watcher does not capture; restart vrrpguard to watch it", "interface", in.Interface)
		}
	}
	ownWatch.pl.mu.Lock()
	ownWatch.pl.engine.SetExpected(ownExpected(k, log), time.Now())
	ownWatch.pl.mu.Unlock()
}

// ownExpected is the engine's expectations from the node's keepalived.conf
// (the interfaces named there are the node's own, so they are kept).
func ownExpected(k *keepalived.Config, log *slog.Logger) []rules.Expected {
	exp, ws := config.Expectations([]*keepalived.Config{k}, nil)
	for _, w := range ws {
		log.Warn("configuration", "warning", w.String())
	}
	return exp
}

// runWatchStdout is where `run` prints the findings of its segments.
var runWatchStdout = os.Stdout

// watchOwnSegments makes `run` watch the segments of its instances exactly
// as `watch` does: capture on their interfaces, the rules engine with the
// keepalived.conf as expected configuration (the interfaces named there
// are this node's own, so they are kept), findings printed and logged,
// metrics on run's registry, alert sinks.
func watchOwnSegments(ctx context.Context, k *keepalived.Config, _ *participant.Router, log *slog.Logger, reg *prometheus.Registry) error {
	var ifaces []string
	for _, in := range k.Instances {
		if in.Interface != "" && !slices.Contains(ifaces, in.Interface) {
			ifaces = append(ifaces, in.Interface)
		}
	}
	if len(ifaces) == 0 {
		return nil
	}
	set := &settings{file: config.Default(), keepalived: []*keepalived.Config{k}}
	set.params = rules.DefaultParams()
	set.params.ProbeInterval = set.file.Watch.ProbeInterval
	engine, err := rules.New(set.params, ownExpected(k, log))
	if err != nil {
		return err
	}
	live, err := sniffer.OpenLive(ifaces, sniffer.LiveOptions{Promiscuous: set.file.Watch.Promiscuous})
	if err != nil {
		return fmt.Errorf("watch own segments: %w", err)
	}
	m := newMetricsOn(reg)
	reg.MustRegister(newLiveCollector(live))
	p := output.New(runWatchStdout, output.Text, nil)
	p.AutoFlush = true
	pl := &pipeline{engine: engine, printer: p, log: log, m: m, fm: newFindingMetrics(reg)}
	if set.params.ProbeInterval > 0 {
		pl.prober = sniffer.NewProber()
	}
	// Alerts: keepalived's global_defs notification_email / smtp_server.
	host, _ := os.Hostname()
	empty := ""
	af := &alertFlags{smtp: &empty, mailFrom: &empty, stateDir: &empty, instance: &host}
	if _, err := startAlerts(ctx, set, af, reg, log, pl); err != nil {
		live.Close()
		return fmt.Errorf("alerts: %w", err)
	}
	ownWatch.Lock()
	ownWatch.pl, ownWatch.ifaces = pl, ifaces
	ownWatch.Unlock()
	log.Info("watching own segments", "interfaces", ifaces)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				pl.tick(now)
			}
		}
	}()
	go func() {
		if err := live.Run(ctx, pl.observe); err != nil {
			log.Error("capture stopped", "err", err)
		}
		if pl.prober != nil {
			pl.prober.Close()
		}
	}()
	return nil
}
