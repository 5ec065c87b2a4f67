package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/election"
)

// fifoSet is the notify FIFOs of a router (notify_fifo and
// vrrp_notify_fifo): keepalived's lines, written to both.
type fifoSet struct {
	fifos []*notifyFIFO
}

// newFIFOSet returns the FIFOs a configuration asks for, not yet opened.
func newFIFOSet(g *keepalived.Global, log *slog.Logger) *fifoSet {
	s := &fifoSet{}
	for _, f := range []struct {
		cfg  keepalived.FIFO
		what string
	}{{g.NotifyFIFO, "notify_fifo"}, {g.VRRPNotifyFIFO, "vrrp_notify_fifo"}} {
		if f.cfg.Path != "" {
			s.fifos = append(s.fifos, &notifyFIFO{cfg: f.cfg, what: f.what, fd: -1,
				log: log.With("fifo", f.cfg.Path, "keyword", f.what, "at", f.cfg.File+":"+strconv.Itoa(f.cfg.Line))})
		}
	}
	return s
}

// open creates and opens the FIFOs and starts their scripts; a FIFO that
// cannot be opened is logged and left out, as keepalived does.
func (s *fifoSet) open(e *scriptEnv) {
	if s == nil {
		return
	}
	for _, f := range s.fifos {
		if err := f.open(e); err != nil {
			f.log.Warn("notify FIFO not used", "err", err)
		}
	}
}

// close stops the FIFOs' scripts and closes them.
func (s *fifoSet) close() {
	if s == nil {
		return
	}
	for _, f := range s.fifos {
		f.close()
	}
}

// instance writes an instance's state change: INSTANCE "NAME" STATE PRIO.
func (s *fifoSet) instance(name string, state election.State, prio uint8) {
	s.write(fifoLine("INSTANCE", name, stateWord(state), int(prio)))
}

// priority writes an instance's change of effective priority:
// INSTANCE "NAME" MASTER_PRIORITY|BACKUP_PRIORITY PRIO.
func (s *fifoSet) priority(name string, state election.State, prio uint8) {
	w := "BACKUP_PRIORITY"
	if state == election.Master {
		w = "MASTER_PRIORITY"
	}
	s.write(fifoLine("INSTANCE", name, w, int(prio)))
}

// group writes a sync group's state change: GROUP "NAME" STATE 0.
func (s *fifoSet) group(name string, state election.State) {
	s.write(fifoLine("GROUP", name, stateWord(state), 0))
}

func (s *fifoSet) write(line string) {
	if s == nil {
		return
	}
	for _, f := range s.fifos {
		f.write(line)
	}
}

// fifoLine is keepalived's line (vrrp_notify.c notify_fifo).
func fifoLine(typ, name, state string, prio int) string {
	return fmt.Sprintf("%s \"%s\" %s %d\n", typ, name, state, prio)
}

// stateWord is the state as keepalived's notify scripts and FIFO name it
// (Initialize, when stopping: STOP).
func stateWord(s election.State) string {
	if s == election.Initialize {
		return "STOP"
	}
	return s.String()
}

// notifyFIFO is one notify FIFO. Writes never block: the FIFO is opened
// read-write and non-blocking (as keepalived opens it, so it never waits
// for a reader), and a line that does not fit because the reader is slow
// or absent is dropped and counted.
type notifyFIFO struct {
	cfg  keepalived.FIFO
	what string
	log  *slog.Logger

	mu      sync.Mutex
	fd      int
	created bool
	script  *exec.Cmd
	reaped  chan struct{}
	dropped atomic.Uint64
}

// open creates the FIFO if it is missing (mode 0644, owned by its
// configured user), starts the script with the FIFO's path as its last
// argument, and opens it.
func (f *notifyFIFO) open(e *scriptEnv) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := f.cfg.Path
	switch err := syscall.Mkfifo(path, 0o644); {
	case err == nil:
		f.created = true
		owner := e.def
		if f.cfg.Owner.User != "" {
			var lerr error
			if owner, lerr = e.lookup(f.cfg.Owner.User, f.cfg.Owner.Group); lerr != nil {
				f.log.Warn("FIFO owner", "err", lerr)
				owner = e.self
			}
		}
		if owner != e.self {
			if err := syscall.Chown(path, int(owner.uid), int(owner.gid)); err != nil {
				f.log.Warn("cannot set the FIFO's owner", "uid:gid", owner.String(), "err", err)
			}
		}
	case errors.Is(err, syscall.EEXIST):
		// Only a FIFO may be written to: a regular file at a mistyped
		// path would be overwritten with state lines.
		if err := checkFIFO(path); err != nil {
			return err
		}
	default:
		return fmt.Errorf("create %s: %w", path, err)
	}
	if s := f.cfg.Script; s.Cmd != "" {
		if c := e.prepare(f.what+"_script", s.Cmd, s.RunAs, s.Pos()); c != nil {
			// Runs until close stops it (keepalived kills it on exit).
			x := c.cmd(context.Background(), path)
			if err := x.Start(); err != nil {
				f.log.Warn("FIFO script", "err", err)
			} else {
				f.script, f.reaped = x, make(chan struct{})
				go func() {
					err := x.Wait()
					f.log.Info("FIFO script exited", "err", err)
					close(f.reaped)
				}()
			}
		}
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if f.created {
			_ = syscall.Unlink(path)
			f.created = false
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		_ = syscall.Close(fd)
		return fmt.Errorf("%s is not a FIFO", path)
	}
	f.fd = fd
	return nil
}

// checkFIFO returns an error unless path is a FIFO.
func checkFIFO(path string) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return fmt.Errorf("%s exists and is not a FIFO", path)
	}
	return nil
}

// write writes one line without blocking; a line the FIFO has no room for
// is dropped, counted and warned about (the first and every 100th).
func (f *notifyFIFO) write(line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return
	}
	n, err := syscall.Write(f.fd, []byte(line))
	if err == nil && n == len(line) {
		return
	}
	if d := f.dropped.Add(1); d == 1 || d%100 == 0 {
		f.log.Warn("notify FIFO full or failing (is its reader running?); lines dropped", "dropped", d, "line", line[:len(line)-1], "err", err)
	}
}

// close unlinks a FIFO vrrpguard created (first, so a reader that reopens
// it in a loop cannot), closes it, and stops the script.
func (f *notifyFIFO) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.created {
		_ = syscall.Unlink(f.cfg.Path)
		f.created = false
	}
	if f.fd >= 0 {
		_ = syscall.Close(f.fd)
		f.fd = -1
	}
	if f.script != nil {
		select {
		case <-f.reaped:
			// Exited already: its process group id may belong to
			// another process group by now.
			f.script = nil
			return
		default:
		}
		_ = syscall.Kill(-f.script.Process.Pid, syscall.SIGTERM)
		select {
		case <-f.reaped:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-f.script.Process.Pid, syscall.SIGKILL)
			<-f.reaped
		}
		f.script = nil
	}
}
