package participant

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// notifyTimeout bounds a notify script (keepalived does not wait for them;
// this only reaps runaway ones).
const notifyTimeout = time.Minute

// notifyKeyword is the notify_* keyword of entering state.
func notifyKeyword(state election.State) string {
	switch state {
	case election.Master:
		return "notify_master"
	case election.Backup:
		return "notify_backup"
	case election.Fault:
		return "notify_fault"
	}
	return "notify_stop"
}

// notifyCommands prepares the notify scripts of an instance or sync group
// (what names it in logs): the lines kept with their user and position,
// else the bare command fields (a configuration built in code).
func notifyCommands(e *scriptEnv, what string, lines map[string]keepalived.ScriptLine, master, backup, fault, stop, any string) map[string]*command {
	out := map[string]*command{}
	cmds := map[string]string{"notify_master": master, "notify_backup": backup,
		"notify_fault": fault, "notify_stop": stop, "notify": any}
	if l, ok := lines["notify_master_rx_lower_pri"]; ok {
		cmds["notify_master_rx_lower_pri"] = l.Cmd
	}
	for kw, cmd := range cmds {
		if cmd == "" {
			continue
		}
		l, ok := lines[kw]
		if !ok || l.Cmd != cmd {
			l = keepalived.ScriptLine{Cmd: cmd}
		}
		if c := e.prepare(what+" "+kw, l.Cmd, l.RunAs, l.Pos()); c != nil {
			out[kw] = c
		}
	}
	return out
}

// notify runs the notify scripts for entering state, asynchronously, with
// keepalived's arguments: notify_master/backup/fault/stop as written, and
// notify with "INSTANCE" NAME STATE PRIORITY appended; then writes the
// state change to the notify FIFOs.
func (i *Instance) notify(state election.State, prio uint8) {
	if c := i.notifyCmds[notifyKeyword(state)]; c != nil {
		runScript(i.log, c)
	}
	if c := i.notifyCmds["notify"]; c != nil {
		runScript(i.log, c, "INSTANCE", i.cfg.Name, stateWord(state), strconv.Itoa(int(prio)))
	}
	i.fifo.instance(i.cfg.Name, state, prio)
}

// masterRxLowerPri runs notify_master_rx_lower_pri and writes
// MASTER_RX_LOWER_PRI to the notify FIFOs, as keepalived does when a master
// hears a lower priority.
func (i *Instance) masterRxLowerPri(prio uint8) {
	if c := i.notifyCmds["notify_master_rx_lower_pri"]; c != nil {
		runScript(i.log, c)
	}
	i.fifo.write(fifoLine("INSTANCE", i.cfg.Name, "MASTER_RX_LOWER_PRI", int(prio)))
}

// runScript starts a notify script with extra arguments appended and reaps
// it in the background, logging failures to log.
func runScript(log *slog.Logger, c *command, extra ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	cmd := c.cmd(ctx, extra...)
	if err := cmd.Start(); err != nil {
		cancel()
		log.Warn("notify script", "script", c.what, "at", c.pos, "err", err)
		return
	}
	go func() {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			log.Warn("notify script", "script", c.what, "at", c.pos, "err", err)
		}
	}()
}

// tracked is a vrrp_script ready to run.
type tracked struct {
	cfg *keepalived.Script
	cmd *command
}

// checkScript runs a vrrp_script once; nil means success (exit 0 within
// the timeout).
func checkScript(ctx context.Context, s tracked) error {
	if s.cmd == nil {
		return errors.New("script not runnable")
	}
	to := s.cfg.Timeout
	if to <= 0 {
		to = s.cfg.Interval
	}
	if to <= 0 {
		to = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	return s.cmd.cmd(ctx).Run()
}

// runTracker runs a vrrp_script every interval, applying rise and fall,
// and reports each change of its state, starting from ok.
func runTracker(ctx context.Context, s tracked, ok bool, report func(ok bool)) {
	iv := s.cfg.Interval
	if iv <= 0 {
		iv = time.Second
	}
	rise, fall := max(s.cfg.Rise, 1), max(s.cfg.Fall, 1)
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
