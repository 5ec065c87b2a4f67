package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// notifyTimeout bounds a notify script (keepalived does not wait for them;
// this only reaps runaway ones).
const notifyTimeout = time.Minute

// notify runs the notify scripts for entering state, asynchronously, with
// keepalived's arguments: notify_master/backup/fault/stop as written, and
// notify with "INSTANCE" NAME STATE PRIORITY appended.
func (i *Instance) notify(state election.State, prio uint8) {
	in := i.cfg
	var specific string
	switch state {
	case election.Master:
		specific = in.NotifyMaster
	case election.Backup:
		specific = in.NotifyBackup
	case election.Fault:
		specific = in.NotifyFault
	case election.Initialize:
		specific = in.NotifyStop
	}
	name := state.String()
	if state == election.Initialize {
		name = "STOP"
	}
	if specific != "" {
		runScript(i.log, specific)
	}
	if in.Notify != "" {
		runScript(i.log, in.Notify, "INSTANCE", in.Name, name, strconv.Itoa(int(prio)))
	}
}

// runScript starts a notify script with extra arguments appended and reaps
// it in the background, logging failures to log.
func runScript(log *slog.Logger, cmdline string, extra ...string) {
	argv, err := keepalived.SplitScript(cmdline)
	if err != nil || len(argv) == 0 {
		log.Warn("notify script", "script", cmdline, "err", fmt.Errorf("cannot split command line: %w", err))
		return
	}
	argv = append(argv, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		cancel()
		log.Warn("notify script", "script", cmdline, "err", err)
		return
	}
	go func() {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			log.Warn("notify script", "script", cmdline, "err", err)
		}
	}()
}

// checkScript runs a vrrp_script once; nil means success (exit 0 within
// the timeout).
func checkScript(ctx context.Context, s *keepalived.Script) error {
	argv, err := keepalived.SplitScript(s.Script)
	if err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	if len(argv) == 0 {
		return errors.New("empty script")
	}
	to := s.Timeout
	if to <= 0 {
		to = s.Interval
	}
	if to <= 0 {
		to = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	return exec.CommandContext(ctx, argv[0], argv[1:]...).Run()
}

// runTracker runs a vrrp_script every interval, applying rise and fall,
// and reports each change of its state, starting from ok.
func runTracker(ctx context.Context, s *keepalived.Script, ok bool, report func(ok bool)) {
	iv := s.Interval
	if iv <= 0 {
		iv = time.Second
	}
	rise, fall := max(s.Rise, 1), max(s.Fall, 1)
	n := 0 // consecutive results contrary to the current state
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := checkScript(ctx, s) == nil
		if ctx.Err() != nil {
			return
		}
		if res == ok {
			n = 0
			continue
		}
		n++
		if (res && n >= rise) || (!res && n >= fall) {
			ok, n = res, 0
			report(ok)
		}
	}
}
