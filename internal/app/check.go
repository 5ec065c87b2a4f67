package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vrrpguard/vrrpguard/participant"
)

// Exit statuses of check.
const (
	checkOK      = 0 // loads: runnable, perhaps with warnings
	checkInvalid = 1 // a configuration `run` would refuse
	checkUsage   = 2 // bad flags
)

// runCheck loads the configuration `run` would run, exactly as `run`
// loads it (keepalived.conf with its warnings, the vrrpguard YAML, the
// instances and their scripts), prints the warnings and exits: 0 it can
// run (warnings or not), 1 it cannot, 2 bad usage.
func runCheck(_ context.Context, c *cli, args []string) int {
	fs := newFlagSet("check", "[--config keepalived.conf] [--config vrrpguard.yaml]",
		"Loads the configuration as `vrrpguard run` would, without touching the network, and\n"+
			"prints every warning with file:line (keywords vrrpguard does not act on, corrections\n"+
			"keepalived would make, scripts that would not run). Exit status: 0 it can run (with\n"+
			"or without warnings), 1 it cannot (the error says where), 2 bad usage.", c.stdout, c.stderr)
	var configs stringList
	fs.Var(&configs, "config", "the keepalived.conf to check (default "+defaultKeepalivedConf+"), and optionally one vrrpguard YAML file (repeatable)")
	pos, st, done := parseFlags(fs, args)
	if done {
		if st != ExitOK {
			return checkUsage
		}
		return st
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "vrrpguard check: unexpected argument %q (use --config FILE)\n", pos[0])
		return checkUsage
	}
	warn := prefixWriter{c.stderr, "vrrpguard check: "}
	set, err := loadRunSettings(configs, warn)
	if err != nil {
		configError(c.stderr, "check", err)
		return checkInvalid
	}
	log := slog.New(slog.NewTextHandler(warn, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r, err := participant.New(set.own, participant.Options{Logger: log})
	if err != nil {
		configError(c.stderr, "check", fmt.Errorf("%s: %w", set.own.Files[0], err))
		return checkInvalid
	}
	fmt.Fprintf(c.stdout, "%s: ok, %d vrrp_instance(s)\n", set.own.Files[0], len(r.Instances()))
	return checkOK
}
