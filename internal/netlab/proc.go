package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a long-running process started in a namespace with [Host.Start]
// or [Host.StartCmd]. It runs in a process group of its own; the lab kills
// the group at teardown.
type Proc struct {
	desc string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // valid once done is closed
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts name with args inside the host's namespace, capturing its
// standard output and error together. The process is killed (SIGKILL to its
// process group) when t's test ends or the lab is closed, whichever is first.
func (h *Host) Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	return h.StartCmd(t, h.Cmd(name, args...))
}

// StartCmd starts a command built with [Host.Cmd], for callers that need to
// set its environment or working directory. Stdout and Stderr must be unset;
// the output is captured as with [Host.Start]. StartCmd sets Setpgid, Pgid
// and Pdeathsig in cmd.SysProcAttr.
func (h *Host) StartCmd(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p, err := h.startCmd(cmd)
	if err != nil {
		t.Fatalf("netlab: %s: %v", h.name, err)
	}
	t.Cleanup(p.Kill)
	return p
}

func (h *Host) startCmd(cmd *exec.Cmd) (*Proc, error) {
	if cmd.Stdout != nil || cmd.Stderr != nil {
		return nil, errors.New("start: Stdout and Stderr must be unset")
	}
	args := cmd.Args
	if len(args) > 4 && args[1] == "netns" && args[2] == "exec" {
		// "ip netns exec NS /usr/sbin/prog args" → "prog args"
		args = append([]string{filepath.Base(args[4])}, args[5:]...)
	}
	p := &Proc{
		desc: fmt.Sprintf("%s: %s", h.name, strings.Join(args, " ")),
		cmd:  cmd,
		out:  &syncBuffer{},
		done: make(chan struct{}),
	}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// A process group of its own, so teardown reaches its children too; and
	// SIGKILL if the test binary dies without tearing down.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pgid = true, 0
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// Children that keep the output pipe open must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	if err := startPinned(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.desc, err)
	}
	if err := h.lab.register(p); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// The parent-death signal of a child goes off when the OS thread that forked
// it exits, not the process, and Go ends threads whose goroutine exits while
// locked to them (as goroutines switching namespaces do). So children are
// forked from one goroutine locked forever to its own thread.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// startPinned starts cmd from the dedicated spawning thread.
func startPinned(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked, and this goroutine never returns
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnReq{cmd, done}
	return <-done
}

// Pid returns the process id (that of the program itself: ip netns exec
// execs it).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output returns everything the process wrote to stdout and stderr so far.
func (p *Proc) Output() string { return p.out.String() }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done returns a channel closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err returns the result of waiting for the process (nil if it exited 0);
// it is meaningful once [Proc.Done] is closed.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Signal sends sig to the process (not its group).
func (p *Proc) Signal(sig os.Signal) error {
	if !p.Running() {
		return os.ErrProcessDone
	}
	return p.cmd.Process.Signal(sig)
}

// WaitOutput waits until the output contains substr; it fails the test,
// showing the output, after timeout or if the process exits first.
func (p *Proc) WaitOutput(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	p.waitCount(t, substr, 1, timeout)
}

func (p *Proc) waitCount(t testing.TB, substr string, n int, timeout time.Duration) {
	t.Helper()
	exited := false
	if poll(timeout, func() bool {
		if strings.Count(p.Output(), substr) >= n {
			return true
		}
		if !p.Running() {
			// Let a last write land, then give up.
			exited = true
			return strings.Count(p.Output(), substr) >= n
		}
		return false
	}) {
		return
	}
	why := fmt.Sprintf("after %v", timeout)
	if exited {
		why = fmt.Sprintf("before it exited (%v)", p.Err())
	}
	t.Fatalf("netlab: %s: %d× %q not in output %s; output:\n%s", p.desc, n, substr, why, p.Output())
}

// Stop sends SIGTERM, waits up to 10 s for the process to exit (then
// SIGKILLs its group) and returns the wait result: nil for exit status 0,
// an *exec.ExitError otherwise (including "signal: terminated" for a
// process that did not handle the signal).
func (p *Proc) Stop() error {
	return p.stop(syscall.SIGTERM, 10*time.Second)
}

func (p *Proc) stop(sig syscall.Signal, grace time.Duration) error {
	_ = p.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
	<-p.done
	return p.err
}

// Kill SIGKILLs the process group and waits for the process to exit. It is
// idempotent.
func (p *Proc) Kill() {
	pid := p.cmd.Process.Pid
	// The group outlives its leader while members remain, and its id is not
	// reused meanwhile, so this also reaches stragglers after the leader exited.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}
