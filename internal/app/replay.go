package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
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
		var gc *gcHold
		if c.ownsProcess {
			gc = holdGC()
			defer gc.release()
		}
		// Reading and decoding take a second core; the engine sees the
		// same observations in the same order, a batch at a time.
		stats, err = sniffer.ReadFilesBatched(files, func(b []obs.Observation) {
			last = b[len(b)-1].Time
			pl.observeBatch(b)
			gc.check()
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

// gcHoldMax is the heap (objects, live or not) up to which replay keeps
// the collector off.
const gcHoldMax = 16 << 20

// gcHold keeps the garbage collector off while the heap is small. A replay
// of a healthy segment allocates a few MiB in all, and the one or two
// collections it would run mostly scan the program's globals (about 10 ms
// of CPU); a replay that keeps more state (a flood of forged routers)
// passes gcHoldMax soon, and from then on the collector paces as before.
type gcHold struct {
	prev    int
	sample  []metrics.Sample
	batches int
	done    bool
}

// holdGC turns the collector off until release or a heap of gcHoldMax.
func holdGC() *gcHold {
	return &gcHold{prev: debug.SetGCPercent(-1), sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

// check gives the collector back once the heap passed gcHoldMax (every 8th
// call reads the heap size). A nil gcHold does nothing.
func (g *gcHold) check() {
	if g == nil || g.done {
		return
	}
	if g.batches++; g.batches%8 != 0 {
		return
	}
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() == metrics.KindUint64 && g.sample[0].Value.Uint64() > gcHoldMax {
		g.release()
	}
}

// release gives the collector back.
func (g *gcHold) release() {
	if g != nil && !g.done {
		debug.SetGCPercent(g.prev)
		g.done = true
	}
}
