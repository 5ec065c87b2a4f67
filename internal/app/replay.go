package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vrrpguard/vrrpguard/obs"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/rules"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

func runReplay(ctx context.Context, c *cli, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	fs := newFlagSet("replay", "[flags] FILE...",
		"Reads pcap or pcapng capture files (Ethernet, 802.1Q, Linux cooked, raw IP), merged by\n"+
			"packet timestamp, and reports what it finds, using the packets' own timestamps as the clock.\n"+
			"Exit status: 0 nothing to report, 1 findings at warning or above, 2 error.", stdout, stderr)
	format := fs.String("format", "text", "output format: text or json")
	adverts := fs.Bool("adverts", false, "print every advertisement, ARP and ND observation and invalid packet")
	var configs stringList
	fs.Var(&configs, "config", "expected configuration: a keepalived.conf (e.g. of each node) or a vrrpguard YAML file (repeatable)")
	files, st, done := parseFlags(fs, args)
	if done {
		return st
	}
	f, err := output.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard replay: %v\n", err)
		return ExitError
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "vrrpguard replay: no capture file given (usage: vrrpguard replay [flags] FILE...)")
		return ExitError
	}
	p := output.New(stdout, f, nil)
	defer p.Flush()
	set, err := loadSettings(configs, prefixWriter{stderr, "vrrpguard replay: "})
	if err != nil {
		configError(stderr, "replay", err)
		return ExitError
	}
	engine, err := set.newEngine()
	if err != nil {
		fmt.Fprintf(stderr, "vrrpguard replay: %v\n", err)
		return ExitError
	}
	pl := &pipeline{engine: engine, printer: p, log: slog.New(slog.NewTextHandler(stderr, nil)), adverts: *adverts}
	var last time.Time
	var stats []sniffer.FileStats
	if c.plainReplay {
		stats, err = sniffer.ReadFilesWith(files, func(o *obs.Observation) {
			last = o.Time
			pl.observe(o)
		}, sniffer.ReadOptions{Plain: true})
	} else {
		// Reading and decoding take a second core; the engine sees the
		// same observations in the same order, a batch at a time.
		stats, err = sniffer.ReadFilesBatched(files, func(b []obs.Observation) {
			last = b[len(b)-1].Time
			pl.observeBatch(b)
		}, sniffer.ReadOptions{})
	}
	if err != nil {
		var fe *sniffer.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(stderr, "vrrpguard replay: %s\n", fe.Error())
		} else {
			fmt.Fprintf(stderr, "vrrpguard replay: %v\n", err)
		}
		return ExitError
	}
	for _, s := range stats {
		if s.Truncated != nil {
			fmt.Fprintf(stderr, "vrrpguard replay: warning: %s: %v; processed the %d packets before the break\n", s.Path, s.Truncated, s.Packets)
		}
	}
	if !last.IsZero() {
		pl.tick(last) // timers at the last packet's time
	}
	if pl.worst.Rank() >= rules.Warning.Rank() {
		return ExitFindings
	}
	return ExitOK
}
